package query

import (
	"fmt"
	"math"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/parser/posrange"
)

// rangeFunction describes a function over a range vector. keepName marks
// those whose result is still the input metric (they act like an offset),
// so its name survives; check validates scalar arguments.
type rangeFunction struct {
	fn       rangeFunc
	keepName bool
	check    func(p1, p2 float64) error
	// counter marks the functions that need the window's counter resets
	// (window.resetPrev).
	counter bool
}

// rangeFunctions are the implemented functions over a range vector.
var rangeFunctions = map[string]rangeFunction{
	"rate":                         {fn: func(w window) (float64, bool) { return extrapolatedRate(w, true, true) }, counter: true},
	"increase":                     {fn: func(w window) (float64, bool) { return extrapolatedRate(w, true, false) }, counter: true},
	"delta":                        {fn: func(w window) (float64, bool) { return extrapolatedRate(w, false, false) }},
	"irate":                        {fn: func(w window) (float64, bool) { return instantValue(w, true) }},
	"idelta":                       {fn: func(w window) (float64, bool) { return instantValue(w, false) }},
	"sum_over_time":                {fn: sumOverTime},
	"avg_over_time":                {fn: avgOverTime},
	"min_over_time":                {fn: minOverTime},
	"max_over_time":                {fn: maxOverTime},
	"count_over_time":              {fn: countOverTime},
	"last_over_time":               {fn: lastOverTime, keepName: true},
	"first_over_time":              {fn: firstOverTime, keepName: true},
	"ts_of_first_over_time":        {fn: tsOfFirstOverTime},
	"ts_of_last_over_time":         {fn: tsOfLastOverTime},
	"ts_of_min_over_time":          {fn: tsOfMinOverTime},
	"ts_of_max_over_time":          {fn: tsOfMaxOverTime},
	"present_over_time":            {fn: presentOverTime},
	"quantile_over_time":           {fn: quantileOverTime},
	"stddev_over_time":             {fn: func(w window) (float64, bool) { return math.Sqrt(variance(w.points)), true }},
	"stdvar_over_time":             {fn: func(w window) (float64, bool) { return variance(w.points), true }},
	"mad_over_time":                {fn: madOverTime},
	"changes":                      {fn: changes},
	"resets":                       {fn: resets},
	"deriv":                        {fn: deriv},
	"predict_linear":               {fn: predictLinear},
	"double_exponential_smoothing": {fn: doubleExponentialSmoothing, check: checkSmoothingFactors},
}

// mathFunctions are the element-wise functions of one instant vector
// without further arguments; they all drop the metric name.
var mathFunctions = map[string]func(float64) float64{
	"abs":   math.Abs,
	"ceil":  math.Ceil,
	"floor": math.Floor,
	"sqrt":  math.Sqrt,
	"exp":   math.Exp,
	"ln":    math.Log,
	"log2":  math.Log2,
	"log10": math.Log10,
	"sin":   math.Sin,
	"cos":   math.Cos,
	"tan":   math.Tan,
	"asin":  math.Asin,
	"acos":  math.Acos,
	"atan":  math.Atan,
	"sinh":  math.Sinh,
	"cosh":  math.Cosh,
	"tanh":  math.Tanh,
	"asinh": math.Asinh,
	"acosh": math.Acosh,
	"atanh": math.Atanh,
	"deg":   func(f float64) float64 { return f * (180 / math.Pi) },
	"rad":   func(f float64) float64 { return f * (math.Pi / 180) },
	"sgn":   sgn,
}

// dateFunctions extract a calendar field, in UTC, from Unix timestamps in
// seconds.
var dateFunctions = map[string]func(time.Time) float64{
	"day_of_month": func(t time.Time) float64 { return float64(t.Day()) },
	"day_of_week":  func(t time.Time) float64 { return float64(t.Weekday()) },
	"day_of_year":  func(t time.Time) float64 { return float64(t.YearDay()) },
	"days_in_month": func(t time.Time) float64 {
		return float64(32 - time.Date(t.Year(), t.Month(), 32, 0, 0, 0, 0, time.UTC).Day())
	},
	"hour":   func(t time.Time) float64 { return float64(t.Hour()) },
	"minute": func(t time.Time) float64 { return float64(t.Minute()) },
	"month":  func(t time.Time) float64 { return float64(t.Month()) },
	"year":   func(t time.Time) float64 { return float64(t.Year()) },
}

func sgn(f float64) float64 {
	switch {
	case f < 0:
		return -1
	case f > 0:
		return 1
	}
	return f // 0, -0 and NaN are their own sign
}

