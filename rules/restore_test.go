package rules

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/query"
)

// runRules loads rule into a new manager over st (as a restarted server
// would) and evaluates its group at each minute given, returning the group.
func runRules(t *testing.T, st *testStorage, opts ManagerOptions, rule string, minutes ...float64) *Group {
	t.Helper()
	opts.QueryFunc = EngineQueryFunc(query.NewEngine(query.EngineOpts{}), st)
	opts.Appendable = st
	m := NewManager(opts)
	t.Cleanup(m.Stop)
	file := filepath.Join(t.TempDir(), "rules.yml")
	content := "groups:\n  - name: alerts\n    rules:\n" + rule
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Update(time.Minute, []string{file}, labels.EmptyLabels(), "", nil); err != nil {
		t.Fatalf("Update: %v", err)
	}
	g := m.RuleGroups()[0]
	for _, min := range minutes {
		g.Eval(context.Background(), at(min))
	}
	return g
}

func minutesRange(from, to float64) []float64 {
	var out []float64
	for m := from; m <= to; m++ {
		out = append(out, m)
	}
	return out
}

func TestForStateRestoredAfterRestart(t *testing.T) {
	const for10m = "      - alert: InstanceDown\n        expr: up == 0\n        for: 10m\n        labels:\n          severity: page\n"
	tests := []struct {
		name string
		// before are the minutes the first run evaluated; restart is when
		// the second run first evaluates.
		before     []float64
		restart    float64
		noRestore  bool
		tolerance  time.Duration
		grace      time.Duration
		wantState  AlertState
		wantActive float64
	}{
		{
			name:    "firing alert keeps firing and its ActiveAt",
			before:  minutesRange(0, 11),
			restart: 13, wantState: StateFiring, wantActive: 0,
		},
		{
			name:    "pending alert does not count the downtime",
			before:  minutesRange(0, 4),
			restart: 6, grace: 2 * time.Minute,
			wantState: StatePending, wantActive: 2,
		},
		{
			name:      "alert due to fire soon waits the grace period",
			before:    minutesRange(0, 4),
			restart:   6, // 6m left of `for`, less than the 10m grace period
			wantState: StatePending, wantActive: 6,
		},
		{
			name:    "outage longer than the tolerance starts afresh",
			before:  minutesRange(0, 11),
			restart: 11 + 61, wantState: StatePending, wantActive: 11 + 61,
		},
		{
			name:    "shorter tolerance",
			before:  minutesRange(0, 11),
			restart: 20, tolerance: 5 * time.Minute,
			wantState: StatePending, wantActive: 20,
		},
		{
			name:    "without a Queryable nothing is restored",
			before:  minutesRange(0, 11),
			restart: 13, noRestore: true,
			wantState: StatePending, wantActive: 13,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newTestStorage()
			up := labels.FromStrings("__name__", "up", "job", "node")
			for m := 0.0; m <= tc.restart; m++ {
				if err := st.Add(up, at(m).UnixMilli(), 0); err != nil {
					t.Fatal(err)
				}
			}
			opts := ManagerOptions{Queryable: st, OutageTolerance: tc.tolerance, ForGracePeriod: tc.grace}
			first := runRules(t, st, opts, for10m, tc.before...)
			if got := first.AlertingRules()[0].State(); len(tc.before) >= 11 && got != StateFiring {
				t.Fatalf("before the restart the alert is %s, want firing", got)
			}

			if tc.noRestore {
				opts.Queryable = nil
			}
			g := runRules(t, st, opts, for10m, tc.restart)
			alerts := g.AlertingRules()[0].ActiveAlerts()
			if len(alerts) != 1 {
				t.Fatalf("after the restart: %d alerts, want 1", len(alerts))
			}
			if alerts[0].State != tc.wantState || !alerts[0].ActiveAt.Equal(at(tc.wantActive)) {
				t.Errorf("after the restart: %s active at %s, want %s active at %s",
					alerts[0].State, alerts[0].ActiveAt.UTC(), tc.wantState, at(tc.wantActive))
			}
			// The ALERTS series written at the first evaluation after the
			// restart shows the restored state.
			series := st.samples(t, nameIs("ALERTS"))
			key := `ALERTS{alertname="InstanceDown", alertstate="` + tc.wantState.String() + `", job="node", severity="page"}`
			pts := series[key]
			if len(pts) == 0 || pts[len(pts)-1].T != at(tc.restart).UnixMilli() {
				t.Errorf("no %s sample at the restart evaluation; series: %v", key, series)
			}
		})
	}
}

func TestForStateRestoredOnlyOnFirstLoad(t *testing.T) {
	st := newTestStorage()
	up := labels.FromStrings("__name__", "up", "job", "node")
	for m := 0.0; m <= 20; m++ {
		if err := st.Add(up, at(m).UnixMilli(), 0); err != nil {
			t.Fatal(err)
		}
	}
	rule := "      - alert: InstanceDown\n        expr: up == 0\n        for: 10m\n"
	runRules(t, st, ManagerOptions{}, rule, minutesRange(0, 11)...)

	// A group added by a reload is a new rule: it has no state to restore,
	// even if an identically named alert once wrote ALERTS_FOR_STATE.
	opts := ManagerOptions{Queryable: st}
	opts.QueryFunc = EngineQueryFunc(query.NewEngine(query.EngineOpts{}), st)
	opts.Appendable = st
	m := NewManager(opts)
	t.Cleanup(m.Stop)
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.yml")
	if err := os.WriteFile(empty, []byte("groups: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Update(time.Minute, []string{empty}, labels.EmptyLabels(), "", nil); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "rules.yml")
	if err := os.WriteFile(file, []byte("groups:\n  - name: alerts\n    rules:\n"+rule), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := m.Update(time.Minute, []string{file}, labels.EmptyLabels(), "", nil); err != nil {
		t.Fatal(err)
	}
	g := m.RuleGroups()[0]
	g.Eval(context.Background(), at(13))
	if got := g.AlertingRules()[0].State(); got != StatePending {
		t.Errorf("alert of a reloaded group is %s, want pending", got)
	}
}
