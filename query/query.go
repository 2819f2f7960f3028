package query

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
)

// Query is a parsed query ready to execute once.
type Query interface {
	// Exec evaluates the query. It blocks until the result is ready, the
	// context ends, Cancel is called or the engine's timeout passes.
	Exec(ctx context.Context) *Result
	// Close releases what the query holds. Call it once the result has been
	// consumed.
	Close()
	// Statement returns the parsed expression.
	Statement() parser.Expr
	// Cancel stops a running Exec; it is safe to call from any goroutine,
	// before, during or after Exec.
	Cancel()
}

type query struct {
	engine    *Engine
	queryable Queryable
	plan      *plan

	mu       sync.Mutex
	canceled bool
	cancel   context.CancelFunc
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

func (q *query) Close() {}

func (q *query) Exec(ctx context.Context) *Result {
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
	m.duration.WithLabelValues("queue_time").Observe(time.Since(queueStart).Seconds())
	if err != nil {
		return &Result{Err: err}
	}
	defer release()

	evalStart := time.Now()
	v, annos, err := q.exec(ctx)
	m.duration.WithLabelValues("inner_eval").Observe(time.Since(evalStart).Seconds())
	res := &Result{Value: v, Err: err}
	if err != nil {
		res.Value = nil
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
	querier, err := q.queryable.Querier(p.mint, p.maxt)
	if err != nil {
		return nil, nil, ErrStorage{Err: fmt.Errorf("opening querier for [%d, %d]: %w", p.mint, p.maxt, err)}
	}
	defer func() {
		if cerr := querier.Close(); cerr != nil {
			q.engine.logger.Warn("closing querier failed", "err", cerr)
		}
	}()

	ev := newEvaluator(ctx, q.engine, querier, p)
	val, err := ev.evalTop(p.expr)
	if err != nil {
		return nil, ev.annos, err
	}
	if mat, ok := val.(Matrix); ok && p.interval > 0 {
		sort.Sort(mat)
	}
	return val, ev.annos, nil
}
