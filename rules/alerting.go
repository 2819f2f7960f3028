package rules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/query"
)

const (
	alertMetricName         = "ALERTS"
	alertForStateMetricName = "ALERTS_FOR_STATE"
	alertStateLabel         = "alertstate"
	// resolvedRetention is how long a resolved alert is kept (and resent),
	// so a resolution survives a lost notification or an Alertmanager
	// restart.
	resolvedRetention = 15 * time.Minute
)

// ErrDuplicateAlertLabelSet is returned when two samples of an alerting
// rule's result give the same alert labels.
var ErrDuplicateAlertLabelSet = errors.New("vector contains metrics with the same labelset after applying alert labels")

// AlertingRuleOptions configures an AlertingRule beyond its definition.
type AlertingRuleOptions struct {
	// ExternalLabels are visible to templates as $externalLabels.
	ExternalLabels labels.Labels
	// ExternalURL is visible to templates as $externalURL and prefixes the
	// alerts' GeneratorURL.
	ExternalURL *url.URL
	// Logger receives template expansion failures; nil discards them.
	Logger *slog.Logger
}

// AlertingRule turns the samples of an expression into alerts.
type AlertingRule struct {
	ruleState
	name          string
	expr          string
	holdDuration  time.Duration
	keepFiringFor time.Duration
	labels        labels.Labels
	annotations   labels.Labels

	externalLabels map[string]string
	externalURL    *url.URL
	generatorURL   string
	logger         *slog.Logger

	mu     sync.Mutex
	active map[uint64]*Alert // by label hash
}

// NewAlertingRule returns a rule alerting on expr once it has held for
// hold, and firing on for keepFiringFor after it stops holding.
func NewAlertingRule(name, expr string, hold, keepFiringFor time.Duration, lset, annotations labels.Labels, o AlertingRuleOptions) *AlertingRule {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	prefix := ""
	if o.ExternalURL != nil {
		prefix = o.ExternalURL.String()
	}
	return &AlertingRule{
		ruleState:      newRuleState(),
		name:           name,
		expr:           expr,
		holdDuration:   hold,
		keepFiringFor:  keepFiringFor,
		labels:         lset,
		annotations:    annotations,
		externalLabels: o.ExternalLabels.Map(),
		externalURL:    o.ExternalURL,
		generatorURL:   prefix + tableLink(expr),
		logger:         logger.With("alert", name),
		active:         map[uint64]*Alert{},
	}
}

func (r *AlertingRule) Name() string                 { return r.name }
func (r *AlertingRule) Labels() labels.Labels        { return r.labels }
func (r *AlertingRule) Query() string                { return r.expr }
func (r *AlertingRule) Annotations() labels.Labels   { return r.annotations }
func (r *AlertingRule) HoldDuration() time.Duration  { return r.holdDuration }
func (r *AlertingRule) KeepFiringFor() time.Duration { return r.keepFiringFor }

// Eval evaluates the expression, moves alerts between states and returns
// the ALERTS and ALERTS_FOR_STATE samples to write.
func (r *AlertingRule) Eval(ctx context.Context, queryOffset time.Duration, ts time.Time, q QueryFunc, limit int) (query.Vector, error) {
	return r.eval(ctx, queryOffset, ts, q, limit, nil)
}

