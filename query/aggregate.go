package query

import (
	"fmt"
	"math"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// group is one aggregation group's running state at the current step.
type group struct {
	seen        bool
	value       float64 // sum, min, max or the running sum for avg
	kahanC      float64
	mean        float64 // avg's incremental mean, once the sum overflowed
	incremental bool
	count       float64
}

func (ev *evaluator) aggregate(e *parser.AggregateExpr) (evalMatrix, error) {
	var param []float64
	switch e.Op {
	case parser.SUM, parser.AVG, parser.MIN, parser.MAX, parser.COUNT, parser.GROUP, parser.STDDEV, parser.STDVAR:
	case parser.QUANTILE:
		p, err := ev.scalarArg(e.Param)
		if err != nil {
			return nil, err
		}
		param = p
		ev.annos.invalidQuantiles(param, e.Param.PositionRange())
	case parser.TOPK, parser.BOTTOMK, parser.LIMITK, parser.LIMIT_RATIO:
		return ev.aggregateK(e)
	case parser.COUNT_VALUES:
		return ev.countValues(e)
	default:
		return nil, fmt.Errorf("aggregation %q is not supported yet", e.Op)
	}
	if c, ok, err := ev.streamableRangeCall(e); err != nil || ok {
		if err != nil {
			return nil, err
		}
		return ev.aggregateRangeFunc(e, c)
	}
	in, err := ev.eval(e.Expr)
	if err != nil {
		return nil, err
	}
	return ev.aggregateMatrix(e, in, param)
}

// aggregateMatrix aggregates an evaluated input step by step; param holds
// quantile's argument per step.
func (ev *evaluator) aggregateMatrix(e *parser.AggregateExpr, in evalMatrix, param []float64) (evalMatrix, error) {
	defer ev.release(in.numPoints())
	defer ev.pool.putMatrix(in)

	// Series keep their labels across steps, so each one's group is fixed.
	seriesGroup := make([]int, len(in))
	var groupLabels []labels.Labels
	var groupDropName []bool
	byHash := make(map[uint64]int)
	b := labels.NewBuilder(labels.EmptyLabels())
	for i, s := range in {
		lbls := groupingLabels(b, s.metric, e.Grouping, e.Without)
		h := lbls.Hash()
		g, ok := byHash[h]
		if !ok {
			g = len(groupLabels)
			byHash[h] = g
			groupLabels = append(groupLabels, lbls)
			groupDropName = append(groupDropName, false)
		}
		groupDropName[g] = groupDropName[g] || s.dropName
		seriesGroup[i] = g
	}

	out := make(evalMatrix, len(groupLabels))
	for g := range out {
		out[g] = evalSeries{metric: groupLabels[g], dropName: groupDropName[g]}
	}
	groups := make([]group, len(groupLabels))
	var quantileVals [][]float64
	if e.Op == parser.QUANTILE {
		quantileVals = make([][]float64, len(groupLabels))
	}
	c := newCursor(in)
	for step := 0; step < ev.steps; step++ {
		if err := ev.checkCtx(); err != nil {
			return nil, err
		}
		ts := ev.stepTime(step)
		clear(groups)
		for g := range quantileVals {
			quantileVals[g] = quantileVals[g][:0]
		}
		for _, smp := range c.at(ts) {
			g := seriesGroup[smp.series]
			accumulate(e.Op, &groups[g], smp.f)
			if quantileVals != nil {
				quantileVals[g] = append(quantileVals[g], smp.f)
			}
		}
		for g := range groups {
			if !groups[g].seen {
				continue
			}
			v := groups[g].result(e.Op)
			if quantileVals != nil {
				v = quantile(param[step], quantileVals[g])
			}
			if out[g].points == nil {
				// Groups mostly have a value at every step from their first
				// on: size for that rather than grow by doubling.
				out[g].points = ev.pool.get(ev.steps - step)
			}
			out[g].points = append(out[g].points, FPoint{T: ts, F: v})
			if err := ev.grow(1); err != nil {
				return nil, err
			}
		}
	}
	res := out[:0]
	for _, s := range out {
		if len(s.points) > 0 {
			res = append(res, s)
		}
	}
	return res, nil
}

// groupingLabels returns the labels of the group a series with metric
// falls in: only the by() labels, or all but the without() labels and the
// metric name.
func groupingLabels(b *labels.Builder, metric labels.Labels, grouping []string, without bool) labels.Labels {
	if !without && len(grouping) == 0 {
		return labels.EmptyLabels()
	}
	b.Reset(metric)
	if without {
		b.Del(grouping...)
		b.Del(labels.MetricName, "__type__", "__unit__") // isMetadataLabel's
	} else {
		b.Keep(grouping...)
	}
	return b.Labels()
}

func accumulate(op parser.ItemType, g *group, f float64) {
	if !g.seen {
		*g = group{seen: true, value: f, mean: f, count: 1}
		switch op {
		case parser.GROUP:
			g.value = 1
		case parser.STDDEV, parser.STDVAR:
			// value holds the sum of squared deviations; a first value that
			// is not finite makes the whole result NaN.
			g.value = 0
			if math.IsNaN(f) || math.IsInf(f, 0) {
				g.value = math.NaN()
			}
		}
		return
	}
	switch op {
	case parser.SUM:
		g.value, g.kahanC = kahanInc(f, g.value, g.kahanC)
	case parser.AVG:
		// Direct mean with Kahan summation is the more accurate; fall back
		// to an incremental mean only once the sum would overflow.
		g.count++
		if !g.incremental {
			s, c := kahanInc(f, g.value, g.kahanC)
			if !math.IsInf(s, 0) {
				g.value, g.kahanC = s, c
				return
			}
			g.incremental = true
			g.mean = g.value / (g.count - 1)
			g.kahanC /= g.count - 1
		}
		q := (g.count - 1) / g.count
		g.mean, g.kahanC = kahanInc(f/g.count, q*g.mean, q*g.kahanC)
	case parser.MIN:
		if g.value > f || math.IsNaN(g.value) {
			g.value = f
		}
	case parser.MAX:
		if g.value < f || math.IsNaN(g.value) {
			g.value = f
		}
	case parser.COUNT:
		g.count++
	case parser.STDDEV, parser.STDVAR:
		// Welford's online algorithm.
		g.count++
		delta := f - g.mean
		g.mean += delta / g.count
		g.value += delta * (f - g.mean)
	}
}

func (g *group) result(op parser.ItemType) float64 {
	switch op {
	case parser.SUM:
		return g.value + g.kahanC
	case parser.AVG:
		if g.incremental {
			return g.mean + g.kahanC
		}
		return g.value/g.count + g.kahanC/g.count
	case parser.COUNT:
		return g.count
	case parser.STDVAR:
		return g.value / g.count
	case parser.STDDEV:
		return math.Sqrt(g.value / g.count)
	}
	return g.value
}
