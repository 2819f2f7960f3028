package query

import (
	"errors"
	"fmt"
	"math"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// rangeFunctions are the implemented functions over a range vector.
// keepName marks those whose result is still the input metric (they act
// like an offset), so its name survives.
var rangeFunctions = map[string]struct {
	fn       rangeFunc
	keepName bool
}{
	"rate":            {fn: func(w window) (float64, bool) { return extrapolatedRate(w, true, true) }},
	"increase":        {fn: func(w window) (float64, bool) { return extrapolatedRate(w, true, false) }},
	"delta":           {fn: func(w window) (float64, bool) { return extrapolatedRate(w, false, false) }},
	"irate":           {fn: func(w window) (float64, bool) { return instantValue(w, true) }},
	"idelta":          {fn: func(w window) (float64, bool) { return instantValue(w, false) }},
	"sum_over_time":   {fn: sumOverTime},
	"avg_over_time":   {fn: avgOverTime},
	"min_over_time":   {fn: minOverTime},
	"max_over_time":   {fn: maxOverTime},
	"count_over_time": {fn: countOverTime},
	"last_over_time":  {fn: lastOverTime, keepName: true},
}

// mathFunctions are the implemented element-wise functions of one instant
// vector; they all drop the metric name.
var mathFunctions = map[string]func(float64) float64{
	"abs":   math.Abs,
	"ceil":  math.Ceil,
	"floor": math.Floor,
	"sqrt":  math.Sqrt,
	"exp":   math.Exp,
	"ln":    math.Log,
	"log2":  math.Log2,
	"log10": math.Log10,
}

func (ev *evaluator) call(e *parser.Call) (evalMatrix, error) {
	name := e.Func.Name
	if rf, ok := rangeFunctions[name]; ok {
		if len(e.Args) != 1 {
			return nil, fmt.Errorf("function %q takes one argument, got %d", name, len(e.Args))
		}
		switch arg := unwrapParens(e.Args[0]).(type) {
		case *parser.MatrixSelector:
			return ev.evalRangeFunc(name, rf.fn, rf.keepName, arg)
		case *parser.SubqueryExpr:
			return nil, errors.New("subqueries are not supported yet")
		default:
			return nil, fmt.Errorf("function %q expects a range vector, got %T", name, arg)
		}
	}
	if fn, ok := mathFunctions[name]; ok && len(e.Args) == 1 {
		m, err := ev.eval(e.Args[0])
		if err != nil {
			return nil, err
		}
		for i := range m {
			for j := range m[i].points {
				m[i].points[j].F = fn(m[i].points[j].F)
			}
		}
		return ev.dropNames(m)
	}
	switch name {
	case "time":
		return ev.funcTime()
	case "vector":
		return ev.funcVector(e)
	case "scalar":
		return ev.funcScalar(e)
	}
	return nil, fmt.Errorf("function %q is not supported yet", name)
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
