package rules

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"github.com/argusmon/argus/query"
	"github.com/argusmon/argus/storage"
)

// GroupEvalIterationFunc runs one scheduled iteration of a group at
// evalTimestamp. DefaultEvalIterationFunc is the usual one; callers may
// wrap it (to add tracing, or to hand alerts on differently).
type GroupEvalIterationFunc func(ctx context.Context, g *Group, evalTimestamp time.Time)

// DefaultEvalIterationFunc evaluates g and records the iteration metrics.
func DefaultEvalIterationFunc(ctx context.Context, g *Group, evalTimestamp time.Time) {
	g.deps.metrics.iterationsScheduled.WithLabelValues(g.key()).Inc()
	start := time.Now()
	g.Eval(ctx, evalTimestamp)
	g.deps.metrics.iterationDuration.Observe(time.Since(start).Seconds())
}

// groupDeps are what every group of one manager shares.
type groupDeps struct {
	query              QueryFunc
	appendable         Appendable
	notifier           Notifier
	logger             *slog.Logger
	metrics            *metrics
	resendDelay        time.Duration
	defaultQueryOffset func() time.Duration
}

// Group is a set of rules evaluated in order, at one interval, at the same
// timestamp, so that a rule sees the results of the rules before it.
type Group struct {
	name        string
	file        string
	interval    time.Duration
	limit       int
	queryOffset *time.Duration
	rules       []Rule
	// identity is what distinguishes this group's definition from another
	// of the same file and name across a reload.
	identity string

	deps     *groupDeps
	logger   *slog.Logger
	iterFunc GroupEvalIterationFunc

	// evalMu serialises evaluations and guards the staleness state below.
	evalMu sync.Mutex
	// seriesInPreviousEval holds, per rule, the series its last successful
	// evaluation wrote, to mark stale those it stops producing.
	seriesInPreviousEval []map[string]labels.Labels
	// staleSeries were written by rules since removed from the group.
	staleSeries []labels.Labels
	// restore, until the first evaluation, says where to read the alerts'
	// `for` state from before a restart; nil when there is nothing to
	// restore (no Queryable, or a group loaded by a later reload).
	restore *restoreOptions

	mu                sync.RWMutex
	lastEvaluation    time.Time
	evaluationTime    time.Duration
	lastEvalTimestamp time.Time

	done       chan struct{}
	terminated chan struct{}
	stopOnce   sync.Once
}

// GroupKey identifies a group across files: group names need only be
// unique within a file.
func GroupKey(file, name string) string { return file + ";" + name }

func (g *Group) key() string { return GroupKey(g.file, g.name) }

func (g *Group) Name() string            { return g.name }
func (g *Group) File() string            { return g.file }
func (g *Group) Interval() time.Duration { return g.interval }
func (g *Group) Limit() int              { return g.limit }

// Rules returns the group's rules in evaluation order.
func (g *Group) Rules() []Rule { return append([]Rule(nil), g.rules...) }

// AlertingRules returns the group's alerting rules in order.
func (g *Group) AlertingRules() []*AlertingRule {
	var out []*AlertingRule
	for _, r := range g.rules {
		if ar, ok := r.(*AlertingRule); ok {
			out = append(out, ar)
		}
	}
	return out
}

// QueryOffset is how far back of its scheduled time the group queries.
func (g *Group) QueryOffset() time.Duration {
	if g.queryOffset != nil {
		return *g.queryOffset
	}
	if g.deps.defaultQueryOffset != nil {
		return g.deps.defaultQueryOffset()
	}
	return 0
}

// LastEvaluation is when the last evaluation started (wall clock).
func (g *Group) LastEvaluation() time.Time {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.lastEvaluation
}

// EvaluationTime is how long the last evaluation took.
func (g *Group) EvaluationTime() time.Duration {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.evaluationTime
}

// LastEvalTimestamp is the scheduled timestamp of the last evaluation.
func (g *Group) LastEvalTimestamp() time.Time {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.lastEvalTimestamp
}

// Eval evaluates every rule in order at ts (queried at ts minus the
// query offset), writes the results and sends due alerts. A failing rule
// is recorded in its health and does not stop the others. Tests call it
// directly to drive evaluation deterministically.
func (g *Group) Eval(ctx context.Context, ts time.Time) {
	g.evalMu.Lock()
	defer g.evalMu.Unlock()
	start := time.Now()
	offset := g.QueryOffset()
	fr := g.openRestorer(ts)
	samples := 0
	var ruleSum time.Duration
	for i, rule := range g.rules {
		select {
		case <-g.done:
			return
		default:
		}
		n, took := g.evalRule(ctx, i, rule, ts, offset, fr)
		samples += n
		ruleSum += took
	}
	if fr != nil {
		if err := fr.close(); err != nil {
			g.logger.Warn("closing the querier of the 'for' state restore failed", "err", err)
		}
	}
	g.cleanupStaleSeries(ctx, ts.Add(-offset))

	took := time.Since(start)
	g.mu.Lock()
	g.lastEvaluation, g.evaluationTime, g.lastEvalTimestamp = start, took, ts
	g.mu.Unlock()
	m, key := g.deps.metrics, g.key()
	m.groupSamples.WithLabelValues(key).Set(float64(samples))
	m.groupLastDuration.WithLabelValues(key).Set(took.Seconds())
	m.groupLastRuleSum.WithLabelValues(key).Set(ruleSum.Seconds())
	m.groupLastEvalTime.WithLabelValues(key).Set(float64(start.UnixNano()) / 1e9)
}

