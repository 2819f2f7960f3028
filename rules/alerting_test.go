package rules

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// alertTimeline evaluates a group with one alerting rule over a signal
// present (true) or absent at each minute and reports the rule's alert
// state after each evaluation.
func alertTimeline(t *testing.T, rule string, present []bool) ([]string, *testEnv, *Group) {
	t.Helper()
	e := newTestEnv(t, ManagerOptions{})
	g := e.load(t, "groups:\n  - name: alerts\n    rules:\n"+rule, labels.EmptyLabels())
	lset := labels.FromStrings("__name__", "errors", "instance", "a")
	var states []string
	for i, p := range present {
		if p {
			e.add(t, lset, at(float64(i)), 1)
		} else {
			// Absent: a stale marker ends the series at once.
			e.add(t, lset, at(float64(i)), staleNaN())
		}
		g.Eval(context.Background(), at(float64(i)))
		ar := g.AlertingRules()[0]
		state := "inactive"
		if as := ar.ActiveAlerts(); len(as) == 1 {
			state = as[0].State.String()
		} else if len(as) > 1 {
			t.Fatalf("minute %d: %d alerts, want at most one", i, len(as))
		}
		states = append(states, state)
	}
	return states, e, g
}

func TestAlertStateTiming(t *testing.T) {
	on, off := true, false
	tests := []struct {
		name    string
		rule    string
		present []bool
		want    []string
	}{
		{
			name:    "without for an alert fires at once",
			rule:    "      - alert: HighErrors\n        expr: errors > 0\n",
			present: []bool{on, on, off},
			want:    []string{"firing", "firing", "inactive"},
		},
		{
			name:    "for holds an alert pending",
			rule:    "      - alert: HighErrors\n        expr: errors > 0\n        for: 2m\n",
			present: []bool{on, on, on, on, off},
			want:    []string{"pending", "pending", "firing", "firing", "inactive"},
		},
		{
			name:    "a pending alert that stops is dropped and starts over",
			rule:    "      - alert: HighErrors\n        expr: errors > 0\n        for: 2m\n",
			present: []bool{on, on, off, on, on, on},
			want:    []string{"pending", "pending", "inactive", "pending", "pending", "firing"},
		},
		{
			name:    "keep_firing_for keeps a firing alert after the condition stops",
			rule:    "      - alert: HighErrors\n        expr: errors > 0\n        keep_firing_for: 2m\n",
			present: []bool{on, off, off, off},
			want:    []string{"firing", "firing", "firing", "inactive"},
		},
		{
			name:    "keep_firing_for restarts when the condition returns",
			rule:    "      - alert: HighErrors\n        expr: errors > 0\n        keep_firing_for: 2m\n",
			present: []bool{on, off, on, off, off, off},
			want:    []string{"firing", "firing", "firing", "firing", "firing", "inactive"},
		},
		{
			name:    "keep_firing_for does not hold a pending alert",
			rule:    "      - alert: HighErrors\n        expr: errors > 0\n        for: 5m\n        keep_firing_for: 2m\n",
			present: []bool{on, off},
			want:    []string{"pending", "inactive"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _, _ := alertTimeline(t, tc.rule, tc.present)
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("states by minute = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAlertTimestampsAndSeries(t *testing.T) {
	_, e, g := alertTimeline(t, "      - alert: HighErrors\n        expr: errors > 0\n        for: 1m\n        labels: {severity: page}\n", []bool{true, true, true, false})
	ar := g.AlertingRules()[0]
	if s := ar.State(); s != StateInactive {
		t.Errorf("rule state after resolution = %s, want inactive", s)
	}
	ar.mu.Lock()
	var resolved *Alert
	for _, a := range ar.active {
		resolved = a
	}
	ar.mu.Unlock()
	if resolved == nil {
		t.Fatal("resolved alert was not kept")
	}
	if !resolved.ActiveAt.Equal(at(0)) || !resolved.FiredAt.Equal(at(1)) || !resolved.ResolvedAt.Equal(at(3)) {
		t.Errorf("activeAt %v firedAt %v resolvedAt %v, want minutes 0, 1, 3", resolved.ActiveAt, resolved.FiredAt, resolved.ResolvedAt)
	}
	wantLabels := `{alertname="HighErrors", instance="a", severity="page"}`
	if got := seriesKey(resolved.Labels); got != wantLabels {
		t.Errorf("alert labels %s, want %s", got, wantLabels)
	}

	got := e.st.samples(t, labels.MustNewMatcher(labels.MatchRegexp, "__name__", "ALERTS.*"))
	pending := got[`ALERTS{alertname="HighErrors", alertstate="pending", instance="a", severity="page"}`]
	firing := got[`ALERTS{alertname="HighErrors", alertstate="firing", instance="a", severity="page"}`]
	forState := got[`ALERTS_FOR_STATE{alertname="HighErrors", instance="a", severity="page"}`]
	if len(pending) != 2 || pending[0].F != 1 || !isStale(pending[1].F) {
		t.Errorf("pending ALERTS = %v, want 1 at minute 0 then stale at minute 1", pending)
	}
	if len(firing) != 3 || firing[0].T != at(1).UnixMilli() || !isStale(firing[2].F) || firing[2].T != at(3).UnixMilli() {
		t.Errorf("firing ALERTS = %v, want 1 at minutes 1 and 2, stale at 3", firing)
	}
	if len(forState) != 4 || forState[0].F != float64(at(0).Unix()) || !isStale(forState[3].F) {
		t.Errorf("ALERTS_FOR_STATE = %v, want the activation time in seconds then stale", forState)
	}
}

func TestResolvedAlertsKeptFifteenMinutes(t *testing.T) {
	present := make([]bool, 20)
	present[0] = true
	_, _, g := alertTimeline(t, "      - alert: HighErrors\n        expr: errors > 0\n", present)
	ar := g.AlertingRules()[0]
	count := func() int { ar.mu.Lock(); defer ar.mu.Unlock(); return len(ar.active) }
	// Resolved at minute 1; kept while less than 15m old (through minute
	// 16), dropped at the first evaluation after that.
	if n := count(); n != 0 {
		t.Errorf("after 19 minutes: %d alerts kept, want 0", n)
	}
	_, _, g = alertTimeline(t, "      - alert: HighErrors\n        expr: errors > 0\n", present[:16])
	ar = g.AlertingRules()[0]
	if n := count(); n != 1 {
		t.Errorf("after 15 minutes: %d alerts kept, want the resolved one", n)
	}
}

func TestAlertNotifications(t *testing.T) {
	e := newTestEnv(t, ManagerOptions{ResendDelay: 2 * time.Minute})
	g := e.load(t, `
groups:
  - name: alerts
    rules:
      - alert: Down
        expr: up == 0
        for: 1m
`, labels.EmptyLabels())
	lset := labels.FromStrings("__name__", "up", "instance", "a")
	values := []float64{0, 0, 0, 0, 0, 1, 1}
	var log []string
	for i, v := range values {
		e.add(t, lset, at(float64(i)), v)
		g.Eval(context.Background(), at(float64(i)))
		for _, a := range e.notifier.take() {
			entry := fmt.Sprintf("%d:%s", i, a.State)
			if !a.ResolvedAt.IsZero() {
				entry += "/resolved"
			}
			log = append(log, entry)
			if a.GeneratorURL != "http://argus.example:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1" {
				t.Errorf("generator URL %q", a.GeneratorURL)
			}
			if want := at(float64(i)).Add(4 * 2 * time.Minute); !a.ValidUntil.Equal(want) {
				t.Errorf("minute %d: ValidUntil %v, want %v (4 resend delays)", i, a.ValidUntil, want)
			}
		}
	}
	// Pending alerts are not sent; firing ones are resent once the resend
	// delay has passed; the resolution goes out at once.
	want := "1:firing,4:firing,5:inactive/resolved"
	if got := strings.Join(log, ","); got != want {
		t.Fatalf("notifications = %s, want %s", got, want)
	}
}

func TestAlertLimitAndDuplicates(t *testing.T) {
	e := newTestEnv(t, ManagerOptions{})
	g := e.load(t, `
groups:
  - name: alerts
    limit: 1
    rules:
      - alert: Many
        expr: v > 0
      - alert: Same
        expr: '{__name__=~"x|y"}'
`, labels.EmptyLabels())
	e.add(t, labels.FromStrings("__name__", "v", "i", "1"), at(0), 1)
	e.add(t, labels.FromStrings("__name__", "v", "i", "2"), at(0), 1)
	e.add(t, labels.FromStrings("__name__", "x", "i", "1"), at(0), 1)
	e.add(t, labels.FromStrings("__name__", "y", "i", "1"), at(0), 1)
	g.Eval(context.Background(), at(0))
	rules := g.AlertingRules()
	if err := rules[0].LastError(); err == nil || err.Error() != "exceeded limit of 1 with 2 alerts" {
		t.Errorf("limit: error %v", err)
	}
	if n := len(rules[0].ActiveAlerts()); n != 0 {
		t.Errorf("limit: %d alerts kept, want none", n)
	}
	// Without the metric name the two samples are one alert.
	if err := rules[1].LastError(); !errors.Is(err, ErrDuplicateAlertLabelSet) {
		t.Errorf("duplicates: error %v, want %v", err, ErrDuplicateAlertLabelSet)
	}
}
