package scrape

import (
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"

	"github.com/argusmon/argus/config"
)

func TestTargetRelabeling(t *testing.T) {
	cases := []struct {
		name        string
		targets     []string
		groupLabels model.LabelSet
		params      url.Values
		rules       []*relabel.Config
		wantActive  []string // Labels().String() of each active target, by URL order.
		wantURLs    []string
		wantDropped []string // __address__ of each dropped target.
	}{
		{
			name:       "defaults: job and instance, no internal labels",
			targets:    []string{"a:9100"},
			wantActive: []string{`{instance="a:9100", job="node"}`},
			wantURLs:   []string{"http://a:9100/metrics"},
		},
		{
			name:        "group labels are attached",
			targets:     []string{"a:9100"},
			groupLabels: model.LabelSet{"env": "prod"},
			wantActive:  []string{`{env="prod", instance="a:9100", job="node"}`},
			wantURLs:    []string{"http://a:9100/metrics"},
		},
		{
			name:    "keep",
			targets: []string{"a:9100", "b:9100"},
			rules: []*relabel.Config{rule(relabel.Keep, func(c *relabel.Config) {
				c.SourceLabels = model.LabelNames{model.AddressLabel}
				c.Regex = re("a:.*")
			})},
			wantActive:  []string{`{instance="a:9100", job="node"}`},
			wantURLs:    []string{"http://a:9100/metrics"},
			wantDropped: []string{"b:9100"},
		},
		{
			name:    "drop",
			targets: []string{"a:9100", "b:9100"},
			rules: []*relabel.Config{rule(relabel.Drop, func(c *relabel.Config) {
				c.SourceLabels = model.LabelNames{model.AddressLabel}
				c.Regex = re("a:.*")
			})},
			wantActive:  []string{`{instance="b:9100", job="node"}`},
			wantURLs:    []string{"http://b:9100/metrics"},
			wantDropped: []string{"a:9100"},
		},
		{
			name:    "replace rewrites the address, the instance follows",
			targets: []string{"a"},
			rules: []*relabel.Config{rule(relabel.Replace, func(c *relabel.Config) {
				c.SourceLabels = model.LabelNames{model.AddressLabel}
				c.Regex = re("(.*)")
				c.TargetLabel = model.AddressLabel
				c.Replacement = "${1}:9100"
			})},
			wantActive: []string{`{instance="a:9100", job="node"}`},
			wantURLs:   []string{"http://a:9100/metrics"},
		},
		{
			name:    "replace into internal labels changes the URL",
			targets: []string{"a:9100"},
			rules: []*relabel.Config{
				rule(relabel.Replace, func(c *relabel.Config) { c.TargetLabel = model.MetricsPathLabel; c.Replacement = "/probe" }),
				rule(relabel.Replace, func(c *relabel.Config) { c.TargetLabel = model.SchemeLabel; c.Replacement = "https" }),
				rule(relabel.Replace, func(c *relabel.Config) { c.TargetLabel = "__param_target"; c.Replacement = "example.com" }),
			},
			params:     url.Values{"module": {"http_2xx"}, "target": {"ignored", "kept"}},
			wantActive: []string{`{instance="a:9100", job="node"}`},
			wantURLs:   []string{"https://a:9100/probe?module=http_2xx&target=example.com&target=kept"},
		},
		{
			name:        "labelmap copies matching labels under new names",
			targets:     []string{"a:9100"},
			groupLabels: model.LabelSet{"__meta_zone": "eu", "__meta_rack": "r1"},
			rules: []*relabel.Config{rule(relabel.LabelMap, func(c *relabel.Config) {
				c.Regex = re("__meta_(.+)")
				c.Replacement = "$1"
			})},
			wantActive: []string{`{instance="a:9100", job="node", rack="r1", zone="eu"}`},
			wantURLs:   []string{"http://a:9100/metrics"},
		},
		{
			name:    "explicit instance is kept",
			targets: []string{"a:9100"},
			rules: []*relabel.Config{rule(relabel.Replace, func(c *relabel.Config) {
				c.TargetLabel = model.InstanceLabel
				c.Replacement = "node-a"
			})},
			wantActive: []string{`{instance="node-a", job="node"}`},
			wantURLs:   []string{"http://a:9100/metrics"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := jobConfig("node", tc.targets...)
			cfg.ScrapeInterval = model.Duration(time.Hour)
			cfg.ScrapeTimeout = model.Duration(time.Second)
			cfg.StaticConfigs[0].Labels = tc.groupLabels
			cfg.RelabelConfigs = tc.rules
			cfg.Params = tc.params
			m := NewManager(Options{}, newFakeStorage())
			t.Cleanup(m.Stop)
			if err := m.ApplyConfig(&config.Config{ScrapeConfigs: []*config.ScrapeConfig{cfg}}); err != nil {
				t.Fatal(err)
			}

			active := m.TargetsActive()["node"]
			if len(active) != len(tc.wantActive) {
				t.Fatalf("got %d active targets, want %d", len(active), len(tc.wantActive))
			}
			for i, tg := range active {
				if got := tg.Labels().String(); got != tc.wantActive[i] {
					t.Errorf("target %d labels = %s, want %s", i, got, tc.wantActive[i])
				}
				if got := tg.URL().String(); got != tc.wantURLs[i] {
					t.Errorf("target %d URL = %s, want %s", i, got, tc.wantURLs[i])
				}
				if got := tg.DiscoveredLabels().Get(model.AddressLabel); got != tc.targets[0] && got != tc.targets[len(tc.targets)-1] {
					t.Errorf("target %d discovered __address__ = %q", i, got)
				}
				if tg.Health() != HealthUnknown {
					t.Errorf("target %d health before any scrape = %q, want unknown", i, tg.Health())
				}
			}
			dropped := m.TargetsDropped()["node"]
			if len(dropped) != len(tc.wantDropped) {
				t.Fatalf("got %d dropped targets, want %d", len(dropped), len(tc.wantDropped))
			}
			for i, tg := range dropped {
				if got := tg.DiscoveredLabels().Get(model.AddressLabel); got != tc.wantDropped[i] {
					t.Errorf("dropped %d __address__ = %q, want %q", i, got, tc.wantDropped[i])
				}
				if got := tg.DiscoveredLabels().Get(model.JobLabel); got != "node" {
					t.Errorf("dropped %d discovered job = %q, want node", i, got)
				}
			}
		})
	}
}

