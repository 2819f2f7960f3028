package query

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// aggregateK evaluates topk, bottomk, limitk and limit_ratio, which keep
// whole input series (labels and all) rather than building new ones. In an
// instant query, topk's result is in descending and bottomk's in ascending
// order within each group.
func (ev *evaluator) aggregateK(e *parser.AggregateExpr) (evalMatrix, error) {
	param, err := ev.scalarArg(e.Param)
	if err != nil {
		return nil, err
	}
	lo, hi, hasNaN := math.Inf(1), math.Inf(-1), false
	for _, p := range param {
		if math.IsNaN(p) {
			hasNaN = true
			continue
		}
		lo, hi = math.Min(lo, p), math.Max(hi, p)
	}
	if e.Op == parser.LIMIT_RATIO {
		if lo == 0 && hi == 0 && !hasNaN {
			return evalMatrix{}, nil
		}
		if hasNaN {
			return nil, errors.New("Ratio value is NaN")
		}
		if hi > 1 {
			ev.annos.warn(e.Param.PositionRange(), msgInvalidRatio, hi, 1.0)
		}
		if lo < -1 {
			ev.annos.warn(e.Param.PositionRange(), msgInvalidRatio, lo, -1.0)
		}
	} else {
		if hi < 1 && !hasNaN {
			return evalMatrix{}, nil
		}
		switch {
		case hasNaN:
			return nil, errors.New("Parameter value is NaN")
		case lo <= math.MinInt64:
			return nil, fmt.Errorf("Scalar value %v underflows int64", lo)
		case hi >= math.MaxInt64:
			return nil, fmt.Errorf("Scalar value %v overflows int64", hi)
		}
	}

	if e.Op == parser.TOPK || e.Op == parser.BOTTOMK {
		if c, ok, err := ev.streamableSelectK(e, hi); err != nil || ok {
			if err != nil {
				return nil, err
			}
			return ev.selectKRangeFunc(e, c, param)
		}
	}
	in, err := ev.eval(e.Expr)
	if err != nil {
		return nil, err
	}
	return ev.aggregateKMatrix(e, in, param)
}

// aggregateKMatrix evaluates topk, bottomk, limitk or limit_ratio over an
// evaluated input, step by step; param is the first argument per step.
func (ev *evaluator) aggregateKMatrix(e *parser.AggregateExpr, in evalMatrix, param []float64) (evalMatrix, error) {
	defer ev.release(in.numPoints())
	defer ev.pool.putMatrix(in)

	seriesGroup, numGroups := groupIndexes(in, e.Grouping, e.Without)
	members := make([][]stepSample, numGroups)
	var offsets []float64 // limit_ratio's per-series sampling offsets
	if e.Op == parser.LIMIT_RATIO {
		offsets = make([]float64, len(in))
		for i, s := range in {
			offsets[i] = float64(s.metric.Hash()) / float64(math.MaxUint64)
		}
	}
	b := newOutBuilder(ev, len(in))
	c := newCursor(in)
	for step := 0; step < ev.steps; step++ {
		if err := ev.checkCtx(); err != nil {
			return nil, err
		}
		ts := ev.stepTime(step)
		smps := c.at(ts)
		k := min(int64(param[step]), int64(len(in)))
		r := max(-1, min(1, param[step]))
		if e.Op == parser.LIMIT_RATIO && r == 0 || e.Op != parser.LIMIT_RATIO && k < 1 {
			continue
		}
		for g := range members {
			members[g] = members[g][:0]
		}
		for _, smp := range smps {
			g := seriesGroup[smp.series]
			members[g] = append(members[g], smp)
		}
		for _, ms := range members {
			switch e.Op {
			case parser.TOPK:
				ms = selectK(ms, k, func(a, b float64) int { return compareNaNLast(-a, -b) })
			case parser.BOTTOMK:
				ms = selectK(ms, k, compareNaNLast)
			case parser.LIMIT_RATIO:
				kept := ms[:0]
				for _, m := range ms {
					if keepRatio(r, offsets[m.series]) {
						kept = append(kept, m)
					}
				}
				ms = kept
			}
			if e.Op != parser.LIMIT_RATIO && int64(len(ms)) > k {
				ms = ms[:k]
			}
			for _, m := range ms {
				s := in[m.series]
				if err := b.add(s.metric, s.dropName, ts, m.f); err != nil {
					return nil, err
				}
			}
		}
	}
	return b.out, nil
}

// keepRatio reports whether limit_ratio(r, ...) keeps a series with the
// given sampling offset in [0, 1): a positive r keeps offsets below r, a
// negative r the complementary set above 1+r.
func keepRatio(r, offset float64) bool {
	if r >= 0 {
		return offset < r
	}
	return offset >= 1+r
}

// groupIndexes assigns each series the ordinal of its aggregation group,
// in order of first appearance.
func groupIndexes(m evalMatrix, grouping []string, without bool) ([]int, int) {
	idx := make([]int, len(m))
	byHash := make(map[uint64]int)
	b := labels.NewBuilder(labels.EmptyLabels())
	for i, s := range m {
		h := groupingLabels(b, s.metric, grouping, without).Hash()
		g, ok := byHash[h]
		if !ok {
			g = len(byHash)
			byHash[h] = g
		}
		idx[i] = g
	}
	return idx, len(byHash)
}

// countValues evaluates count_values: per step, how many series of each
// group have each value, the value going into the named label.
func (ev *evaluator) countValues(e *parser.AggregateExpr) (evalMatrix, error) {
	lbl, err := stringArg(e.Param)
	if err != nil {
		return nil, err
	}
	if !model.UTF8Validation.IsValidLabelName(lbl) {
		return nil, fmt.Errorf("invalid label name %q", lbl)
	}
	grouping := e.Grouping
	if !e.Without {
		grouping = append(slices.Clone(grouping), lbl)
	}
	in, err := ev.eval(e.Expr)
	if err != nil {
		return nil, err
	}
	defer ev.release(in.numPoints())

	type counted struct {
		metric labels.Labels
		n      float64
	}
	var (
		lb     = labels.NewBuilder(labels.EmptyLabels())
		gb     = labels.NewBuilder(labels.EmptyLabels())
		counts = map[uint64]*counted{}
		order  []uint64
		b      = newOutBuilder(ev, len(in))
		c      = newCursor(in)
	)
	for step := 0; step < ev.steps; step++ {
		if err := ev.checkCtx(); err != nil {
			return nil, err
		}
		ts := ev.stepTime(step)
		clear(counts)
		order = order[:0]
		for _, smp := range c.at(ts) {
			lb.Reset(in[smp.series].metric)
			lb.Set(lbl, strconv.FormatFloat(smp.f, 'f', -1, 64))
			g := groupingLabels(gb, lb.Labels(), grouping, e.Without)
			h := g.Hash()
			if cnt, ok := counts[h]; ok {
				cnt.n++
				continue
			}
			counts[h] = &counted{metric: g, n: 1}
			order = append(order, h)
		}
		for _, h := range order {
			if err := b.add(counts[h].metric, false, ts, counts[h].n); err != nil {
				return nil, err
			}
		}
	}
	return b.out, nil
}
