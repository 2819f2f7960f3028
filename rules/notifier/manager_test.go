package notifier

import (
	"context"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"gopkg.in/yaml.v3"

	"github.com/argusmon/argus/config"
	"github.com/argusmon/argus/rules"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func firing(name string, extra ...string) *rules.Alert {
	return &rules.Alert{
		State:        rules.StateFiring,
		Labels:       labels.FromStrings(append([]string{"alertname", name}, extra...)...),
		Annotations:  labels.FromStrings("summary", name+" is firing"),
		ActiveAt:     t0.Add(-10 * time.Minute),
		FiredAt:      t0,
		ValidUntil:   t0.Add(4 * time.Minute),
		GeneratorURL: "http://argus.example:9090/graph?g0.expr=up",
	}
}

// startManager applies cfg to a new Manager and runs it until the test
// ends.
func startManager(t *testing.T, o Options, cfg *config.Config) *Manager {
	t.Helper()
	m := New(o)
	if err := m.ApplyConfig(cfg); err != nil {
		t.Fatalf("ApplyConfig: %v", err)
	}
	run(t, m)
	return m
}

func run(t *testing.T, m *Manager) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func configWith(sets ...*config.AlertmanagerConfig) *config.Config {
	return &config.Config{AlertingConfig: config.AlertingConfig{AlertmanagerConfigs: sets}}
}

func mustRelabel(t *testing.T, yamlText string) []*relabel.Config {
	t.Helper()
	var cfgs []*relabel.Config
	if err := yaml.Unmarshal([]byte(yamlText), &cfgs); err != nil {
		t.Fatalf("relabel config: %v", err)
	}
	return cfgs
}

func TestPayloadSentToAlertmanagerV2(t *testing.T) {
	r := newReceiver(t)
	am := amConfig(r)
	am.PathPrefix = "/am"
	cfg := configWith(am)
	cfg.GlobalConfig.ExternalLabels = labels.FromStrings("cluster", "eu1", "severity", "default")
	m := startManager(t, Options{}, cfg)

	resolved := firing("DiskFull", "severity", "page")
	resolved.State = rules.StateInactive
	resolved.ResolvedAt = t0.Add(time.Minute)
	m.Send(firing("HighLatency"), resolved)

	eventually(t, "the alerts", func() bool { return len(r.alerts()) == 2 })
	want := []receivedAlert{
		{
			Labels:       map[string]string{"alertname": "HighLatency", "cluster": "eu1", "severity": "default"},
			Annotations:  map[string]string{"summary": "HighLatency is firing"},
			StartsAt:     t0,
			EndsAt:       t0.Add(4 * time.Minute),
			GeneratorURL: "http://argus.example:9090/graph?g0.expr=up",
		},
		{
			// The alert's own severity wins over the external label.
			Labels:       map[string]string{"alertname": "DiskFull", "cluster": "eu1", "severity": "page"},
			Annotations:  map[string]string{"summary": "DiskFull is firing"},
			StartsAt:     t0,
			EndsAt:       t0.Add(time.Minute),
			GeneratorURL: "http://argus.example:9090/graph?g0.expr=up",
		},
	}
	got := r.alerts()
	for i := range got {
		got[i].StartsAt, got[i].EndsAt = got[i].StartsAt.UTC(), got[i].EndsAt.UTC()
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("received\n%+v\nwant\n%+v", got, want)
	}
	if r.paths[0] != "/am/api/v2/alerts" || r.types[0] != "application/json" {
		t.Errorf("request to %s with Content-Type %q, want /am/api/v2/alerts with application/json", r.paths[0], r.types[0])
	}
}

func TestAlertRelabeling(t *testing.T) {
	tests := []struct {
		name       string
		global     string
		perSet     string
		wantAlerts []string // alertname/team of what the set receives
	}{
		{
			name:       "no relabeling",
			wantAlerts: []string{"A/db", "B/web"},
		},
		{
			name:       "global drop",
			global:     "- source_labels: [team]\n  regex: web\n  action: drop\n",
			wantAlerts: []string{"A/db"},
		},
		{
			name:       "per-set rewrite after global",
			global:     "- source_labels: [team]\n  regex: web\n  action: drop\n",
			perSet:     "- target_label: team\n  replacement: oncall\n",
			wantAlerts: []string{"A/oncall"},
		},
		{
			name:       "everything dropped sends nothing",
			perSet:     "- action: drop\n  source_labels: [alertname]\n  regex: .+\n",
			wantAlerts: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, control := newReceiver(t), newReceiver(t)
			am := amConfig(r)
			am.AlertRelabelConfigs = mustRelabel(t, tc.perSet)
			cfg := configWith(am, amConfig(control))
			cfg.AlertingConfig.AlertRelabelConfigs = mustRelabel(t, tc.global)
			m := startManager(t, Options{}, cfg)
			m.Send(firing("A", "team", "db"), firing("B", "team", "web"))

			// The second set has no per-set rules: once it has its alerts,
			// the first set has had its chance too.
			eventually(t, "the control set", func() bool { return len(control.alerts()) == 2-boolInt(tc.global != "") })
			eventually(t, "the relabelled set", func() bool { return len(r.alerts()) == len(tc.wantAlerts) })
			var got []string
			for _, a := range r.alerts() {
				got = append(got, a.Labels["alertname"]+"/"+a.Labels["team"])
			}
			if !slices.Equal(got, tc.wantAlerts) {
				t.Errorf("received %v, want %v", got, tc.wantAlerts)
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestBatchesOfAtMost64(t *testing.T) {
	r := newReceiver(t)
	m := New(Options{})
	if err := m.ApplyConfig(configWith(amConfig(r))); err != nil {
		t.Fatal(err)
	}
	var alerts []*rules.Alert
	for i := range 150 {
		alerts = append(alerts, firing(fmt.Sprintf("A%03d", i)))
	}
	m.Send(alerts...) // queued before Run, so the batches are full
	run(t, m)

	eventually(t, "150 alerts", func() bool { return len(r.alerts()) == 150 })
	if got := r.batchSizes(); !slices.Equal(got, []int{64, 64, 22}) {
		t.Errorf("batch sizes %v, want [64 64 22]", got)
	}
	for i, a := range r.alerts() {
		if want := fmt.Sprintf("A%03d", i); a.Labels["alertname"] != want {
			t.Fatalf("alert %d is %s, want %s: order not kept", i, a.Labels["alertname"], want)
		}
	}
}

func TestQueueOverflowDropsOldest(t *testing.T) {
	r := newReceiver(t)
	reg := prometheus.NewRegistry()
	m := New(Options{QueueCapacity: 5, Registerer: reg})
	if err := m.ApplyConfig(configWith(amConfig(r))); err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		m.Send(firing(fmt.Sprintf("A%d", i)))
	}
	if got := testutil.ToFloat64(m.metrics.dropped); got != 3 {
		t.Errorf("dropped_total = %v, want 3", got)
	}
	if got := m.queueLength(); got != 5 {
		t.Errorf("queue length = %v, want 5", got)
	}
	run(t, m)
	eventually(t, "the queued alerts", func() bool { return len(r.alerts()) == 5 })
	var got []string
	for _, a := range r.alerts() {
		got = append(got, a.Labels["alertname"])
	}
	if want := []string{"A3", "A4", "A5", "A6", "A7"}; !slices.Equal(got, want) {
		t.Errorf("received %v, want the newest %v", got, want)
	}
	if err := testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP argus_notifications_queue_capacity The capacity of each Alertmanager set's alert queue.
# TYPE argus_notifications_queue_capacity gauge
argus_notifications_queue_capacity 5
`), "argus_notifications_queue_capacity"); err != nil {
		t.Error(err)
	}
}

func TestAlertmanagerDownThenUpGetsQueuedAlerts(t *testing.T) {
	r := newReceiver(t)
	r.setDown(true)
	m := startManager(t, Options{RetryInterval: 10 * time.Millisecond}, configWith(amConfig(r)))
	m.Send(firing("A"), firing("B"))
	m.Send(firing("C"))

	eventually(t, "a few failed attempts", func() bool { return r.rejections() >= 3 })
	url := "http://" + r.host() + "/api/v2/alerts"
	if got := testutil.ToFloat64(m.metrics.errors.WithLabelValues(url)); got < 3 {
		t.Errorf("errors_total = %v, want at least 3", got)
	}
	r.setDown(false)
	eventually(t, "delivery after recovery", func() bool { return len(r.alerts()) == 3 })
	time.Sleep(50 * time.Millisecond) // several retry intervals: nothing more comes
	if got := len(r.alerts()); got != 3 {
		t.Errorf("received %d alerts, want each of the 3 once", got)
	}
}

func TestOneAlertmanagerOfASetSuffices(t *testing.T) {
	up, down := newReceiver(t), newReceiver(t)
	down.setDown(true)
	m := startManager(t, Options{RetryInterval: 10 * time.Millisecond}, configWith(amConfig(up, down)))
	m.Send(firing("A"))
	eventually(t, "delivery", func() bool { return len(up.alerts()) == 1 })
	time.Sleep(50 * time.Millisecond)
	if got, rej := len(up.alerts()), down.rejections(); got != 1 || rej != 1 {
		t.Errorf("up received %d times, down was tried %d times; want 1 and 1 (no retry once a cluster member accepted)", got, rej)
	}
}

func TestApplyConfig(t *testing.T) {
	r := newReceiver(t)
	m := New(Options{})

	am := amConfig(r)
	am.Scheme = "http"
	am.PathPrefix = "prefix/"
	am.StaticConfigs = append(am.StaticConfigs, &config.StaticConfig{Targets: []string{"dropped.example:9093"}})
	am.RelabelConfigs = mustRelabel(t, "- source_labels: [__address__]\n  regex: dropped.*\n  action: drop\n")
	if err := m.ApplyConfig(configWith(am)); err != nil {
		t.Fatal(err)
	}
	if got, want := urlStrings(m.Alertmanagers()), []string{"http://" + r.host() + "/prefix/api/v2/alerts"}; !slices.Equal(got, want) {
		t.Errorf("Alertmanagers() = %v, want %v", got, want)
	}
	if got, want := urlStrings(m.DroppedAlertmanagers()), []string{"http://dropped.example:9093/prefix/api/v2/alerts"}; !slices.Equal(got, want) {
		t.Errorf("DroppedAlertmanagers() = %v, want %v", got, want)
	}

	// Alerts queued before a reload are delivered after it.
	m.Send(firing("A"))
	if err := m.ApplyConfig(configWith(amConfig(r))); err != nil {
		t.Fatal(err)
	}
	run(t, m)
	eventually(t, "the alert queued before the reload", func() bool { return len(r.alerts()) == 1 })

	bad := amConfig(r)
	bad.APIVersion = "v1"
	if err := m.ApplyConfig(configWith(bad)); err == nil {
		t.Error("api_version v1 accepted, want an error")
	}
	if got := len(m.Alertmanagers()); got != 1 {
		t.Errorf("after a failed ApplyConfig %d Alertmanagers, want the previous 1", got)
	}

	if err := m.ApplyConfig(configWith()); err != nil {
		t.Fatal(err)
	}
	m.Send(firing("B")) // no Alertmanager: discarded, nothing blocks
	if got := len(m.Alertmanagers()); got != 0 {
		t.Errorf("%d Alertmanagers after removing them all", got)
	}
}

func urlStrings(us []*url.URL) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.String())
	}
	return out
}

func TestDrainOnShutdown(t *testing.T) {
	for _, drain := range []bool{true, false} {
		t.Run(fmt.Sprintf("drain=%v", drain), func(t *testing.T) {
			r := newReceiver(t)
			m := New(Options{DrainOnShutdown: drain})
			if err := m.ApplyConfig(configWith(amConfig(r))); err != nil {
				t.Fatal(err)
			}
			m.Send(firing("A"), firing("B"))
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // shut down before the send loop had a chance
			m.Run(ctx)
			want := 0
			if drain {
				want = 2
			}
			if got := len(r.alerts()); got != want {
				t.Errorf("received %d alerts at shutdown, want %d", got, want)
			}
		})
	}
}
