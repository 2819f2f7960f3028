package rules

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"github.com/argusmon/argus/query"
	"github.com/argusmon/argus/storage"
)

// defaultResendDelay is Prometheus's --rules.alert.resend-delay default.
const defaultResendDelay = time.Minute

// ManagerOptions configures a Manager.
type ManagerOptions struct {
	// QueryFunc evaluates rule expressions; see EngineQueryFunc. Required.
	QueryFunc QueryFunc
	// Appendable receives rule results; nil discards them.
	Appendable Appendable
	// Notifier receives alerts to send; nil drops them.
	Notifier Notifier
	// Logger receives the manager's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the self-metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// ResendDelay is how often a still-firing alert is sent again; 0
	// means one minute.
	ResendDelay time.Duration
	// DefaultQueryOffset returns the global rule_query_offset for groups
	// that do not set query_offset; nil means no offset. It is called at
	// each evaluation so a reload takes effect at once.
	DefaultQueryOffset func() time.Duration
	// Queryable is read, at the first evaluation of the groups of the
	// first Update, for the ALERTS_FOR_STATE series of the previous run,
	// to restore when alerts became active (Prometheus's 'for' state
	// restore). Nil disables the restore.
	Queryable query.Queryable
	// OutageTolerance is how long the server may have been down for the
	// 'for' state to be restored (--rules.alert.for-outage-tolerance); 0
	// means one hour.
	OutageTolerance time.Duration
	// ForGracePeriod is the least time a restored alert with a `for` at
	// least this long still waits before firing
	// (--rules.alert.for-grace-period); 0 means ten minutes.
	ForGracePeriod time.Duration
}

// Manager runs the rule groups of the configured rule files.
type Manager struct {
	deps   *groupDeps
	logger *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	// start is closed by Run: groups are loaded before storage is ready
	// but must not query it until then.
	start     chan struct{}
	startOnce sync.Once
	// wg counts group goroutines and pending stale-marking.
	wg sync.WaitGroup

	mu      sync.RWMutex
	groups  map[string]*Group
	stopped bool
	// restore is consumed by the first successful Update: groups added
	// by later reloads are new rules, with no state to restore.
	restore *restoreOptions
}

// NewManager returns a Manager with no groups; call Update to load rule
// files and Run to start evaluating.
func NewManager(o ManagerOptions) *Manager {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	resend := o.ResendDelay
	if resend <= 0 {
		resend = defaultResendDelay
	}
	app := o.Appendable
	if app == nil {
		app = discardAppendable{}
	}
	var restore *restoreOptions
	if o.Queryable != nil {
		restore = &restoreOptions{
			queryable:       o.Queryable,
			outageTolerance: cmp.Or(max(o.OutageTolerance, 0), defaultOutageTolerance),
			gracePeriod:     cmp.Or(max(o.ForGracePeriod, 0), defaultForGracePeriod),
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Manager{
		restore: restore,
		deps: &groupDeps{
			query:              o.QueryFunc,
			appendable:         app,
			notifier:           o.Notifier,
			logger:             logger,
			metrics:            newMetrics(o.Registerer, logger),
			resendDelay:        resend,
			defaultQueryOffset: o.DefaultQueryOffset,
		},
		logger: logger,
		ctx:    ctx,
		cancel: cancel,
		start:  make(chan struct{}),
		groups: map[string]*Group{},
	}
}

// Run lets the loaded groups start evaluating. It does not block.
func (m *Manager) Run() {
	m.startOnce.Do(func() { close(m.start) })
}

// Stop stops every group, waiting for running evaluations to end.
func (m *Manager) Stop() {
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return
	}
	m.stopped = true
	groups := m.groups
	m.mu.Unlock()

	m.cancel()
	for _, g := range groups {
		g.stop(false)
	}
	m.wg.Wait()
}

// Update loads the rule files (globs already expanded) with interval as
// the default evaluation interval. A group whose definition is unchanged
// keeps running untouched; a changed group replaces the old one and takes
// over its alerts and series; a removed group stops and, two intervals
// later, its series are marked stale. On any error the running groups are
// kept and the error lists every problem. evalFunc nil means
// DefaultEvalIterationFunc.
func (m *Manager) Update(interval time.Duration, files []string, externalLabels labels.Labels, externalURL string, evalFunc GroupEvalIterationFunc) error {
	if interval <= 0 {
		return fmt.Errorf("rule evaluation interval must be positive, got %s", interval)
	}
	var extURL *url.URL
	if externalURL != "" {
		u, err := url.Parse(externalURL)
		if err != nil {
			return fmt.Errorf("parsing external URL %q: %w", externalURL, err)
		}
		extURL = u
	}
	if evalFunc == nil {
		evalFunc = DefaultEvalIterationFunc
	}
	specs, errs := ParseFiles(files)
	if len(errs) > 0 {
		return fmt.Errorf("loading rule files, keeping the previous rules: %w", errors.Join(errs...))
	}
	if m.deps.query == nil {
		return errors.New("rule manager has no query function")
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return errors.New("rule manager is stopped")
	}
	newGroups := make(map[string]*Group, len(specs))
	for _, spec := range specs {
		g := m.newGroup(spec, interval, externalLabels, extURL, evalFunc)
		newGroups[g.key()] = g
	}

	for key, ng := range newGroups {
		old, ok := m.groups[key]
		delete(m.groups, key)
		if ok && old.identity == ng.identity {
			newGroups[key] = old
			continue
		}
		if ok {
			old.stop(true)
			ng.copyState(old)
		}
		m.startGroup(ng)
	}
	for key, old := range m.groups {
		old.stop(true)
		m.markRemovedStale(old)
		m.deps.metrics.forget(key)
	}
	m.groups = newGroups
	m.restore = nil
	for key, g := range newGroups {
		m.deps.metrics.groupInterval.WithLabelValues(key).Set(g.interval.Seconds())
		m.deps.metrics.groupRules.WithLabelValues(key).Set(float64(len(g.rules)))
	}
	return nil
}

func (m *Manager) newGroup(spec *GroupSpec, interval time.Duration, externalLabels labels.Labels, extURL *url.URL, evalFunc GroupEvalIterationFunc) *Group {
	if spec.Interval > 0 {
		interval = spec.Interval
	}
	logger := m.logger.With("file", spec.File, "group", spec.Name)
	g := &Group{
		name:        spec.Name,
		file:        spec.File,
		interval:    interval,
		limit:       spec.Limit,
		queryOffset: spec.QueryOffset,
		deps:        m.deps,
		logger:      logger,
		iterFunc:    evalFunc,
		restore:     m.restore,
		done:        make(chan struct{}),
		terminated:  make(chan struct{}),
	}
	identity := fmt.Sprintf("%s|%d|%v|%s|%s\n", interval, spec.Limit, offsetText(spec.QueryOffset), externalLabels, extURL)
	for _, rs := range spec.Rules {
		expr := rs.Expr
		if rs.expr != nil {
			expr = rs.expr.String()
		}
		var r Rule
		if rs.Alert != "" {
			r = NewAlertingRule(rs.Alert, expr, rs.For, rs.KeepFiringFor, rs.Labels, rs.Annotations, AlertingRuleOptions{
				ExternalLabels: externalLabels, ExternalURL: extURL, Logger: logger,
			})
		} else {
			r = NewRecordingRule(rs.Record, expr, rs.Labels)
		}
		g.rules = append(g.rules, r)
		identity += r.String()
	}
	g.identity = identity
	g.seriesInPreviousEval = make([]map[string]labels.Labels, len(g.rules))
	return g
}

func offsetText(d *time.Duration) string {
	if d == nil {
		return "default"
	}
	return d.String()
}

// startGroup runs g once the manager is started.
func (m *Manager) startGroup(g *Group) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		select {
		case <-m.start:
		case <-g.done:
			close(g.terminated)
			return
		}
		g.run(m.ctx)
	}()
}