// eval is Eval, restoring the alerts' `for` state through fr first when fr
// is not nil.
func (r *AlertingRule) eval(ctx context.Context, queryOffset time.Duration, ts time.Time, q QueryFunc, limit int, fr *forStateRestorer) (query.Vector, error) {
	evalTS := ts.Add(-queryOffset)
	res, err := q(ctx, r.expr, evalTS)
	if err != nil {
		return nil, err
	}

	funcs := templateEnv{ctx: ctx, ts: ts, query: q, externalURL: r.externalURL}.funcs()
	extURL := ""
	if r.externalURL != nil {
		extURL = r.externalURL.String()
	}
	current := make(map[uint64]*Alert, len(res))
	b := labels.NewBuilder(labels.EmptyLabels())
	for _, s := range res {
		data := templateData{
			Labels:         s.Metric.Map(),
			ExternalLabels: r.externalLabels,
			ExternalURL:    extURL,
			Value:          s.F,
		}
		expand := func(text string) string {
			out, err := expandWith(funcs, "__alert_"+r.name, text, data)
			if err != nil {
				// The alert still goes out; its text says what went wrong.
				r.logger.Warn("expanding alert template failed", "err", err, "labels", s.Metric.String())
				return fmt.Sprintf("<error expanding template: %s>", err)
			}
			return out
		}
		b.Reset(s.Metric)
		b.Del(labels.MetricName)
		r.labels.Range(func(l labels.Label) { b.Set(l.Name, expand(l.Value)) })
		b.Set(labels.AlertName, r.name)
		sb := labels.NewScratchBuilder(r.annotations.Len())
		r.annotations.Range(func(a labels.Label) { sb.Add(a.Name, expand(a.Value)) })

		lset := b.Labels()
		h := lset.Hash()
		if _, dup := current[h]; dup {
			return nil, ErrDuplicateAlertLabelSet
		}
		current[h] = &Alert{
			State:        StatePending,
			Labels:       lset,
			Annotations:  sb.Labels(),
			Value:        s.F,
			ActiveAt:     ts,
			GeneratorURL: r.generatorURL,
		}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	for h, a := range current {
		if old, ok := r.active[h]; ok && old.State != StateInactive {
			old.Value = a.Value
			old.Annotations = a.Annotations
			continue
		}
		r.active[h] = a
	}
	if fr != nil {
		if err := fr.restoreActive(ctx, r, ts); err != nil {
			// Nothing retries a restore: the alerts keep their fresh
			// ActiveAt and wait out their whole `for`.
			r.logger.Error("restoring alert 'for' state failed", "err", err)
		}
	}

	var vec query.Vector
	activeOrPending := 0
	for h, a := range r.active {
		if _, ok := current[h]; ok {
			a.KeepFiringSince = time.Time{}
		} else if !r.keepsFiring(a, ts) {
			if a.State == StatePending || (!a.ResolvedAt.IsZero() && ts.Sub(a.ResolvedAt) > resolvedRetention) {
				delete(r.active, h)
			}
			if a.State != StateInactive {
				a.State = StateInactive
				a.ResolvedAt = ts
			}
			continue
		}
		activeOrPending++

		if a.State == StatePending && ts.Sub(a.ActiveAt) >= r.holdDuration {
			a.State = StateFiring
			a.FiredAt = ts
		}
		// A reload may lengthen `for`: an alert no longer held long
		// enough goes back to pending.
		if a.State == StateFiring && ts.Sub(a.ActiveAt) < r.holdDuration {
			a.State = StatePending
			a.FiredAt, a.LastSentAt, a.KeepFiringSince = time.Time{}, time.Time{}, time.Time{}
		}
		vec = append(vec, r.alertSample(a, evalTS), r.forStateSample(a, evalTS))
	}
	if limit > 0 && activeOrPending > limit {
		r.active = map[uint64]*Alert{}
		return nil, fmt.Errorf("exceeded limit of %d with %d alerts", limit, activeOrPending)
	}
	return vec, nil
}

// keepsFiring reports whether a firing alert the expression no longer
// returns stays firing under keep_firing_for, starting its clock.
func (r *AlertingRule) keepsFiring(a *Alert, ts time.Time) bool {
	if a.State != StateFiring || r.keepFiringFor <= 0 {
		return false
	}
	if a.KeepFiringSince.IsZero() {
		a.KeepFiringSince = ts
	}
	return ts.Sub(a.KeepFiringSince) < r.keepFiringFor
}

// alertSample is the ALERTS series point for a: 1 with the alert's state.
func (r *AlertingRule) alertSample(a *Alert, ts time.Time) query.Sample {
	b := labels.NewBuilder(a.Labels)
	b.Set(labels.MetricName, alertMetricName)
	b.Set(labels.AlertName, r.name)
	b.Set(alertStateLabel, a.State.String())
	return query.Sample{Metric: b.Labels(), T: ts.UnixMilli(), F: 1}
}

// forStateSample is the ALERTS_FOR_STATE point for a: when it became
// active, in Unix seconds, so its pending time can be restored.
func (r *AlertingRule) forStateSample(a *Alert, ts time.Time) query.Sample {
	b := labels.NewBuilder(a.Labels)
	b.Set(labels.MetricName, alertForStateMetricName)
	b.Set(labels.AlertName, r.name)
	return query.Sample{Metric: b.Labels(), T: ts.UnixMilli(), F: float64(a.ActiveAt.Unix())}
}

// State returns the most severe state among the rule's alerts.
func (r *AlertingRule) State() AlertState {
	if r.LastEvaluation().IsZero() {
		return StateUnknown
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	state := StateInactive
	for _, a := range r.active {
		state = max(state, a.State)
	}
	return state
}

// ActiveAlerts returns copies of the pending and firing alerts.
func (r *AlertingRule) ActiveAlerts() []*Alert {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*Alert
	for _, a := range r.active {
		if a.ResolvedAt.IsZero() {
			c := *a
			out = append(out, &c)
		}
	}
	sortAlerts(out)
	return out
}

// sendAlerts hands due alerts to n. ValidUntil allows for a few missed
// evaluations or sends before Alertmanager resolves the alert itself.
func (r *AlertingRule) sendAlerts(ts time.Time, resendDelay, interval time.Duration, n Notifier) {
	if n == nil {
		return
	}
	var due []*Alert
	r.mu.Lock()
	for _, a := range r.active {
		if !a.needsSending(ts, resendDelay) {
			continue
		}
		a.LastSentAt = ts
		a.ValidUntil = ts.Add(4 * max(interval, resendDelay))
		c := *a
		c.Labels = a.Labels.Copy()
		due = append(due, &c)
	}
	r.mu.Unlock()
	if len(due) > 0 {
		sortAlerts(due)
		n.Send(due...)
	}
}

// copyStateFrom takes over the alerts of the same rule from before a
// reload.
func (r *AlertingRule) copyStateFrom(old *AlertingRule) {
	old.mu.Lock()
	defer old.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	for h, a := range old.active {
		r.active[h] = a
	}
}

func (r *AlertingRule) String() string {
	return ruleYAML(struct {
		Alert         string            `yaml:"alert"`
		Expr          string            `yaml:"expr"`
		For           string            `yaml:"for,omitempty"`
		KeepFiringFor string            `yaml:"keep_firing_for,omitempty"`
		Labels        map[string]string `yaml:"labels,omitempty"`
		Annotations   map[string]string `yaml:"annotations,omitempty"`
	}{
		r.name, r.expr, durationText(r.holdDuration), durationText(r.keepFiringFor),
		r.labels.Map(), r.annotations.Map(),
	})
}

func durationText(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return model.Duration(d).String()
}

func sortAlerts(as []*Alert) {
	slices.SortFunc(as, func(a, b *Alert) int { return labels.Compare(a.Labels, b.Labels) })
}
