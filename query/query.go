package query

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/prometheus/promql/parser"

	"github.com/argusmon/argus/internal/logging"
)

// Query is a parsed query ready to execute once.
type Query interface {
	// Exec evaluates the query. It blocks until the result is ready, the
	// context ends, Cancel is called or the engine's timeout passes.
	Exec(ctx context.Context) *Result
	// Close releases what the query holds. Call it once the result has been
	// consumed: the points of a Matrix result are reused afterwards.
	Close()
	// Statement returns the parsed expression.
	Statement() parser.Expr
	// Cancel stops a running Exec; it is safe to call from any goroutine,
	// before, during or after Exec.
	Cancel()
	// Stats returns the statistics of the query's execution, Prometheus's
	// stats object. Call it after Exec has returned.
	Stats() *Stats
}

type query struct {
	engine       *Engine
	queryable    Queryable
	plan         *plan
	perStepStats bool
	start, end   time.Time // as given, for the query log
	step         time.Duration

	mu       sync.Mutex
	canceled bool
	cancel   context.CancelFunc

	// Written by Exec, read by Stats once Exec has returned.
	timings timings
	samples *sampleCounter
	// result is Exec's range vector, whose points Close recycles.
	result Matrix
}

func (q *query) Statement() parser.Expr { return q.plan.expr }

func (q *query) Cancel() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.canceled = true
	if q.cancel != nil {
		q.cancel()
	}
}

// Close gives the result's points back to the engine: a Matrix result must
// not be used after Close.
func (q *query) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i := range q.result {
		q.engine.pool.put(q.result[i].Floats)
	}
	q.result = nil
}

// Stats returns the query's statistics. Call it after Exec has returned;
// before, it reports zeros.
func (q *query) Stats() *Stats {
	s := &Stats{Timings: q.timings.public(), Samples: &SampleStats{}}
	if q.samples != nil {
		s.Samples = q.samples.public(q.perStepStats)
	}
	return s
}

func (q *query) Exec(ctx context.Context) *Result {
	start := time.Now()
	res := q.execTimed(ctx)
	q.timings.execTotal = time.Since(start)
	q.engine.logQuery(ctx, QueryLogEntry{
		Query:       q.plan.query,
		Start:       q.start,
		End:         q.end,
		Step:        q.step,
		Err:         res.Err,
		Stats:       q.Stats(),
		HTTPRequest: httpRequestFrom(ctx),
		RequestID:   logging.RequestID(ctx),
		Time:        time.Now(),
	})
	return res
}

func (q *query) execTimed(ctx context.Context) *Result {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	q.mu.Lock()
	if q.canceled {
		q.mu.Unlock()
		return &Result{Err: ErrQueryCanceled(envQueueing)}
	}
	q.cancel = cancel
	q.mu.Unlock()

	if t := q.engine.timeout; t > 0 {
		var cancelTimeout context.CancelFunc
		ctx, cancelTimeout = context.WithTimeout(ctx, t)
		defer cancelTimeout()
	}

	m := q.engine.metrics
	m.running.Inc()
	defer m.running.Dec()

	queueStart := time.Now()
	release, err := q.engine.acquire(ctx)
	q.timings.execQueue = time.Since(queueStart)
	m.duration.WithLabelValues("queue_time").Observe(q.timings.execQueue.Seconds())
	if err != nil {
		return &Result{Err: err}
	}
	defer release()

	evalStart := time.Now()
	v, annos, err := q.exec(ctx)
	q.timings.evalTotal = time.Since(evalStart)
	res := &Result{Value: v, Err: err}
	if err != nil {
		res.Value = nil
	}
	if mat, ok := res.Value.(Matrix); ok {
		q.mu.Lock()
		q.result = mat
		q.mu.Unlock()
	}
	if annos != nil {
		res.Warnings, res.Infos = annos.result()
	}
	return res
}

func (q *query) exec(ctx context.Context) (parser.Value, *annotations, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, contextErr(err, envExec)
	}
	p := q.plan
	m := q.engine.metrics
	prepStart := time.Now()
	querier, err := q.queryable.Querier(p.mint, p.maxt)
	q.timings.preparation = time.Since(prepStart)
	m.duration.WithLabelValues("prepare_time").Observe(q.timings.preparation.Seconds())
	if err != nil {
		return nil, nil, ErrStorage{Err: fmt.Errorf("opening querier for [%d, %d]: %w", p.mint, p.maxt, err)}
	}
	defer func() {
		if cerr := querier.Close(); cerr != nil {
			q.engine.logger.Warn("closing querier failed", "err", cerr)
		}
	}()

	ev := newEvaluator(ctx, q.engine, querier, p, q.perStepStats)
	q.samples = ev.stats
	evalStart := time.Now()
	val, err := ev.evalTop(p.expr)
	q.timings.innerEval = time.Since(evalStart)
	m.duration.WithLabelValues("inner_eval").Observe(q.timings.innerEval.Seconds())
	if err != nil {
		return nil, ev.annos, err
	}
	if mat, ok := val.(Matrix); ok && p.interval > 0 {
		sortStart := time.Now()
		sort.Sort(mat)
		q.timings.resultSort = time.Since(sortStart)
		m.duration.WithLabelValues("result_sort").Observe(q.timings.resultSort.Seconds())
	}
	return val, ev.annos, nil
}