func TestDiscoveredLabels(t *testing.T) {
	cfg := jobConfig("node", "a:9100")
	cfg.Params = url.Values{"module": {"m1", "m2"}}
	cfg.StaticConfigs[0].Labels = model.LabelSet{"env": "prod"}
	got := discoveredLabels(labels.NewBuilder(labels.EmptyLabels()), cfg, model.LabelSet{model.AddressLabel: "a:9100"}, cfg.StaticConfigs[0].Labels)
	want := labels.FromStrings(
		model.AddressLabel, "a:9100",
		model.MetricsPathLabel, "/metrics",
		"__param_module", "m1",
		model.SchemeLabel, "http",
		model.ScrapeIntervalLabel, "50ms",
		model.ScrapeTimeoutLabel, "50ms",
		"env", "prod",
		model.JobLabel, "node",
	)
	if !labels.Equal(got, want) {
		t.Fatalf("discovered labels = %s, want %s", got, want)
	}
}

func TestInvalidTargets(t *testing.T) {
	cases := []struct {
		name string
		rule *relabel.Config
	}{
		{"address with a path", rule(relabel.Replace, func(c *relabel.Config) { c.TargetLabel = model.AddressLabel; c.Replacement = "a:1/x" })},
		{"no address", rule(relabel.LabelDrop, func(c *relabel.Config) { c.Regex = re(model.AddressLabel) })},
		{"timeout above interval", rule(relabel.Replace, func(c *relabel.Config) { c.TargetLabel = model.ScrapeTimeoutLabel; c.Replacement = "1m" })},
		{"unparsable interval", rule(relabel.Replace, func(c *relabel.Config) { c.TargetLabel = model.ScrapeIntervalLabel; c.Replacement = "soon" })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := jobConfig("j", "a:9100")
			cfg.RelabelConfigs = []*relabel.Config{tc.rule}
			s, err := newPoolSettings(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			active, dropped, failures := buildTargets(cfg, s.targetRelabel, staticGroups(cfg))
			if len(active) != 0 || len(dropped) != 0 || len(failures) != 1 {
				t.Fatalf("active=%d dropped=%d failures=%v; want one failure only", len(active), len(dropped), failures)
			}
		})
	}
}

func TestPerTargetIntervalFromLabels(t *testing.T) {
	cfg := jobConfig("j", "a:9100")
	cfg.RelabelConfigs = []*relabel.Config{
		rule(relabel.Replace, func(c *relabel.Config) { c.TargetLabel = model.ScrapeIntervalLabel; c.Replacement = "2m" }),
		rule(relabel.Replace, func(c *relabel.Config) { c.TargetLabel = model.ScrapeTimeoutLabel; c.Replacement = "30s" }),
	}
	s, _ := newPoolSettings(cfg, nil)
	active, _, _ := buildTargets(cfg, s.targetRelabel, staticGroups(cfg))
	if len(active) != 1 || active[0].Interval() != 2*time.Minute || active[0].Timeout() != 30*time.Second {
		t.Fatalf("got %v; want one target with interval 2m and timeout 30s", active)
	}
}

func TestOffsetIsStableAndWithinInterval(t *testing.T) {
	cfg := jobConfig("j", "a:9100", "b:9100")
	s, _ := newPoolSettings(cfg, nil)
	active, _, _ := buildTargets(cfg, s.targetRelabel, staticGroups(cfg))
	interval := time.Minute
	now := time.Date(2024, 1, 1, 0, 0, 17, 0, time.UTC)
	for _, tg := range active {
		off := tg.offset(now, interval, 42)
		if off < 0 || off > interval {
			t.Fatalf("offset %s outside [0, %s]", off, interval)
		}
		// The first scrape lands on the same phase of the interval whenever
		// the server starts.
		later := now.Add(23 * time.Second)
		phase1 := now.Add(off).UnixNano() % int64(interval)
		phase2 := later.Add(tg.offset(later, interval, 42)).UnixNano() % int64(interval)
		if phase1 != phase2 {
			t.Fatalf("phase moved across restarts: %d vs %d", phase1, phase2)
		}
	}
	if active[0].offset(now, interval, 42) == active[1].offset(now, interval, 42) {
		t.Fatal("two targets got the same offset")
	}
}
