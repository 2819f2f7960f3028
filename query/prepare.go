package query

import (
	"fmt"
	"math"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
)

// plan is a parsed query with its evaluation times fixed and every
// duration expression and @ start()/end() resolved, ready to evaluate.
type plan struct {
	expr       parser.Expr
	query      string // the query as written, for annotation positions
	start, end int64  // evaluation times in milliseconds
	interval   int64  // step in milliseconds; 0 for an instant query
	lookback   int64  // lookback delta in milliseconds
	mint, maxt int64  // the time range any selector may read
}

// prepare resolves what the parser leaves to the engine and computes the
// time range to open the querier for.
func prepare(p *plan) error {
	queryRange := time.Duration(p.end-p.start) * time.Millisecond
	step := time.Duration(p.interval) * time.Millisecond
	err := parser.Walk(inspector(func(node parser.Node, _ []parser.Node) error {
		switch n := node.(type) {
		case *parser.VectorSelector:
			if n.OriginalOffsetExpr != nil {
				d, err := durationValue(n.OriginalOffsetExpr, step, queryRange, true)
				if err != nil {
					return err
				}
				n.OriginalOffset = d
			}
			n.Timestamp = resolveAt(n.Timestamp, n.StartOrEnd, p.start, p.end)
		case *parser.MatrixSelector:
			if n.RangeExpr != nil {
				d, err := durationValue(n.RangeExpr, step, queryRange, false)
				if err != nil {
					return err
				}
				n.Range = d
			}
		case *parser.SubqueryExpr:
			for _, f := range []struct {
				expr     *parser.DurationExpr
				dst      *time.Duration
				negative bool
			}{
				{n.OriginalOffsetExpr, &n.OriginalOffset, true},
				{n.RangeExpr, &n.Range, false},
				{n.StepExpr, &n.Step, false},
			} {
				if f.expr == nil {
					continue
				}
				d, err := durationValue(f.expr, step, queryRange, f.negative)
				if err != nil {
					return err
				}
				*f.dst = d
			}
			n.Timestamp = resolveAt(n.Timestamp, n.StartOrEnd, p.start, p.end)
		}
		return nil
	}), p.expr, nil)
	if err != nil {
		return err
	}
	p.mint, p.maxt = selectRange(p)
	return nil
}

type inspector func(parser.Node, []parser.Node) error

func (f inspector) Visit(node parser.Node, path []parser.Node) (parser.Visitor, error) {
	if node == nil {
		return nil, nil
	}
	if err := f(node, path); err != nil {
		return nil, err
	}
	return f, nil
}

func resolveAt(ts *int64, startOrEnd parser.ItemType, start, end int64) *int64 {
	switch startOrEnd {
	case parser.START:
		return &start
	case parser.END:
		return &end
	}
	return ts
}

// selectRange returns the earliest and latest timestamps any selector of
// the plan can read, accounting for ranges, offsets, @ and the lookback
// delta. A plan without selectors gets (0, 0).
func selectRange(p *plan) (mint, maxt int64) {
	mint, maxt = math.MaxInt64, math.MinInt64
	_ = parser.Walk(inspector(func(node parser.Node, path []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		var rng int64
		if len(path) > 0 {
			if ms, ok := path[len(path)-1].(*parser.MatrixSelector); ok {
				rng = ms.Range.Milliseconds()
			}
		}
		start, end := p.start, p.end
		// Enclosing subqueries widen (or, with @, pin) the times their inner
		// selectors are evaluated at.
		for _, n := range path {
			sq, ok := n.(*parser.SubqueryExpr)
			if !ok {
				continue
			}
			if sq.Timestamp != nil {
				start, end = *sq.Timestamp, *sq.Timestamp
			}
			start -= sq.OriginalOffset.Milliseconds() + sq.Range.Milliseconds()
			end -= sq.OriginalOffset.Milliseconds()
		}
		if vs.Timestamp != nil {
			start, end = *vs.Timestamp, *vs.Timestamp
		}
		if rng > 0 {
			start -= rng - 1
		} else {
			start -= p.lookback - 1
		}
		start -= vs.OriginalOffset.Milliseconds()
		end -= vs.OriginalOffset.Milliseconds()
		mint, maxt = min(mint, start), max(maxt, end)
		return nil
	}), p.expr, nil)
	if maxt == math.MinInt64 {
		return 0, 0
	}
	return mint, maxt
}

// durationValue evaluates a duration expression such as `offset (1h / 2)`
// or `[5m + step()]` into a duration with millisecond precision.
func durationValue(e *parser.DurationExpr, step, queryRange time.Duration, allowNegative bool) (time.Duration, error) {
	secs, err := durationSeconds(e, step, queryRange)
	if err != nil {
		return 0, err
	}
	pos := e.PositionRange()
	switch {
	case math.IsNaN(secs) || math.IsInf(secs, 0):
		return 0, fmt.Errorf("%d:%d: duration is NaN or infinite", pos.Start, pos.End)
	case secs <= 0 && !allowNegative:
		return 0, fmt.Errorf("%d:%d: duration must be greater than 0", pos.Start, pos.End)
	case math.Abs(secs) > float64(math.MaxInt64)/1e9:
		return 0, fmt.Errorf("%d:%d: duration is out of range", pos.Start, pos.End)
	}
	return time.Duration(secs*1000) * time.Millisecond, nil
}

func durationSeconds(e parser.Expr, step, queryRange time.Duration) (float64, error) {
	switch n := e.(type) {
	case *parser.NumberLiteral:
		return n.Val, nil
	case *parser.ParenExpr:
		return durationSeconds(n.Expr, step, queryRange)
	case *parser.DurationExpr:
		var lhs, rhs float64
		var err error
		if n.LHS != nil {
			if lhs, err = durationSeconds(n.LHS, step, queryRange); err != nil {
				return 0, err
			}
		}
		if n.RHS != nil {
			if rhs, err = durationSeconds(n.RHS, step, queryRange); err != nil {
				return 0, err
			}
		}
		pos := n.PositionRange()
		switch n.Op {
		case parser.STEP:
			return step.Seconds(), nil
		case parser.RANGE:
			return queryRange.Seconds(), nil
		case parser.MIN_OF:
			return math.Min(lhs, rhs), nil
		case parser.MAX_OF:
			return math.Max(lhs, rhs), nil
		case parser.ADD:
			return lhs + rhs, nil // a unary plus has no LHS, so lhs is 0
		case parser.SUB:
			return lhs - rhs, nil
		case parser.MUL:
			return lhs * rhs, nil
		case parser.DIV:
			if rhs == 0 {
				return 0, fmt.Errorf("%d:%d: division by zero", pos.Start, pos.End)
			}
			return lhs / rhs, nil
		case parser.MOD:
			if rhs == 0 {
				return 0, fmt.Errorf("%d:%d: modulo by zero", pos.Start, pos.End)
			}
			return math.Mod(lhs, rhs), nil
		case parser.POW:
			return math.Pow(lhs, rhs), nil
		}
		return 0, fmt.Errorf("%d:%d: unsupported duration operator %q", pos.Start, pos.End, n.Op)
	}
	return 0, fmt.Errorf("unexpected %T in duration expression", e)
}
