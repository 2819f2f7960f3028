package rules

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/query"
)

func TestRecordingRuleWritesResults(t *testing.T) {
	e := newTestEnv(t, ManagerOptions{})
	g := e.load(t, `
groups:
  - name: rec
    labels: {team: infra}
    rules:
      - record: job:requests:sum
        expr: sum by (job) (requests)
        labels: {source: rule}
      - record: job:requests:double
        expr: job:requests:sum * 2
      - record: answer
        expr: "42"
`, labels.EmptyLabels())
	for _, inst := range []string{"a", "b"} {
		e.add(t, labels.FromStrings("__name__", "requests", "job", "api", "instance", inst), at(0), 3)
	}
	g.Eval(context.Background(), at(1))

	tests := []struct {
		name   string
		series string
		want   float64
	}{
		{"rule labels and group labels are added", `job:requests:sum{job="api", source="rule", team="infra"}`, 6},
		{"a later rule sees an earlier rule's result", `job:requests:double{job="api", source="rule", team="infra"}`, 12},
		{"a scalar result is recorded without labels", `answer{team="infra"}`, 42},
	}
	got := e.st.samples(t, labels.MustNewMatcher(labels.MatchRegexp, "__name__", "job:.*|answer"))
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pts := got[tc.series]
			if len(pts) != 1 || pts[0].F != tc.want || pts[0].T != at(1).UnixMilli() {
				t.Fatalf("%s = %v, want one sample %v at %d; all: %v", tc.series, pts, tc.want, at(1).UnixMilli(), got)
			}
		})
	}
	for _, r := range g.Rules() {
		if r.Health() != HealthGood || r.LastError() != nil {
			t.Errorf("rule %s: health %s, error %v", r.Name(), r.Health(), r.LastError())
		}
	}
}

func TestRecordingRuleQueryOffset(t *testing.T) {
	e := newTestEnv(t, ManagerOptions{})
	g := e.load(t, `
groups:
  - name: rec
    query_offset: 1m
    rules:
      - record: latest
        expr: v
`, labels.EmptyLabels())
	e.add(t, labels.FromStrings("__name__", "v"), at(0), 1)
	e.add(t, labels.FromStrings("__name__", "v"), at(1), 2)
	g.Eval(context.Background(), at(1))
	got := e.st.samples(t, nameIs("latest"))[`latest`]
	// Queried at 1m before the evaluation time, the rule sees the older
	// value and writes it at the offset time.
	if len(got) != 1 || got[0].F != 1 || got[0].T != at(0).UnixMilli() {
		t.Fatalf("latest = %v, want 1 at %d", got, at(0).UnixMilli())
	}
}

func TestStaleMarkersWhenRecordingStops(t *testing.T) {
	e := newTestEnv(t, ManagerOptions{})
	g := e.load(t, `
groups:
  - name: rec
    rules:
      - record: up:copy
        expr: up == 1
`, labels.EmptyLabels())
	a := labels.FromStrings("__name__", "up", "instance", "a")
	b := labels.FromStrings("__name__", "up", "instance", "b")
	e.add(t, a, at(0), 1)
	e.add(t, b, at(0), 1)
	g.Eval(context.Background(), at(0))
	e.add(t, a, at(1), 1)
	e.add(t, b, at(1), 0) // b stops matching
	g.Eval(context.Background(), at(1))

	got := e.st.samples(t, nameIs("up:copy"))
	if pts := got[`up:copy{instance="a"}`]; len(pts) != 2 || pts[1].F != 1 {
		t.Errorf("series a = %v, want two samples of 1", pts)
	}
	pts := got[`up:copy{instance="b"}`]
	if len(pts) != 2 || pts[0].F != 1 || !isStale(pts[1].F) || pts[1].T != at(1).UnixMilli() {
		t.Fatalf("series b = %v, want 1 then a stale marker at %d", pts, at(1).UnixMilli())
	}
	// The marker hides the series from queries at once, not 5m later.
	vec, err := EngineQueryFunc(query.NewEngine(query.EngineOpts{}), e.st)(context.Background(), "up:copy", at(1.5))
	if err != nil {
		t.Fatal(err)
	}
	if len(vec) != 1 || vec[0].Metric.Get("instance") != "a" {
		t.Fatalf("query after stale marker = %v, want only instance a", vec)
	}
}

func TestFailingRuleDoesNotStopGroup(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newTestEnv(t, ManagerOptions{Registerer: reg})
	g := e.load(t, `
groups:
  - name: mixed
    rules:
      - record: broken
        expr: '"a string"'
      - record: dup
        expr: v
        labels: {instance: same}
      - record: fine
        expr: v
`, labels.EmptyLabels())
	e.add(t, labels.FromStrings("__name__", "v", "instance", "x"), at(0), 1)
	e.add(t, labels.FromStrings("__name__", "v", "instance", "y"), at(0), 2)
	g.Eval(context.Background(), at(0))

	rules := g.Rules()
	if rules[0].Health() != HealthBad || rules[0].LastError() == nil {
		t.Errorf("broken: health %s, error %v; want err and an error", rules[0].Health(), rules[0].LastError())
	}
	if !errors.Is(rules[1].LastError(), ErrDuplicateRecordingLabelSet) {
		t.Errorf("dup: error %v, want %v", rules[1].LastError(), ErrDuplicateRecordingLabelSet)
	}
	if rules[2].Health() != HealthGood {
		t.Errorf("fine: health %s, error %v", rules[2].Health(), rules[2].LastError())
	}
	if n := len(e.st.samples(t, nameIs("fine"))); n != 2 {
		t.Errorf("fine wrote %d series, want 2", n)
	}
	key := GroupKey(g.File(), g.Name())
	m := e.mgr.deps.metrics
	if got := testutil.ToFloat64(m.evalTotal.WithLabelValues(key)); got != 3 {
		t.Errorf("argus_rule_evaluations_total = %v, want 3", got)
	}
	if got := testutil.ToFloat64(m.evalFailures.WithLabelValues(key)); got != 2 {
		t.Errorf("argus_rule_evaluation_failures_total = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.groupSamples.WithLabelValues(key)); got != 2 {
		t.Errorf("argus_rule_group_last_evaluation_samples = %v, want 2", got)
	}
	if n, err := testutil.GatherAndCount(reg, "argus_rule_group_last_duration_seconds", "argus_rule_group_iterations_missed_total"); err != nil || n != 1 {
		t.Errorf("gathered %d series of the group metrics (err %v), want the last duration of the group", n, err)
	}
}

func TestRecordingRuleLimit(t *testing.T) {
	e := newTestEnv(t, ManagerOptions{})
	g := e.load(t, `
groups:
  - name: limited
    limit: 1
    rules:
      - record: copy
        expr: v
`, labels.EmptyLabels())
	e.add(t, labels.FromStrings("__name__", "v", "i", "1"), at(0), 1)
	e.add(t, labels.FromStrings("__name__", "v", "i", "2"), at(0), 1)
	g.Eval(context.Background(), at(0))
	r := g.Rules()[0]
	if r.LastError() == nil || r.LastError().Error() != "exceeded limit of 1 with 2 series" {
		t.Fatalf("error %v, want the limit error", r.LastError())
	}
	if got := e.st.samples(t, nameIs("copy")); len(got) != 0 {
		t.Fatalf("a rule over its limit wrote %v, want nothing", got)
	}
}
