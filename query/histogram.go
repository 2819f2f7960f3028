package query

import (
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/parser/posrange"
)

// smallDeltaTolerance is the relative difference between adjacent bucket
// counts that is treated as floating-point noise, as in Prometheus.
const smallDeltaTolerance = 1e-12

// bucket is one cumulative bucket of a classic histogram.
type bucket struct {
	upper float64
	count float64
}

// bucketGroups collects, step by step, the buckets of the classic
// histograms in a vector: series that differ only in their le label.
type bucketGroups struct {
	seriesGroup []int     // group of each input series, -1 for a bad le
	seriesUpper []float64 // upper bound of each input series
	metrics     []labels.Labels
	dropName    []bool
	buckets     [][]bucket // the current step's buckets per group
}

func newBucketGroups(m evalMatrix) *bucketGroups {
	g := &bucketGroups{seriesGroup: make([]int, len(m)), seriesUpper: make([]float64, len(m))}
	index := map[string]int{}
	var buf []byte
	for i, s := range m {
		upper, err := strconv.ParseFloat(s.metric.Get(labels.BucketLabel), 64)
		if err != nil || math.IsNaN(upper) {
			g.seriesGroup[i] = -1
			continue
		}
		buf = s.metric.BytesWithoutLabels(buf, labels.BucketLabel)
		gi, ok := index[string(buf)]
		if !ok {
			gi = len(g.metrics)
			index[string(buf)] = gi
			g.metrics = append(g.metrics, labels.NewBuilder(s.metric).Del(labels.BucketLabel).Labels())
			g.dropName = append(g.dropName, false)
		}
		g.dropName[gi] = g.dropName[gi] || s.dropName
		g.seriesGroup[i], g.seriesUpper[i] = gi, upper
	}
	g.buckets = make([][]bucket, len(g.metrics))
	return g
}

// scalarArgs evaluates scalar arguments to their values at every step.
func (ev *evaluator) scalarArgs(args []parser.Expr) ([][]float64, error) {
	params := make([][]float64, len(args))
	for i, a := range args {
		vals, err := ev.scalarArg(a)
		if err != nil {
			return nil, err
		}
		params[i] = vals
	}
	return params, nil
}

// histogramOutput says what a function of classic histograms returns per
// histogram: n values, the k-th computed by value and labelled by metric
// (nil keeps the histogram's labels).
type histogramOutput struct {
	n      int
	value  func(p []float64, b []bucket, hist labels.Labels, ts int64, k int) float64
	metric func(hist labels.Labels, k int) labels.Labels
}