// markRemovedStale writes stale markers for a removed group's series after
// two of its intervals, giving a rule that was merely renamed or moved time
// to write the series again first (its samples then win over the marker).
func (m *Manager) markRemovedStale(g *Group) {
	series := g.allSeries()
	if len(series) == 0 {
		return
	}
	removedAt := time.Now()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		select {
		case <-m.ctx.Done():
			return
		case <-time.After(2 * g.interval):
		}
		app := m.deps.appendable.Appender(m.ctx)
		ts := removedAt.Add(-g.QueryOffset()).UnixMilli()
		for _, lset := range series {
			if _, err := app.Append(0, lset, ts, math.Float64frombits(value.StaleNaN)); err != nil && !isIngestConflict(err) {
				g.logger.Warn("adding stale marker for a removed group failed", "series", lset.String(), "err", err)
			}
		}
		if err := app.Commit(); err != nil {
			g.logger.Warn("committing stale markers for a removed group failed", "err", err)
		}
	}()
}

// RuleGroups returns the groups, sorted by file then name.
func (m *Manager) RuleGroups() []*Group {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*Group, 0, len(m.groups))
	for _, g := range m.groups {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b *Group) int {
		if a.file != b.file {
			return strings.Compare(a.file, b.file)
		}
		return strings.Compare(a.name, b.name)
	})
	return out
}

// Rules returns every rule of every group, in group then rule order.
func (m *Manager) Rules() []Rule {
	var out []Rule
	for _, g := range m.RuleGroups() {
		out = append(out, g.rules...)
	}
	return out
}

// AlertingRules returns every alerting rule, in group then rule order.
func (m *Manager) AlertingRules() []*AlertingRule {
	var out []*AlertingRule
	for _, g := range m.RuleGroups() {
		out = append(out, g.AlertingRules()...)
	}
	return out
}

type discardAppendable struct{}

func (discardAppendable) Appender(context.Context) storage.Appender { return discardAppender{} }

type discardAppender struct{}

func (discardAppender) Append(ref storage.SeriesRef, _ labels.Labels, _ int64, _ float64) (storage.SeriesRef, error) {
	return ref, nil
}
func (discardAppender) Commit() error   { return nil }
func (discardAppender) Rollback() error { return nil }
