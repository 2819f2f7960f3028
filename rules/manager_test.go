package rules

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/labels"
)

const alertFile = `
groups:
  - name: alerts
    rules:
      - alert: Down
        expr: up == 0
        for: 1m
`

func TestUpdateKeepsUnchangedGroupsAndAlertState(t *testing.T) {
	e := newTestEnv(t, ManagerOptions{})
	g1 := e.load(t, alertFile, labels.EmptyLabels())
	e.add(t, labels.FromStrings("__name__", "up", "instance", "a"), at(0), 0)
	g1.Eval(context.Background(), at(0))
	e.add(t, labels.FromStrings("__name__", "up", "instance", "a"), at(1), 0)
	g1.Eval(context.Background(), at(1))

	if g := e.load(t, alertFile, labels.EmptyLabels()); g != g1 {
		t.Error("reloading an unchanged file replaced its group")
	}

	// Adding a rule changes the group: the alert carries over, still
	// firing since minute 0.
	g2 := e.load(t, alertFile+"      - record: extra\n        expr: up\n", labels.EmptyLabels())
	if g2 == g1 {
		t.Fatal("changed group was not replaced")
	}
	alerts := g2.AlertingRules()[0].ActiveAlerts()
	if len(alerts) != 1 || alerts[0].State != StateFiring || !alerts[0].ActiveAt.Equal(at(0)) {
		t.Fatalf("alerts after reload = %+v, want one firing since minute 0", alerts)
	}
}

