package query

import (
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// streamableSelectK reports whether topk or bottomk, with hi the largest
// k of any step, can select from its input, a range function call, series
// by series as the function produces them; if so it prepares the call.
// Large k keep the general path, which sorts each step once.
func (ev *evaluator) streamableSelectK(e *parser.AggregateExpr, hi float64) (rangeCall, bool, error) {
	if hi > selectKLinearMax {
		return rangeCall{}, false, nil
	}
	return ev.rangeCallInput(e)
}

// selectKRangeFunc evaluates topk or bottomk over a range function, keeping
// per group and step only the k best samples so far instead of every
// series' points. Series come in input order and an incoming sample only
// displaces kept ones it beats strictly, so the selection and its order are
// those of the general path's stable sort.
func (ev *evaluator) selectKRangeFunc(e *parser.AggregateExpr, c rangeCall, param []float64) (evalMatrix, error) {
	in, release, err := ev.resolveRangeArg(c.arg, c.name)
	if err != nil {
		return nil, err
	}
	defer release()
	ks := make([]int, ev.steps)
	maxK := 0
	for i, p := range param {
		// The general path's k, min(param, series) with series at least
		// any group's size, selects the same samples as param alone.
		if k := int64(p); k >= 1 {
			ks[i] = int(k)
			maxK = max(maxK, ks[i])
		}
	}
	metrics, merges := ev.rangeOutputMetrics(c, in)
	if merges || maxK == 0 || ev.manyGroups(e, in, metrics, maxK) {
		m, err := ev.collectRangeFunc(c, in)
		if err != nil {
			return nil, err
		}
		return ev.aggregateKMatrix(e, m, param)
	}
	cmp := compareNaNLast
	if e.Op == parser.TOPK {
		cmp = func(a, b float64) int { return compareNaNLast(-a, -b) }
	}
	var (
		lb     = labels.NewBuilder(labels.EmptyLabels())
		byHash = map[uint64]int{}
		groups []kGroup
		// The labels and name flag of each input series in the output.
		outNames = make([]labels.Labels, in.len())
		outDrop  = make([]bool, in.len())
	)
	err = ev.streamRangeFunc(c, in, true, func(si int, metric labels.Labels, dropName bool, pts []FPoint) error {
		if metrics != nil {
			metric, dropName = metrics[si], true
		}
		outNames[si], outDrop[si] = metric, dropName
		h := groupingLabels(lb, metric, e.Grouping, e.Without).Hash()
		gi, ok := byHash[h]
		if !ok {
			gi = len(groups)
			byHash[h] = gi
			groups = append(groups, kGroup{sel: make([]stepSample, ev.steps*maxK), n: make([]uint8, ev.steps)})
			if err := ev.grow(ev.steps * maxK); err != nil {
				return err
			}
		}
		g := &groups[gi]
		for _, p := range pts {
			i := ev.stepIndex(p.T)
			if k := ks[i]; k > 0 {
				g.offer(i, k, maxK, stepSample{series: si, f: p.F}, cmp)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	defer ev.release(len(groups) * ev.steps * maxK)
	b := newOutBuilder(ev, len(groups)*maxK)
	for step := 0; step < ev.steps; step++ {
		if err := ev.checkCtx(); err != nil {
			return nil, err
		}
		ts := ev.stepTime(step)
		for gi := range groups {
			g := &groups[gi]
			for _, s := range g.sel[step*maxK : step*maxK+int(g.n[step])] {
				if err := b.add(outNames[s.series], outDrop[s.series], ts, s.f); err != nil {
					return nil, err
				}
			}
		}
	}
	return b.out, nil
}

// kGroup holds one topk or bottomk group's selection at every step: the
// n[i] best samples of step i, best first, in sel[i*maxK:].
type kGroup struct {
	sel []stepSample
	n   []uint8
}

// offer considers s for step i's selection of at most k.
func (g *kGroup) offer(i, k, maxK int, s stepSample, cmp func(a, b float64) int) {
	g.n[i] = uint8(offerK(g.sel[i*maxK:(i+1)*maxK], int(g.n[i]), k, s, cmp))
}

// manyGroups reports whether a topk or bottomk over in has so many groups
// that keeping k samples per group and step would take about as much
// memory as the input's points; metrics are the series' labels after the range
// function, nil if it keeps them.
func (ev *evaluator) manyGroups(e *parser.AggregateExpr, in *rangeInput, metrics []labels.Labels, k int) bool {
	lb := labels.NewBuilder(labels.EmptyLabels())
	seen := map[uint64]struct{}{}
	for i := 0; i < in.len(); i++ {
		var m labels.Labels
		switch {
		case metrics != nil:
			m = metrics[i]
		case in.stored != nil:
			m = in.stored[i].Labels()
		default:
			m = in.sub[i].metric
		}
		seen[groupingLabels(lb, m, e.Grouping, e.Without).Hash()] = struct{}{}
	}
	return len(seen)*k*2 > in.len()
}
