package query

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/argusmon/argus/storage"
)

// evalSeries is one series of an intermediate result: the points it has
// at the query's steps, in step order. dropName records that an operation
// invalidated the metric name while delayed name removal postponed
// dropping it.
type evalSeries struct {
	metric   labels.Labels
	points   []FPoint
	dropName bool
}

// evalMatrix is the value of an instant-vector or scalar expression over
// every step of the query. A scalar is one series without labels that has
// a point at every step.
type evalMatrix []evalSeries

func (m evalMatrix) numPoints() int {
	n := 0
	for _, s := range m {
		n += len(s.points)
	}
	return n
}

// errDuplicateLabelset is Prometheus's error for a result holding two
// samples with the same labels at the same time.
var errDuplicateLabelset = errors.New("vector cannot contain metrics with the same labelset")

// evaluator evaluates one query's expression tree. It is used by one
// goroutine and discarded after the query.
type evaluator struct {
	ctx     context.Context
	querier storage.Querier
	logger  *slog.Logger

	start, end, interval int64 // interval is 1 for instant queries
	steps                int
	instant              bool
	lookback             int64

	maxSamples int
	samples    int // samples currently held by intermediate results

	delayedNameRemoval       bool
	noStepSubqueryIntervalFn func(rangeMillis int64) int64

	// The query's own time range and step (0 for an instant query), which
	// start(), end(), range() and step() report even inside subqueries.
	queryStart, queryEnd, queryStep int64

	annos *annotations // shared with subquery evaluators
	stats *sampleCounter
	pool  *pointPool
}

func newEvaluator(ctx context.Context, e *Engine, q storage.Querier, p *plan, perStepStats bool) *evaluator {
	interval := p.interval
	if interval <= 0 {
		interval = 1
	}
	steps := int((p.end-p.start)/interval) + 1
	return &evaluator{
		ctx:                ctx,
		querier:            q,
		logger:             e.logger,
		start:              p.start,
		end:                p.end,
		interval:           interval,
		steps:              steps,
		instant:            p.interval == 0,
		lookback:           p.lookback,
		maxSamples:         e.maxSamples,
		delayedNameRemoval: e.delayedNameRemoval,

		noStepSubqueryIntervalFn: e.noStepSubqueryIntervalFn,
		queryStart:               p.start,
		queryEnd:                 p.end,
		queryStep:                p.interval,
		annos:                    newAnnotations(p.query),
		stats:                    newSampleCounter(p.start, interval, steps, perStepStats),
		pool:                     e.pool,
	}
}

// stepTime returns the timestamp of step i.
func (ev *evaluator) stepTime(i int) int64 { return ev.start + int64(i)*ev.interval }

// stepIndex returns the step a timestamp produced by stepTime belongs to.
func (ev *evaluator) stepIndex(ts int64) int { return int((ts - ev.start) / ev.interval) }

// checkCtx reports cancellation or timeout; call it inside every loop over
// series or steps.
func (ev *evaluator) checkCtx() error {
	if err := ev.ctx.Err(); err != nil {
		return contextErr(err, envEval)
	}
	return nil
}

// grow accounts for n more samples held in memory.
func (ev *evaluator) grow(n int) error {
	ev.samples += n
	ev.stats.peak = max(ev.stats.peak, ev.samples)
	if ev.samples > ev.maxSamples {
		return ErrTooManySamples(envExec)
	}
	return nil
}

// release accounts for samples no longer held.
func (ev *evaluator) release(n int) { ev.samples -= n }

// evalTop evaluates the query's root expression and converts the result
// to the public value types.
func (ev *evaluator) evalTop(expr parser.Expr) (val parser.Value, err error) {
	defer func() {
		// Nothing in the engine should panic; if something does, fail this
		// query with a logged error rather than the process.
		if r := recover(); r != nil {
			buf := make([]byte, 64<<10)
			buf = buf[:runtime.Stack(buf, false)]
			ev.logger.Error("panic during query evaluation", "expr", expr.String(), "panic", r, "stack", string(buf))
			val, err = nil, fmt.Errorf("unexpected error evaluating %q: %v", expr.String(), r)
		}
	}()

	expr = unwrapParens(expr)
	switch expr.Type() {
	case parser.ValueTypeString:
		s, ok := expr.(*parser.StringLiteral)
		if !ok {
			return nil, fmt.Errorf("unexpected string expression %T", expr)
		}
		return String{T: ev.start, V: s.Val}, nil
	case parser.ValueTypeMatrix:
		return ev.rangeSelectorTop(expr)
	}

	m, err := ev.eval(expr)
	if err != nil {
		return nil, err
	}
	if ev.delayedNameRemoval {
		for i := range m {
			if m[i].dropName {
				m[i].metric = m[i].metric.DropReserved(isMetadataLabel)
			}
		}
		if m, err = mergeSameLabelset(m); err != nil {
			return nil, err
		}
	}
	isScalar := expr.Type() == parser.ValueTypeScalar
	if ev.instant {
		if isScalar {
			if len(m) != 1 || len(m[0].points) != 1 {
				return nil, fmt.Errorf("scalar expression %q produced %d series", expr, len(m))
			}
			return Scalar{T: ev.start, V: m[0].points[0].F}, nil
		}
		vec := make(Vector, 0, len(m))
		for _, s := range m {
			for _, p := range s.points {
				vec = append(vec, Sample{Metric: s.metric, T: p.T, F: p.F})
			}
		}
		ev.pool.putMatrix(m)
		return vec, nil
	}
	mat := make(Matrix, 0, len(m))
	for _, s := range m {
		if len(s.points) > 0 {
			mat = append(mat, Series{Metric: s.metric, Floats: s.points})
		}
	}
	return mat, nil
}