func (ev *evaluator) call(e *parser.Call) (evalMatrix, error) {
	name := e.Func.Name
	if rf, ok := rangeFunctions[name]; ok {
		return ev.callRangeFunc(e, rf)
	}
	if fn, ok := mathFunctions[name]; ok && len(e.Args) == 1 {
		return ev.mapVector(e.Args[0], nil, func(f float64, _ []float64) (float64, bool) { return fn(f), true })
	}
	if fn, ok := dateFunctions[name]; ok {
		return ev.dateFunc(e, fn)
	}
	switch name {
	case "time":
		return ev.funcTime()
	case "pi":
		return ev.constant(math.Pi)
	case "start":
		return ev.constant(float64(ev.queryStart) / 1000)
	case "end":
		return ev.constant(float64(ev.queryEnd) / 1000)
	case "range":
		return ev.constant(float64(ev.queryEnd-ev.queryStart) / 1000)
	case "step":
		return ev.constant(float64(ev.queryStep) / 1000)
	case "min_of", "max_of":
		return ev.minMaxOf(e)
	case "vector":
		return ev.funcVector(e)
	case "scalar":
		return ev.funcScalar(e)
	case "round":
		return ev.mapVector(e.Args[0], e.Args[1:], func(f float64, p []float64) (float64, bool) {
			toNearest := 1.0
			if len(p) > 0 {
				toNearest = p[0]
			}
			// Dividing by the inverse rounds more predictably; ties round up.
			inv := 1.0 / toNearest
			return math.Floor(f*inv+0.5) / inv, true
		})
	case "clamp":
		return ev.mapVector(e.Args[0], e.Args[1:], func(f float64, p []float64) (float64, bool) { return clamp(f, p[0], p[1]) })
	case "clamp_min":
		return ev.mapVector(e.Args[0], e.Args[1:], func(f float64, p []float64) (float64, bool) { return clamp(f, p[0], math.Inf(1)) })
	case "clamp_max":
		return ev.mapVector(e.Args[0], e.Args[1:], func(f float64, p []float64) (float64, bool) { return clamp(f, math.Inf(-1), p[0]) })
	case "timestamp":
		return ev.funcTimestamp(e)
	case "absent":
		return ev.funcAbsent(e)
	case "absent_over_time":
		return ev.funcAbsentOverTime(e)
	case "sort", "sort_desc", "sort_by_label", "sort_by_label_desc":
		return ev.funcSort(e)
	case "label_replace":
		return ev.funcLabelReplace(e)
	case "label_join":
		return ev.funcLabelJoin(e)
	case "histogram_quantile":
		return ev.funcHistogramQuantile(e)
	case "histogram_quantiles":
		return ev.funcHistogramQuantiles(e)
	case "histogram_fraction":
		return ev.funcHistogramFraction(e)
	}
	return nil, fmt.Errorf("function %q is not supported yet", name)
}

// callRangeFunc applies a function with one range-vector argument; its
// other arguments are scalars, passed per step.
func (ev *evaluator) callRangeFunc(e *parser.Call, rf rangeFunction) (evalMatrix, error) {
	c, argPos, err := ev.prepareRangeCall(e, rf)
	if err != nil {
		return nil, err
	}
	m, err := ev.evalRangeFunc(c)
	if err == nil && c.name == "quantile_over_time" {
		for _, s := range m {
			for _, p := range s.points {
				ev.annos.invalidQuantile(c.p1[ev.stepIndex(p.T)], argPos)
			}
		}
	}
	return m, err
}

// prepareRangeCall resolves a range function call's scalar arguments to
// their values per step; argPos is the first scalar argument's position.
func (ev *evaluator) prepareRangeCall(e *parser.Call, rf rangeFunction) (c rangeCall, argPos posrange.PositionRange, err error) {
	c = rangeCall{name: e.Func.Name, fn: rf.fn, keepName: rf.keepName, check: rf.check, counter: rf.counter}
	var scalars [][]float64
	for _, a := range e.Args {
		if a.Type() == parser.ValueTypeMatrix {
			c.arg, c.pos = a, a.PositionRange()
			continue
		}
		if argPos == (posrange.PositionRange{}) {
			argPos = a.PositionRange()
		}
		vals, err := ev.scalarArg(a)
		if err != nil {
			return rangeCall{}, argPos, err
		}
		scalars = append(scalars, vals)
	}
	if c.arg == nil {
		return rangeCall{}, argPos, fmt.Errorf("function %q expects a range vector argument", e.Func.Name)
	}
	if len(scalars) > 0 {
		c.p1 = scalars[0]
	}
	if len(scalars) > 1 {
		c.p2 = scalars[1]
	}
	return c, argPos, nil
}

func clamp(f, lo, hi float64) (float64, bool) {
	if hi < lo {
		return 0, false
	}
	return math.Max(lo, math.Min(hi, f)), true
}

