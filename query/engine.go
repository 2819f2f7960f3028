package query

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/argusmon/argus/storage"
)

// Queryable is what the engine needs from storage; *tsdb.DB satisfies it.
type Queryable interface {
	Querier(mint, maxt int64) (storage.Querier, error)
}

// defaultLookbackDelta is Prometheus's --query.lookback-delta default.
const defaultLookbackDelta = 5 * time.Minute

// EngineOpts configures an Engine. The zero value is usable: no sample
// limit, no timeout, a 5m lookback delta and no concurrency limit.
type EngineOpts struct {
	// Logger receives engine logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the engine's metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// MaxSamples bounds the samples one query may hold in memory at once;
	// 0 or less means no limit.
	MaxSamples int
	// Timeout bounds one query's execution; 0 means no timeout beyond the
	// caller's context.
	Timeout time.Duration
	// LookbackDelta is how far back an instant selector looks for a sample;
	// 0 means 5m.
	LookbackDelta time.Duration
	// MaxConcurrent bounds the queries executing at once; excess queries
	// wait their turn (honouring their context). 0 or less means no limit.
	MaxConcurrent int
	// NoStepSubqueryIntervalFn gives the evaluation interval, in
	// milliseconds, of a subquery written without a step, from its range in
	// milliseconds. Nil means one minute, Prometheus's default
	// evaluation_interval.
	NoStepSubqueryIntervalFn func(rangeMillis int64) int64
	// EnableExperimentalFunctions lets the parser accept functions and
	// aggregations Prometheus marks experimental.
	EnableExperimentalFunctions bool
	// EnableDelayedNameRemoval removes the metric name at the end of
	// evaluation instead of at each operation that invalidates it, as
	// Prometheus's promql-delayed-name-removal feature does.
	EnableDelayedNameRemoval bool
	// EnablePerStepStats lets queries created with a WithPerStepStats
	// context record per-step sample counts, as Prometheus's
	// promql-per-step-stats feature does for stats=all.
	EnablePerStepStats bool
	// QueryLogger, if set, receives an entry for every executed query; see
	// SetQueryLogger to change it later.
	QueryLogger QueryLogger
}

// Engine parses and evaluates PromQL queries. It is safe for concurrent use.
type Engine struct {
	logger                   *slog.Logger
	parser                   parser.Parser
	maxSamples               int
	timeout                  time.Duration
	lookbackDelta            time.Duration
	noStepSubqueryIntervalFn func(int64) int64
	delayedNameRemoval       bool
	perStepStats             bool
	gate                     chan struct{} // nil when concurrency is unlimited
	metrics                  *engineMetrics
	pool                     *pointPool

	// queryLogMu is read-held while an entry is logged so that
	// SetQueryLogger never closes a logger in use.
	queryLogMu  sync.RWMutex
	queryLogger QueryLogger
}

// NewEngine returns an Engine configured by o.
func NewEngine(o EngineOpts) *Engine {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	lookback := o.LookbackDelta
	if lookback <= 0 {
		lookback = defaultLookbackDelta
	}
	maxSamples := o.MaxSamples
	if maxSamples <= 0 {
		maxSamples = int(^uint(0) >> 1)
	}
	subqInterval := o.NoStepSubqueryIntervalFn
	if subqInterval == nil {
		subqInterval = func(int64) int64 { return time.Minute.Milliseconds() }
	}
	e := &Engine{
		logger: logger,
		parser: parser.NewParser(parser.Options{
			EnableExperimentalFunctions: o.EnableExperimentalFunctions,
		}),
		maxSamples:               maxSamples,
		timeout:                  o.Timeout,
		lookbackDelta:            lookback,
		noStepSubqueryIntervalFn: subqInterval,
		delayedNameRemoval:       o.EnableDelayedNameRemoval,
		perStepStats:             o.EnablePerStepStats,
		metrics:                  newEngineMetrics(o.Registerer, logger),
		pool:                     &pointPool{},
	}
	e.SetQueryLogger(o.QueryLogger)
	if o.MaxConcurrent > 0 {
		e.gate = make(chan struct{}, o.MaxConcurrent)
		e.metrics.concurrentMax.Set(float64(o.MaxConcurrent))
	} else {
		e.metrics.concurrentMax.Set(-1)
	}
	return e
}

// NewInstantQuery returns a query evaluating qs at ts. Parse errors, and
// errors in the query's duration expressions, are returned here.
//
// A context from WithPerStepStats asks for per-step statistics.
func (e *Engine) NewInstantQuery(ctx context.Context, q Queryable, qs string, ts time.Time) (Query, error) {
	return e.newQuery(ctx, q, qs, ts, ts, 0)
}

