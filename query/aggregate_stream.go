package query

import (
	"math"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// streamableRangeCall reports whether an aggregation can consume its input,
// a range function call, series by series as the function produces them,
// without holding the function's whole result; if so it resolves the
// call's scalar arguments, as evaluating the call would.
func (ev *evaluator) streamableRangeCall(e *parser.AggregateExpr) (rangeCall, bool, error) {
	switch e.Op {
	case parser.SUM, parser.AVG, parser.MIN, parser.MAX, parser.COUNT, parser.GROUP, parser.STDDEV, parser.STDVAR:
	default:
		return rangeCall{}, false, nil
	}
	return ev.rangeCallInput(e)
}

// rangeCallInput prepares an aggregation's input when it is a call of a
// range function that can be computed series by series for it.
func (ev *evaluator) rangeCallInput(e *parser.AggregateExpr) (rangeCall, bool, error) {
	call, ok := unwrapParens(e.Expr).(*parser.Call)
	if !ok {
		return rangeCall{}, false, nil
	}
	rf, ok := rangeFunctions[call.Func.Name]
	// quantile_over_time annotates every output point: keep it on the
	// general path.
	if !ok || call.Func.Name == "quantile_over_time" {
		return rangeCall{}, false, nil
	}
	c, _, err := ev.prepareRangeCall(call, rf)
	if err != nil {
		return rangeCall{}, false, err
	}
	return c, true, nil
}

// aggregateRangeFunc aggregates a range function's result as each series
// of it is computed. Every (group, step) sees its series in input order,
// as the step-by-step aggregation does, so sums round identically.
func (ev *evaluator) aggregateRangeFunc(e *parser.AggregateExpr, c rangeCall) (evalMatrix, error) {
	in, release, err := ev.resolveRangeArg(c.arg, c.name)
	if err != nil {
		return nil, err
	}
	defer release()
	metrics, merges := ev.rangeOutputMetrics(c, in)
	if merges {
		// Series that become one once their names go are merged before
		// aggregating, which only the step-by-step path does.
		m, err := ev.collectRangeFunc(c, in)
		if err != nil {
			return nil, err
		}
		return ev.aggregateMatrix(e, m, nil)
	}
	agg := &streamAgg{ev: ev, e: e, lb: labels.NewBuilder(labels.EmptyLabels()), byHash: map[uint64]int{}}
	err = ev.streamRangeFunc(c, in, true, func(i int, metric labels.Labels, dropName bool, pts []FPoint) error {
		if metrics != nil {
			metric, dropName = metrics[i], true
		}
		return agg.add(metric, dropName, pts)
	})
	if err != nil {
		return nil, err
	}
	return agg.result(), nil
}

// rangeOutputMetrics returns the labels each input series has once the
// range function dropped its name (nil if the function keeps it), and
// whether two series end up with the same labels.
func (ev *evaluator) rangeOutputMetrics(c rangeCall, in *rangeInput) (metrics []labels.Labels, merges bool) {
	if c.keepName {
		return nil, false
	}
	metrics = make([]labels.Labels, in.len())
	seen := make(map[uint64]struct{}, in.len())
	for i := range metrics {
		var m labels.Labels
		if in.stored != nil {
			m = in.stored[i].Labels()
		} else {
			m = in.sub[i].metric
		}
		if !ev.delayedNameRemoval {
			m = m.DropReserved(isMetadataLabel)
		}
		metrics[i] = m
		h := m.Hash()
		if _, dup := seen[h]; dup {
			merges = true
		}
		seen[h] = struct{}{}
	}
	// With delayed name removal nothing merges until the query's end.
	return metrics, merges && !ev.delayedNameRemoval
}

// streamAgg accumulates an aggregation over whole series, holding one
// state per group and step instead of the input's points.
type streamAgg struct {
	ev     *evaluator
	e      *parser.AggregateExpr
	lb     *labels.Builder
	byHash map[uint64]int
	groups []streamGroup
}

// streamGroup is one group's state at every step. pts holds the running
// value (sum, min, max, count or 1); until result turns it into the
// series, a point's T is free, and sum keeps there the bits of its Kahan
// compensation, which saves a third of the state of the most common
// aggregation. seen marks the steps that have a value; full is the state
// of avg, stddev and stdvar, which need more than one number.
type streamGroup struct {
	metric   labels.Labels
	dropName bool
	pts      []FPoint
	seen     []uint64
	full     []group
}

func (a *streamAgg) add(metric labels.Labels, dropName bool, pts []FPoint) error {
	ev := a.ev
	lbls := groupingLabels(a.lb, metric, a.e.Grouping, a.e.Without)
	h := lbls.Hash()
	gi, ok := a.byHash[h]
	if !ok {
		gi = len(a.groups)
		a.byHash[h] = gi
		g := streamGroup{metric: lbls, pts: ev.pool.get(ev.steps)[:ev.steps], seen: make([]uint64, (ev.steps+63)/64)}
		switch a.e.Op {
		case parser.AVG, parser.STDDEV, parser.STDVAR:
			g.full = make([]group, ev.steps)
		}
		a.groups = append(a.groups, g)
		if err := ev.grow(ev.steps); err != nil {
			return err
		}
	}
	g := &a.groups[gi]
	g.dropName = g.dropName || dropName
	op := a.e.Op
	for _, p := range pts {
		i := ev.stepIndex(p.T)
		st := &g.pts[i]
		f := p.F
		word, bit := i/64, uint64(1)<<(i%64)
		if g.seen[word]&bit == 0 {
			g.seen[word] |= bit
			switch op {
			case parser.COUNT, parser.GROUP:
				*st = FPoint{F: 1}
			case parser.AVG, parser.STDDEV, parser.STDVAR:
				accumulate(op, &g.full[i], f)
			default: // sum, min and max start from the first value
				*st = FPoint{F: f}
			}
			continue
		}
		switch op {
		case parser.SUM:
			var c float64
			st.F, c = kahanInc(f, st.F, math.Float64frombits(uint64(st.T)))
			st.T = int64(math.Float64bits(c))
		case parser.MIN:
			if st.F > f || math.IsNaN(st.F) {
				st.F = f
			}
		case parser.MAX:
			if st.F < f || math.IsNaN(st.F) {
				st.F = f
			}
		case parser.COUNT:
			st.F++
		case parser.GROUP:
		default:
			accumulate(op, &g.full[i], f)
		}
	}
	return nil
}

// result turns the groups' states into their series, in the order the
// groups first had a value.
func (a *streamAgg) result() evalMatrix {
	ev := a.ev
	out := make(evalMatrix, 0, len(a.groups))
	for gi := range a.groups {
		g := &a.groups[gi]
		n := 0
		for i, p := range g.pts {
			if g.seen[i/64]&(uint64(1)<<(i%64)) == 0 {
				continue
			}
			switch a.e.Op {
			case parser.SUM:
				p.F += math.Float64frombits(uint64(p.T))
			case parser.AVG, parser.STDDEV, parser.STDVAR:
				p.F = g.full[i].result(a.e.Op)
			}
			g.pts[n] = FPoint{T: ev.stepTime(i), F: p.F}
			n++
		}
		ev.release(len(g.pts) - n)
		out = append(out, evalSeries{metric: g.metric, dropName: g.dropName, points: g.pts[:n]})
	}
	return out
}
