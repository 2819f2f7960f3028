package rules

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"github.com/argusmon/argus/query"
	"github.com/argusmon/argus/storage"
)

// Prometheus's --rules.alert.for-outage-tolerance and
// --rules.alert.for-grace-period defaults.
const (
	defaultOutageTolerance = time.Hour
	defaultForGracePeriod  = 10 * time.Minute
)

// restoreOptions say where and how far back the `for` state of alerts is
// read when the rules first start.
type restoreOptions struct {
	queryable       query.Queryable
	outageTolerance time.Duration
	gracePeriod     time.Duration
}

// forStateRestorer restores, during a group's first evaluation, when the
// alerts that were active before a restart became active, from the
// ALERTS_FOR_STATE series the previous run wrote. Without it every alert
// with a `for` would go back to pending for its whole hold duration after
// each restart.
//
// Prometheus restores after the group's second evaluation, and alerts turn
// firing at the third. Argus restores inside the first evaluation, after
// the expression is evaluated and before states move, so an alert that was
// firing keeps firing without a gap in notifications or ALERTS series.
type forStateRestorer struct {
	q           storage.Querier
	gracePeriod time.Duration
}

// openRestorer returns a restorer reading [ts - outage tolerance, ts].
func (o *restoreOptions) openRestorer(ts time.Time) (*forStateRestorer, error) {
	mint := ts.Add(-o.outageTolerance).UnixMilli()
	q, err := o.queryable.Querier(mint, ts.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("opening querier over [%d, %d] to restore alert 'for' state: %w", mint, ts.UnixMilli(), err)
	}
	return &forStateRestorer{q: q, gracePeriod: o.gracePeriod}, nil
}

func (fr *forStateRestorer) close() error { return fr.q.Close() }

// lastStates reads, for the rule, the last ALERTS_FOR_STATE sample of each
// alert: when the previous run last saw it (downAt) and when it became
// active. Alerts whose last sample is a stale marker were resolved and are
// left out.
func (fr *forStateRestorer) lastStates(ctx context.Context, r *AlertingRule) (map[string]forState, error) {
	matchers := []*labels.Matcher{
		labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, alertForStateMetricName),
		labels.MustNewMatcher(labels.MatchEqual, labels.AlertName, r.name),
	}
	r.labels.Range(func(l labels.Label) {
		// Templated values differ per alert; they cannot narrow the
		// selection.
		if strings.Contains(l.Value, "{{") || l.Name == labels.AlertName {
			return
		}
		matchers = append(matchers, labels.MustNewMatcher(labels.MatchEqual, l.Name, l.Value))
	})
	set := fr.q.Select(ctx, false, nil, matchers...)
	out := map[string]forState{}
	for set.Next() {
		s := set.At()
		var t int64
		var v float64
		found := false
		it := s.Iterator(nil)
		for it.Next() == storage.ValFloat {
			t, v = it.At()
			found = true
		}
		if err := it.Err(); err != nil {
			return nil, fmt.Errorf("reading %s: %w", s.Labels(), err)
		}
		if !found || value.IsStaleNaN(v) {
			continue
		}
		key := labels.NewBuilder(s.Labels()).Del(labels.MetricName).Labels().String()
		out[key] = forState{downAt: time.UnixMilli(t), activeAt: time.Unix(int64(v), 0)}
	}
	if err := set.Err(); err != nil {
		return nil, fmt.Errorf("selecting %s series of alert %q: %w", alertForStateMetricName, r.name, err)
	}
	return out, nil
}

type forState struct {
	downAt, activeAt time.Time
}

// restoredActiveAt returns the ActiveAt to give an alert of a rule holding
// for hold, evaluated at ts, given its state before the restart, and
// whether to change it at all. As in Prometheus, the time the server was
// down does not count towards `for` (the alert was not observed), and an
// alert about to fire gets at least the grace period before it does, so a
// restart does not fire alerts before the data behind them is back.
func restoredActiveAt(st forState, hold, grace time.Duration, ts time.Time) (time.Time, bool) {
	remaining := hold - st.downAt.Sub(st.activeAt)
	switch {
	case remaining <= 0:
		// Firing before the restart: it keeps its original ActiveAt.
		return st.activeAt, true
	case hold < grace:
		// Waiting out the grace period would be longer than the whole
		// `for`: start the hold afresh.
		return time.Time{}, false
	case remaining < grace:
		return ts.Add(grace).Add(-hold), true
	default:
		return st.activeAt.Add(ts.Sub(st.downAt)), true
	}
}

// restoreActive applies the stored for-state to the rule's active alerts.
// The caller holds r.mu.
func (fr *forStateRestorer) restoreActive(ctx context.Context, r *AlertingRule, ts time.Time) error {
	if len(r.active) == 0 {
		return nil
	}
	states, err := fr.lastStates(ctx, r)
	if err != nil {
		return err
	}
	for _, a := range r.active {
		st, ok := states[a.Labels.String()]
		if !ok {
			continue
		}
		if at, ok := restoredActiveAt(st, r.holdDuration, fr.gracePeriod, ts); ok {
			a.ActiveAt = at
			r.logger.Debug("alert 'for' state restored", "labels", a.Labels.String(), "active_at", at)
		}
	}
	return nil
}