// NewRangeQuery returns a query evaluating qs at start, start+step, ... up
// to end. Parse errors, a non-positive step, an end before start and an
// expression that is not a scalar or instant vector are returned here.
//
// A context from WithPerStepStats asks for per-step statistics.
func (e *Engine) NewRangeQuery(ctx context.Context, q Queryable, qs string, start, end time.Time, step time.Duration) (Query, error) {
	if step <= 0 {
		return nil, fmt.Errorf("range query step must be positive, got %s", step)
	}
	if end.Before(start) {
		return nil, errors.New("range query end must not be before its start")
	}
	return e.newQuery(ctx, q, qs, start, end, step)
}

func (e *Engine) newQuery(ctx context.Context, q Queryable, qs string, start, end time.Time, step time.Duration) (Query, error) {
	if q == nil {
		return nil, errors.New("query needs a storage to read from, got nil")
	}
	expr, err := e.parser.ParseExpr(qs)
	if err != nil {
		return nil, err
	}
	if step > 0 {
		if t := expr.Type(); t != parser.ValueTypeVector && t != parser.ValueTypeScalar {
			return nil, fmt.Errorf("invalid expression type %q for range query, must be Scalar or instant Vector", parser.DocumentedType(t))
		}
	}
	plan := &plan{
		expr:     expr,
		query:    qs,
		start:    start.UnixMilli(),
		end:      end.UnixMilli(),
		interval: step.Milliseconds(),
		lookback: e.lookbackDelta.Milliseconds(),
	}
	if d := lookbackDeltaFrom(ctx); d > 0 {
		plan.lookback = d.Milliseconds()
	}
	if err := prepare(plan); err != nil {
		return nil, err
	}
	return &query{
		engine:       e,
		queryable:    q,
		plan:         plan,
		perStepStats: e.perStepStats && perStepStatsWanted(ctx),
		start:        start,
		end:          end,
		step:         step,
	}, nil
}

// SetQueryLogger replaces the query logger, closing the previous one; nil
// turns the query log off. A configuration reload calls it when
// global.query_log_file changes.
func (e *Engine) SetQueryLogger(l QueryLogger) {
	e.queryLogMu.Lock()
	defer e.queryLogMu.Unlock()
	if e.queryLogger != nil {
		// A failure to close the old file must not fail the reload.
		if err := e.queryLogger.Close(); err != nil {
			e.logger.Warn("closing the previous query log failed", "err", err)
		}
	}
	e.queryLogger = l
	if l != nil {
		e.metrics.queryLogEnabled.Set(1)
	} else {
		e.metrics.queryLogEnabled.Set(0)
	}
}

// Close releases what the engine holds: its query logger.
func (e *Engine) Close() error {
	e.queryLogMu.Lock()
	defer e.queryLogMu.Unlock()
	if e.queryLogger == nil {
		return nil
	}
	err := e.queryLogger.Close()
	e.queryLogger = nil
	e.metrics.queryLogEnabled.Set(0)
	if err != nil {
		return fmt.Errorf("closing query log: %w", err)
	}
	return nil
}

// logQuery writes q's entry to the query log, if there is one.
func (e *Engine) logQuery(ctx context.Context, entry QueryLogEntry) {
	e.queryLogMu.RLock()
	defer e.queryLogMu.RUnlock()
	if e.queryLogger == nil {
		return
	}
	if err := e.queryLogger.Log(ctx, entry); err != nil {
		e.metrics.queryLogFailures.Inc()
		e.logger.Error("writing the query log failed", "err", err)
	}
}

// acquire waits for a slot in the concurrency gate. The returned function
// gives the slot back.
func (e *Engine) acquire(ctx context.Context) (func(), error) {
	if e.gate == nil {
		return func() {}, nil
	}
	select {
	case e.gate <- struct{}{}:
		return func() { <-e.gate }, nil
	default:
	}
	e.metrics.queued.Inc()
	e.metrics.waiting.Inc()
	defer e.metrics.waiting.Dec()
	select {
	case e.gate <- struct{}{}:
		return func() { <-e.gate }, nil
	case <-ctx.Done():
		return nil, contextErr(ctx.Err(), envQueueing)
	}
}

// contextErr turns a context's error into the engine's error types.
func contextErr(err error, env string) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return ErrQueryTimeout(env)
	case errors.Is(err, context.Canceled):
		return ErrQueryCanceled(env)
	default:
		return err
	}
}

type lookbackDeltaKey struct{}

// WithLookbackDelta returns a context whose queries use d instead of the
// engine's lookback delta, for the API's lookback_delta parameter. A d of 0
// or less keeps the engine's.
func WithLookbackDelta(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, lookbackDeltaKey{}, d)
}

func lookbackDeltaFrom(ctx context.Context) time.Duration {
	d, _ := ctx.Value(lookbackDeltaKey{}).(time.Duration)
	return d
}