// histogramFunc evaluates a function of classic histograms: each group of
// bucket series, at each step, with the scalar arguments' values there.
func (ev *evaluator) histogramFunc(params [][]float64, vecArg parser.Expr, o histogramOutput) (evalMatrix, error) {
	m, err := ev.eval(vecArg)
	if err != nil {
		return nil, err
	}
	defer ev.release(m.numPoints())
	g := newBucketGroups(m)
	out := make(evalMatrix, len(g.metrics)*o.n)
	for gi := range g.metrics {
		for k := 0; k < o.n; k++ {
			metric := g.metrics[gi]
			if o.metric != nil {
				metric = o.metric(metric, k)
			}
			out[gi*o.n+k] = evalSeries{metric: metric, dropName: g.dropName[gi]}
		}
	}
	p := make([]float64, len(params))
	var scratch []bucket
	c := newCursor(m)
	for step := 0; step < ev.steps; step++ {
		if err := ev.checkCtx(); err != nil {
			return nil, err
		}
		ts := ev.stepTime(step)
		for i := range g.buckets {
			g.buckets[i] = g.buckets[i][:0]
		}
		for _, smp := range c.at(ts) {
			gi := g.seriesGroup[smp.series]
			if gi < 0 {
				ev.badBucketLabel(m[smp.series].metric, vecArg.PositionRange())
				continue
			}
			g.buckets[gi] = append(g.buckets[gi], bucket{upper: g.seriesUpper[smp.series], count: smp.f})
		}
		for i := range params {
			p[i] = params[i][step]
		}
		for gi, b := range g.buckets {
			if len(b) == 0 {
				continue
			}
			for k := 0; k < o.n; k++ {
				// The computations sort and merge buckets in place, so each
				// one gets its own copy.
				scratch = append(scratch[:0], b...)
				v := o.value(p, scratch, g.metrics[gi], ts, k)
				out[gi*o.n+k].points = append(out[gi*o.n+k].points, FPoint{T: ts, F: v})
			}
			if err := ev.grow(o.n); err != nil {
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
	return ev.dropNames(res)
}

func (ev *evaluator) funcHistogramQuantile(e *parser.Call) (evalMatrix, error) {
	params, err := ev.scalarArgs(e.Args[:1])
	if err != nil {
		return nil, err
	}
	for _, q := range params[0] {
		ev.annos.invalidQuantile(q, e.Args[0].PositionRange())
	}
	return ev.histogramFunc(params, e.Args[1], histogramOutput{n: 1, value: func(p []float64, b []bucket, hist labels.Labels, ts int64, _ int) float64 {
		return ev.annotatedQuantile(p[0], b, hist, ts, e.Args[1].PositionRange())
	}})
}

// funcHistogramQuantiles computes several quantiles of each histogram at
// once, one output series per quantile, told apart by a label.
func (ev *evaluator) funcHistogramQuantiles(e *parser.Call) (evalMatrix, error) {
	lbl, err := stringArg(e.Args[1])
	if err != nil {
		return nil, err
	}
	params, err := ev.scalarArgs(e.Args[2:])
	if err != nil {
		return nil, err
	}
	for i, qs := range params {
		for _, q := range qs {
			ev.annos.invalidQuantile(q, e.Args[i+2].PositionRange())
		}
	}
	lb := labels.NewBuilder(labels.EmptyLabels())
	return ev.histogramFunc(params, e.Args[0], histogramOutput{
		n: len(params),
		value: func(p []float64, b []bucket, hist labels.Labels, ts int64, k int) float64 {
			return ev.annotatedQuantile(p[k], b, hist, ts, e.Args[0].PositionRange())
		},
		metric: func(hist labels.Labels, k int) labels.Labels {
			// A quantile that varies by step gets the first step's value
			// as its label.
			lb.Reset(hist)
			return lb.Set(lbl, labels.FormatOpenMetricsFloat(params[k][0])).Labels()
		},
	})
}

// annotatedQuantile is bucketQuantile, noting any monotonicity fix.
func (ev *evaluator) annotatedQuantile(q float64, b []bucket, hist labels.Labels, ts int64, pos posrange.PositionRange) float64 {
	v, fix := bucketQuantile(q, b)
	if fix.forced {
		name := ""
		if ev.delayedNameRemoval {
			name = hist.Get(labels.MetricName)
		}
		ev.annos.forcedMonotonicity(name, pos, ts, fix.minBucket, fix.maxBucket, fix.maxDiff)
	}
	return v
}

func (ev *evaluator) funcHistogramFraction(e *parser.Call) (evalMatrix, error) {
	params, err := ev.scalarArgs(e.Args[:2])
	if err != nil {
		return nil, err
	}
	return ev.histogramFunc(params, e.Args[2], histogramOutput{n: 1, value: func(p []float64, b []bucket, _ labels.Labels, _ int64, _ int) float64 {
		return bucketFraction(p[0], p[1], b)
	}})
}

// badBucketLabel warns about a bucket series whose le label is missing or
// not a number; it is left out of the histogram.
func (ev *evaluator) badBucketLabel(metric labels.Labels, pos posrange.PositionRange) {
	msg := msgBadBucketLabel
	args := []any{metric.Get(labels.BucketLabel)}
	if name := metric.Get(labels.MetricName); ev.delayedNameRemoval && name != "" {
		msg += " for metric name %q"
		args = append(args, name)
	}
	ev.annos.warn(pos, msg, args...)
}

// monotonicityFixed describes how ensureMonotonic changed a histogram's
// buckets, for the annotation reporting it.
type monotonicityFixed struct {
	forced                        bool
	minBucket, maxBucket, maxDiff float64
}

// sortCoalesce sorts buckets by upper bound and merges those with the
// same bound. It reports false when there is no +Inf bucket, without which
// the total count is unknown.
func sortCoalesce(b []bucket) ([]bucket, bool) {
	slices.SortFunc(b, func(x, y bucket) int {
		switch {
		case x.upper < y.upper:
			return -1
		case x.upper > y.upper:
			return 1
		}
		return 0
	})
	if !math.IsInf(b[len(b)-1].upper, 1) {
		return b, false
	}
	i := 0
	for _, x := range b[1:] {
		if x.upper == b[i].upper {
			b[i].count += x.count
			continue
		}
		i++
		b[i] = x
	}
	return b[:i+1], true
}

// ensureMonotonic removes decreases between successive cumulative counts,
// which inconsistent data or rounding can introduce and which would break
// the quantile's binary search. Differences within smallDeltaTolerance
// are flattened in either direction.
func ensureMonotonic(b []bucket) monotonicityFixed {
	fix := monotonicityFixed{minBucket: math.Inf(1), maxBucket: math.Inf(-1)}
	prev := b[0].count
	for i := 1; i < len(b); i++ {
		cur := b[i].count
		switch {
		case cur == prev:
		case almostEqual(prev, cur, smallDeltaTolerance):
			b[i].count = prev
		case cur < prev:
			b[i].count = prev
			fix.forced = true
			fix.minBucket = math.Min(fix.minBucket, b[i].upper)
			fix.maxBucket = math.Max(fix.maxBucket, b[i].upper)
			fix.maxDiff = math.Max(fix.maxDiff, prev-cur)
		default:
			prev = cur
		}
	}
	return fix
}

// almostEqual compares with a relative tolerance, as Prometheus's
// util/almost does.
func almostEqual(a, b, epsilon float64) bool {
	const minNormal = 2.2250738585072014e-308
	if math.IsNaN(a) && math.IsNaN(b) {
		return true
	}
	if a == b {
		return true
	}
	absSum := math.Abs(a) + math.Abs(b)
	diff := math.Abs(a - b)
	if a == 0 || b == 0 || absSum < minNormal {
		return diff < epsilon*minNormal
	}
	return diff/math.Min(absSum, math.MaxFloat64) < epsilon
}

// bucketQuantile estimates the q-quantile of a classic histogram by
// linear interpolation within the bucket the rank falls in, assuming the
// lowest bucket starts at 0 if its bound is positive.
func bucketQuantile(q float64, b []bucket) (float64, monotonicityFixed) {
	var fix monotonicityFixed
	switch {
	case math.IsNaN(q):
		return math.NaN(), fix
	case q < 0:
		return math.Inf(-1), fix
	case q > 1:
		return math.Inf(1), fix
	}
	b, ok := sortCoalesce(b)
	if !ok {
		return math.NaN(), fix
	}
	fix = ensureMonotonic(b)
	if len(b) < 2 {
		return math.NaN(), fix
	}
	observations := b[len(b)-1].count
	if observations == 0 {
		return math.NaN(), fix
	}
	rank := q * observations
	i := sort.Search(len(b)-1, func(i int) bool { return b[i].count >= rank })
	switch {
	case i == len(b)-1:
		return b[len(b)-2].upper, fix
	case i == 0 && b[0].upper <= 0:
		return b[0].upper, fix
	}
	start, end, count := 0.0, b[i].upper, b[i].count
	if i > 0 {
		start = b[i-1].upper
		count -= b[i-1].count
		rank -= b[i-1].count
	}
	return start + (end-start)*(rank/count), fix
}

// bucketFraction estimates the fraction of observations between lower
// and upper, interpolating linearly within buckets.
func bucketFraction(lower, upper float64, b []bucket) float64 {
	b, ok := sortCoalesce(b)
	if !ok {
		return math.NaN()
	}
	count := b[len(b)-1].count
	if count == 0 || math.IsNaN(lower) || math.IsNaN(upper) {
		return math.NaN()
	}
	if lower >= upper {
		return 0
	}
	var (
		rank, lowerRank, upperRank float64
		lowerSet, upperSet         bool
	)
	lowerBound := 0.0
	if b[0].upper <= 0 {
		lowerBound = math.Inf(-1)
	}
	for i, bk := range b {
		if i > 0 {
			lowerBound = b[i-1].upper
		}
		upperBound := bk.upper
		interpolate := func(v float64) float64 {
			// Nothing can be interpolated in a bucket reaching -Inf; count
			// it whole, as the +Inf bucket is not counted at all.
			if math.IsInf(lowerBound, -1) {
				return bk.count
			}
			return rank + (bk.count-rank)*(v-lowerBound)/(upperBound-lowerBound)
		}
		if !lowerSet && lowerBound >= lower {
			lowerRank, lowerSet = rank, true
		}
		if !upperSet && lowerBound >= upper {
			upperRank, upperSet = rank, true
		}
		if lowerSet && upperSet {
			break
		}
		if !lowerSet && lowerBound < lower && upperBound > lower {
			lowerRank, lowerSet = interpolate(lower), true
		}
		if !upperSet && lowerBound < upper && upperBound > upper {
			upperRank, upperSet = interpolate(upper), true
		}
		if lowerSet && upperSet {
			break
		}
		rank = bk.count
	}
	if !lowerSet || lowerRank > count {
		lowerRank = count
	}
	if !upperSet || upperRank > count {
		upperRank = count
	}
	return (upperRank - lowerRank) / count
}