func TestUpdateWithBadFileKeepsPreviousRules(t *testing.T) {
	e := newTestEnv(t, ManagerOptions{})
	g := e.load(t, alertFile, labels.EmptyLabels())
	file := filepath.Join(e.dir, "rules.yml")
	if err := os.WriteFile(file, []byte("groups:\n  - name: x\n    rules:\n      - alert: A\n        expr: up ==\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := e.mgr.Update(time.Minute, []string{file}, labels.EmptyLabels(), "", nil)
	if err == nil || !strings.Contains(err.Error(), file+":5:15: ") {
		t.Fatalf("Update error %v, want one naming %s:5:15", err, file)
	}
	if gs := e.mgr.RuleGroups(); len(gs) != 1 || gs[0] != g {
		t.Fatalf("groups after a failed reload = %v, want the previous group", gs)
	}
}

func TestRemovedRuleSeriesMarkedStale(t *testing.T) {
	e := newTestEnv(t, ManagerOptions{})
	g := e.load(t, "groups:\n  - name: rec\n    rules:\n      - record: keep\n        expr: up\n      - record: gone\n        expr: up\n", labels.EmptyLabels())
	e.add(t, labels.FromStrings("__name__", "up"), at(0), 1)
	g.Eval(context.Background(), at(0))

	// Within a group, a removed rule's series go stale at the next
	// evaluation of the new group.
	g = e.load(t, "groups:\n  - name: rec\n    rules:\n      - record: keep\n        expr: up\n", labels.EmptyLabels())
	g.Eval(context.Background(), at(1))
	gone := e.st.samples(t, nameIs("gone"))["gone"]
	if len(gone) != 2 || !isStale(gone[1].F) || gone[1].T != at(1).UnixMilli() {
		t.Fatalf("removed rule's series = %v, want a stale marker at minute 1", gone)
	}
	keep := e.st.samples(t, nameIs("keep"))["keep"]
	if len(keep) != 2 || isStale(keep[1].F) {
		t.Fatalf("kept rule's series = %v, want two real samples", keep)
	}
}

func TestRemovedGroupSeriesMarkedStale(t *testing.T) {
	e := newTestEnv(t, ManagerOptions{})
	g := e.load(t, "groups:\n  - name: rec\n    interval: 10ms\n    rules:\n      - record: gone\n        expr: up\n", labels.EmptyLabels())
	now := time.Now().Add(-time.Minute)
	e.add(t, labels.FromStrings("__name__", "up"), now, 1)
	g.Eval(context.Background(), now)
	e.load(t, "groups:\n  - name: other\n    rules:\n      - record: x\n        expr: up\n", labels.EmptyLabels())

	deadline := time.Now().Add(5 * time.Second)
	for {
		pts := e.st.samples(t, nameIs("gone"))["gone"]
		if len(pts) == 2 && isStale(pts[1].F) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("removed group's series = %v, want a stale marker two intervals after removal", pts)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRunEvaluatesOnScheduleAndCountsMissedIterations(t *testing.T) {
	e := newTestEnv(t, ManagerOptions{})
	file := filepath.Join(e.dir, "rules.yml")
	if err := os.WriteFile(file, []byte("groups:\n  - name: fast\n    interval: 20ms\n    rules:\n      - record: one\n        expr: vector(1)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	var stamps []time.Time
	slowFirst := func(ctx context.Context, g *Group, ts time.Time) {
		n := calls.Add(1)
		if n <= 3 {
			stamps = append(stamps, ts)
		}
		DefaultEvalIterationFunc(ctx, g, ts)
		if n == 1 {
			time.Sleep(70 * time.Millisecond) // overruns the next iterations
		}
	}
	if err := e.mgr.Update(time.Minute, []string{file}, labels.EmptyLabels(), "", slowFirst); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	if calls.Load() != 0 {
		t.Fatal("groups evaluated before Run")
	}
	e.mgr.Run()
	deadline := time.Now().Add(5 * time.Second)
	for calls.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d iterations in 5s, want 3", calls.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.mgr.Stop()

	g := e.mgr.RuleGroups()[0]
	key := GroupKey(file, "fast")
	if missed := testutil.ToFloat64(e.mgr.deps.metrics.iterationsMissed.WithLabelValues(key)); missed < 1 {
		t.Errorf("argus_rule_group_iterations_missed_total = %v, want at least 1", missed)
	}
	for i, ts := range stamps {
		// Timestamps stay on the group's slots, skipped ones included.
		if !g.evalSlot(ts).Equal(ts) {
			t.Errorf("iteration %d at %v, not on a slot of the group", i, ts)
		}
		if i > 0 && ts.Sub(stamps[i-1])%g.Interval() != 0 {
			t.Errorf("iterations %d and %d are %v apart, want a multiple of 20ms", i-1, i, ts.Sub(stamps[i-1]))
		}
	}
	if pts := e.st.samples(t, nameIs("one"))["one"]; len(pts) < 3 {
		t.Errorf("recorded %d samples, want at least 3", len(pts))
	}
}

func TestEvalSlotIsStableAndSpread(t *testing.T) {
	mk := func(name string) *Group { return &Group{name: name, file: "f.yml", interval: time.Minute} }
	a, b := mk("a"), mk("b")
	now := at(10.5)
	sa := a.evalSlot(now)
	if sa.After(now) || now.Sub(sa) >= time.Minute {
		t.Errorf("slot %v is not within the minute before %v", sa, now)
	}
	if !a.evalSlot(now.Add(time.Minute)).Equal(sa.Add(time.Minute)) {
		t.Error("slots are not one interval apart")
	}
	if sa.Equal(b.evalSlot(now)) {
		t.Error("two groups share a slot offset; the hash should spread them")
	}
}

// TestManagerViews checks what /api/v1/rules and /api/v1/alerts read.
func TestManagerViews(t *testing.T) {
	e := newTestEnv(t, ManagerOptions{})
	g := e.load(t, `
groups:
  - name: g
    rules:
      - record: r
        expr: sum(up)
      - alert: Down
        expr: up == 0
        for: 5m
        keep_firing_for: 1m
        annotations: {summary: down}
`, labels.EmptyLabels())
	if r := e.mgr.Rules(); len(r) != 2 || r[0].Query() != "sum(up)" || r[0].Health() != HealthUnknown {
		t.Fatalf("rules before evaluation = %v", r)
	}
	ar := e.mgr.AlertingRules()[0]
	if ar.State() != StateUnknown {
		t.Errorf("state before evaluation = %s, want unknown", ar.State())
	}
	e.add(t, labels.FromStrings("__name__", "up", "instance", "a"), at(0), 0)
	g.Eval(context.Background(), at(0))

	if ar.State() != StatePending || ar.HoldDuration() != 5*time.Minute || ar.KeepFiringFor() != time.Minute ||
		ar.Annotations().Get("summary") != "down" || ar.Query() != "up == 0" {
		t.Errorf("alerting rule view: state %s hold %s keep %s annotations %v query %q",
			ar.State(), ar.HoldDuration(), ar.KeepFiringFor(), ar.Annotations(), ar.Query())
	}
	if g.LastEvaluation().IsZero() || g.EvaluationTime() <= 0 || !g.LastEvalTimestamp().Equal(at(0)) {
		t.Errorf("group view: last evaluation %v took %v at %v", g.LastEvaluation(), g.EvaluationTime(), g.LastEvalTimestamp())
	}
	for _, r := range e.mgr.Rules() {
		if r.LastEvaluation().IsZero() || r.EvaluationDuration() <= 0 || r.Health() != HealthGood {
			t.Errorf("rule %s view: evaluated %v took %v health %s", r.Name(), r.LastEvaluation(), r.EvaluationDuration(), r.Health())
		}
	}
	if !strings.Contains(ar.String(), "keep_firing_for: 1m") {
		t.Errorf("rule text %q lacks keep_firing_for", ar.String())
	}
}
