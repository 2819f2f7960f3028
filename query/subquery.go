package query

import (
	"fmt"

	"github.com/prometheus/prometheus/promql/parser"
)

// subqueryTimes returns the steps a subquery evaluates its expression at,
// as Prometheus aligns them: multiples of the subquery's step (counted from
// the Unix epoch, so results do not shift with the query's start), from the
// first one after the earliest window's start up to the latest window's end.
func (ev *evaluator) subqueryTimes(sq *parser.SubqueryExpr) (start, end, interval int64, err error) {
	rng := sq.Range.Milliseconds()
	offset := sq.OriginalOffset.Milliseconds()
	if sq.Step != 0 {
		interval = sq.Step.Milliseconds()
	} else {
		interval = ev.noStepSubqueryIntervalFn(rng)
	}
	if interval <= 0 {
		return 0, 0, 0, fmt.Errorf("subquery %q has a non-positive step of %dms", sq, interval)
	}
	first, last := ev.start, ev.stepTime(ev.steps-1)
	if sq.Timestamp != nil {
		first, last = *sq.Timestamp, *sq.Timestamp
	}
	lo := first - offset - rng
	start = interval * (lo / interval)
	if start <= lo {
		start += interval
	}
	return start, last - offset, interval, nil
}

// subquery evaluates a subquery's inner expression at the subquery's own
// steps, with a child evaluator sharing this one's limits and storage; use
// says how this evaluator's steps consume the result, for the statistics.
func (ev *evaluator) subquery(sq *parser.SubqueryExpr, use subqueryUse) (evalMatrix, error) {
	start, end, interval, err := ev.subqueryTimes(sq)
	if err != nil {
		return nil, err
	}
	if end < start {
		// The window holds no subquery step at all.
		return evalMatrix{}, nil
	}
	child := *ev
	child.start, child.end, child.interval = start, end, interval
	child.steps = int((end-start)/interval) + 1
	child.instant = false
	child.stats = newSampleCounter(start, interval, child.steps, true)
	m, err := child.eval(sq.Expr)
	ev.samples = child.samples
	ev.stats.mergeSubquery(child.stats, use)
	return m, err
}