// mapVector applies fn to every sample of the instant vector vecArg, with
// the values of the scalar arguments at the sample's step, dropping the
// metric name. Samples for which fn returns false are dropped.
func (ev *evaluator) mapVector(vecArg parser.Expr, scalarArgs []parser.Expr, fn func(f float64, p []float64) (float64, bool)) (evalMatrix, error) {
	params, err := ev.scalarArgs(scalarArgs)
	if err != nil {
		return nil, err
	}
	m, err := ev.eval(vecArg)
	if err != nil {
		return nil, err
	}
	p := make([]float64, len(params))
	out := m[:0]
	dropped := 0
	for _, s := range m {
		pts := s.points[:0]
		for _, pt := range s.points {
			step := ev.stepIndex(pt.T)
			for i := range params {
				p[i] = params[i][step]
			}
			v, ok := fn(pt.F, p)
			if !ok {
				dropped++
				continue
			}
			pts = append(pts, FPoint{T: pt.T, F: v})
		}
		if len(pts) == 0 {
			continue
		}
		s.points = pts
		out = append(out, s)
	}
	ev.release(dropped)
	return ev.dropNames(out)
}

// funcTime returns each step's evaluation time in seconds.
func (ev *evaluator) funcTime() (evalMatrix, error) {
	if err := ev.grow(ev.steps); err != nil {
		return nil, err
	}
	pts := make([]FPoint, ev.steps)
	for i := range pts {
		ts := ev.stepTime(i)
		pts[i] = FPoint{T: ts, F: float64(ts) / 1000}
	}
	return evalMatrix{{metric: labels.EmptyLabels(), points: pts}}, nil
}

// dateFunc applies a calendar function to the timestamps of its vector
// argument or, without one, to each step's evaluation time.
func (ev *evaluator) dateFunc(e *parser.Call, fn func(time.Time) float64) (evalMatrix, error) {
	if len(e.Args) == 0 {
		if err := ev.grow(ev.steps); err != nil {
			return nil, err
		}
		pts := make([]FPoint, ev.steps)
		for i := range pts {
			ts := ev.stepTime(i)
			pts[i] = FPoint{T: ts, F: fn(time.Unix(ts/1000, 0).UTC())}
		}
		return evalMatrix{{metric: labels.EmptyLabels(), points: pts}}, nil
	}
	return ev.mapVector(e.Args[0], nil, func(f float64, _ []float64) (float64, bool) {
		return fn(time.Unix(int64(f), 0).UTC()), true
	})
}

// funcVector turns a scalar into a one-element vector without labels.
func (ev *evaluator) funcVector(e *parser.Call) (evalMatrix, error) {
	if len(e.Args) != 1 {
		return nil, fmt.Errorf("function vector takes one argument, got %d", len(e.Args))
	}
	m, err := ev.eval(e.Args[0])
	if err != nil {
		return nil, err
	}
	for i := range m {
		m[i].metric = labels.EmptyLabels()
	}
	return m, nil
}

// funcScalar returns, at each step, the value of a one-element vector, or
// NaN when the vector has no or several elements.
func (ev *evaluator) funcScalar(e *parser.Call) (evalMatrix, error) {
	if len(e.Args) != 1 {
		return nil, fmt.Errorf("function scalar takes one argument, got %d", len(e.Args))
	}
	m, err := ev.eval(e.Args[0])
	if err != nil {
		return nil, err
	}
	defer ev.release(m.numPoints())
	if err := ev.grow(ev.steps); err != nil {
		return nil, err
	}
	c := newCursor(m)
	pts := make([]FPoint, ev.steps)
	for i := range pts {
		ts := ev.stepTime(i)
		v := math.NaN()
		if s := c.at(ts); len(s) == 1 {
			v = s[0].f
		}
		pts[i] = FPoint{T: ts, F: v}
	}
	return evalMatrix{{metric: labels.EmptyLabels(), points: pts}}, nil
}

// funcTimestamp returns the timestamp of each sample in seconds. Given a
// selector directly, that is the time of the sample the selector found;
// for any other expression, the step's evaluation time.
func (ev *evaluator) funcTimestamp(e *parser.Call) (evalMatrix, error) {
	var (
		m   evalMatrix
		err error
	)
	if vs, ok := e.Args[0].(*parser.VectorSelector); ok {
		m, err = ev.vectorSelectorTimestamps(vs, true)
	} else {
		m, err = ev.eval(e.Args[0])
		for i := range m {
			for j := range m[i].points {
				m[i].points[j].F = float64(m[i].points[j].T) / 1000
			}
		}
	}
	if err != nil {
		return nil, err
	}
	return ev.dropNames(m)
}

// minMaxOf implements min_of and max_of, the smaller or larger of two
// scalars at each step.
func (ev *evaluator) minMaxOf(e *parser.Call) (evalMatrix, error) {
	a, err := ev.scalarArg(e.Args[0])
	if err != nil {
		return nil, err
	}
	b, err := ev.scalarArg(e.Args[1])
	if err != nil {
		return nil, err
	}
	pick := math.Max
	if e.Func.Name == "min_of" {
		pick = math.Min
	}
	if err := ev.grow(ev.steps); err != nil {
		return nil, err
	}
	pts := make([]FPoint, ev.steps)
	for i := range pts {
		pts[i] = FPoint{T: ev.stepTime(i), F: pick(a[i], b[i])}
	}
	return evalMatrix{{metric: labels.EmptyLabels(), points: pts}}, nil
}