// openRestorer returns the restorer of the group's first evaluation, or
// nil. A group gets one try, as in Prometheus: a failure is logged and the
// alerts start afresh. The caller holds evalMu.
func (g *Group) openRestorer(ts time.Time) *forStateRestorer {
	if g.restore == nil {
		return nil
	}
	o := g.restore
	g.restore = nil
	if len(g.AlertingRules()) == 0 {
		return nil
	}
	fr, err := o.openRestorer(ts)
	if err != nil {
		g.logger.Error("restoring alert 'for' state failed", "err", err)
		return nil
	}
	return fr
}

// evalRule evaluates rule i and writes its result in one commit. It
// returns the number of samples produced and the time taken.
func (g *Group) evalRule(ctx context.Context, i int, rule Rule, ts time.Time, offset time.Duration, fr *forStateRestorer) (int, time.Duration) {
	m, key := g.deps.metrics, g.key()
	logger := g.logger.With("rule", rule.Name(), "index", i)
	start := time.Now()
	defer func() {
		took := time.Since(start)
		m.evalDuration.Observe(took.Seconds())
		rule.state().setEvaluated(start, took)
	}()
	m.evalTotal.WithLabelValues(key).Inc()

	var vec query.Vector
	var err error
	if ar, ok := rule.(*AlertingRule); ok && fr != nil {
		vec, err = ar.eval(ctx, offset, ts, g.deps.query, g.limit, fr)
	} else {
		vec, err = rule.Eval(ctx, offset, ts, g.deps.query, g.limit)
	}
	if err != nil {
		rule.state().setResult(err)
		m.evalFailures.WithLabelValues(key).Inc()
		// A canceled query means shutdown or reload, not a broken rule.
		if ctx.Err() == nil {
			logger.Warn("evaluating rule failed", "err", err)
		}
		return 0, time.Since(start)
	}
	if ar, ok := rule.(*AlertingRule); ok {
		ar.sendAlerts(ts, g.deps.resendDelay, g.interval, g.deps.notifier)
	}

	returned, appendErr := g.write(ctx, logger, vec, g.seriesInPreviousEval[i], ts.Add(-offset))
	if appendErr != nil {
		m.evalFailures.WithLabelValues(key).Inc()
	}
	if returned != nil {
		g.seriesInPreviousEval[i] = returned
	}
	rule.state().setResult(appendErr)
	return len(vec), time.Since(start)
}

// write appends vec and stale markers for the previous series vec no
// longer holds, in one commit. It returns the series written (nil if the
// commit failed) and the first error met.
func (g *Group) write(ctx context.Context, logger *slog.Logger, vec query.Vector, previous map[string]labels.Labels, staleTS time.Time) (map[string]labels.Labels, error) {
	app := g.deps.appendable.Appender(ctx)
	returned := make(map[string]labels.Labels, len(vec))
	var firstErr error
	var ignored int
	for _, s := range vec {
		if _, err := app.Append(0, s.Metric, s.T, s.F); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			if isIngestConflict(err) {
				ignored++
				logger.Debug("rule evaluation result discarded", "err", err, "sample", s.String())
			} else {
				logger.Warn("rule evaluation result discarded", "err", err, "sample", s.String())
			}
			continue
		}
		returned[string(s.Metric.Bytes(nil))] = s.Metric
	}
	if ignored > 0 {
		logger.Warn("rule evaluation results rejected as out of order, too old or duplicate", "num_dropped", ignored)
	}
	for k, lset := range previous {
		if _, ok := returned[k]; ok {
			continue
		}
		// Conflicts are expected here: another rule may now write the series.
		if _, err := app.Append(0, lset, staleTS.UnixMilli(), math.Float64frombits(value.StaleNaN)); err != nil && !isIngestConflict(err) {
			logger.Warn("adding stale marker failed", "series", lset.String(), "err", err)
		}
	}
	if err := app.Commit(); err != nil {
		logger.Warn("committing rule results failed", "err", err)
		return nil, err
	}
	return returned, firstErr
}

// cleanupStaleSeries marks stale the series of rules removed by a reload.
func (g *Group) cleanupStaleSeries(ctx context.Context, ts time.Time) {
	if len(g.staleSeries) == 0 {
		return
	}
	app := g.deps.appendable.Appender(ctx)
	for _, lset := range g.staleSeries {
		if _, err := app.Append(0, lset, ts.UnixMilli(), math.Float64frombits(value.StaleNaN)); err != nil && !isIngestConflict(err) {
			g.logger.Warn("adding stale marker for a removed rule failed", "series", lset.String(), "err", err)
		}
	}
	if err := app.Commit(); err != nil {
		g.logger.Warn("committing stale markers for removed rules failed", "err", err)
		return
	}
	g.staleSeries = nil
}

func isIngestConflict(err error) bool {
	return errors.Is(err, storage.ErrOutOfOrderSample) ||
		errors.Is(err, storage.ErrTooOldSample) ||
		errors.Is(err, storage.ErrDuplicateSampleForTimestamp)
}