// eval evaluates an instant-vector or scalar expression over all steps.
func (ev *evaluator) eval(expr parser.Expr) (evalMatrix, error) {
	if err := ev.checkCtx(); err != nil {
		return nil, err
	}
	switch e := expr.(type) {
	case *parser.ParenExpr:
		return ev.eval(e.Expr)
	case *parser.StepInvariantExpr:
		return ev.eval(e.Expr)
	case *parser.NumberLiteral:
		return ev.constant(e.Val)
	case *parser.UnaryExpr:
		return ev.unary(e)
	case *parser.VectorSelector:
		return ev.vectorSelector(e)
	case *parser.Call:
		return ev.call(e)
	case *parser.AggregateExpr:
		return ev.aggregate(e)
	case *parser.BinaryExpr:
		return ev.binary(e)
	case *parser.StringLiteral, *parser.MatrixSelector, *parser.SubqueryExpr:
		return nil, fmt.Errorf("%s expression %q cannot be used here", parser.DocumentedType(e.Type()), e)
	}
	return nil, fmt.Errorf("expression type %T is not supported yet", expr)
}

// constant returns a scalar with the same value at every step.
func (ev *evaluator) constant(v float64) (evalMatrix, error) {
	if err := ev.grow(ev.steps); err != nil {
		return nil, err
	}
	pts := make([]FPoint, ev.steps)
	for i := range pts {
		pts[i] = FPoint{T: ev.stepTime(i), F: v}
	}
	return evalMatrix{{metric: labels.EmptyLabels(), points: pts}}, nil
}

func (ev *evaluator) unary(e *parser.UnaryExpr) (evalMatrix, error) {
	m, err := ev.eval(e.Expr)
	if err != nil || e.Op != parser.SUB {
		return m, err
	}
	for i := range m {
		for j := range m[i].points {
			m[i].points[j].F = -m[i].points[j].F
		}
	}
	if e.Expr.Type() == parser.ValueTypeScalar {
		return m, nil
	}
	return ev.dropNames(m)
}

// dropNames removes the metric name from every series, as operations whose
// result is no longer the named metric do; with delayed name removal it
// only marks them.
func (ev *evaluator) dropNames(m evalMatrix) (evalMatrix, error) {
	for i := range m {
		m[i].dropName = true
		if !ev.delayedNameRemoval {
			m[i].metric = m[i].metric.DropReserved(isMetadataLabel)
		}
	}
	if ev.delayedNameRemoval {
		return m, nil
	}
	return mergeSameLabelset(m)
}

// mergeSameLabelset joins series that ended up with the same labels (after
// their names were dropped) into one, as long as they never both have a
// point at the same step.
func mergeSameLabelset(m evalMatrix) (evalMatrix, error) {
	if len(m) < 2 {
		return m, nil
	}
	byHash := make(map[uint64]int, len(m))
	out := m[:0]
	merged := false
	for _, s := range m {
		h := s.metric.Hash()
		if i, ok := byHash[h]; ok {
			out[i].points = append(out[i].points, s.points...)
			out[i].dropName = out[i].dropName || s.dropName
			merged = true
			continue
		}
		byHash[h] = len(out)
		out = append(out, s)
	}
	if !merged {
		return out, nil
	}
	for i := range out {
		pts := out[i].points
		slices.SortFunc(pts, func(a, b FPoint) int { return cmp.Compare(a.T, b.T) })
		for j := 1; j < len(pts); j++ {
			if pts[j].T == pts[j-1].T {
				return nil, errDuplicateLabelset
			}
		}
	}
	return out, nil
}

func unwrapParens(e parser.Expr) parser.Expr {
	for {
		switch p := e.(type) {
		case *parser.ParenExpr:
			e = p.Expr
		case *parser.StepInvariantExpr:
			e = p.Expr
		default:
			return e
		}
	}
}

// isMetadataLabel reports whether a label is one of those describing the
// metric itself (its name, and the type and unit labels Prometheus's
// type-and-unit-labels feature adds), which go when an operation changes
// what the value means.
func isMetadataLabel(name string) bool {
	return name == labels.MetricName || name == "__type__" || name == "__unit__"
}
