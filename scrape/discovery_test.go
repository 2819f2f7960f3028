package scrape

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/argusmon/argus/config"
	"github.com/argusmon/argus/scrape/discovery"
)

func activeHosts(m *Manager, job string) []string {
	var out []string
	for _, t := range m.TargetsActive()[job] {
		out = append(out, t.URL().Host)
	}
	sort.Strings(out)
	return out
}

// TestFileSDAddsAndRemovesTargets: rewriting a file_sd file adds and removes
// targets within one poll plus debounce; a target that stays keeps its loop
// and a removed one gets staleness markers.
func TestFileSDAddsAndRemovesTargets(t *testing.T) {
	a := newTestServer(t, "a_metric 1\n")
	b := newTestServer(t, "b_metric 1\n")
	c := newTestServer(t, "c_metric 1\n")
	path := filepath.Join(t.TempDir(), "targets.json")
	write := func(addrs ...string) {
		body := fmt.Sprintf(`[{"targets":["%s"],"labels":{"team":"x"}}]`, strings.Join(addrs, `","`))
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(a.addr(), b.addr())

	st := newFakeStorage()
	m := NewManager(Options{
		Logger:            discardLogger(),
		DiscoveryDebounce: 50 * time.Millisecond,
		Discovery:         discovery.ProviderOptions{FilePollInterval: 20 * time.Millisecond},
	}, st)
	t.Cleanup(m.Stop)
	cfg := jobConfig("j")
	cfg.StaticConfigs = nil
	cfg.FileSDConfigs = []*config.FileSDConfig{{Files: []string{path}, RefreshInterval: model.Duration(time.Hour)}}
	if err := m.ApplyConfig(cfgOf(cfg)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "file targets scraped", 2*time.Second, scrapedOK(m, "j", 2))
	if got := m.TargetsActive()["j"][0].Labels().Get("team"); got != "x" {
		t.Fatalf("group label team = %q", got)
	}
	before := loopsOf(m, "j")

	write(a.addr(), c.addr())
	want := []string{a.addr(), c.addr()}
	sort.Strings(want)
	waitFor(t, "targets follow the file", time.Second, func() bool {
		return fmt.Sprint(activeHosts(m, "j")) == fmt.Sprint(want)
	})
	if loopsOf(m, "j")[a.addr()] != before[a.addr()] {
		t.Fatal("the target that stayed was restarted")
	}
	series := fmt.Sprintf(`{__name__="b_metric", instance=%q, job="j", team="x"}`, b.addr())
	waitFor(t, "staleness marker for the removed target", 2*time.Second, func() bool { return staleSeen(st, series) })

	// A broken file keeps the targets.
	if err := os.WriteFile(path, []byte(`[{"targets":`), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	if got := activeHosts(m, "j"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("broken file changed the targets to %v", got)
	}
}

func TestTargetLimit(t *testing.T) {
	a := newTestServer(t, "a_metric 1\n")
	b := newTestServer(t, "b_metric 1\n")
	m := NewManager(Options{Logger: discardLogger()}, newFakeStorage())
	t.Cleanup(m.Stop)

	cfg := jobConfig("j", a.addr(), b.addr())
	cfg.TargetLimit = 1
	if err := m.ApplyConfig(cfgOf(cfg)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "all targets failing", 2*time.Second, func() bool {
		ts := m.TargetsActive()["j"]
		if len(ts) != 2 {
			return false
		}
		for _, tg := range ts {
			if tg.Health() != HealthBad {
				return false
			}
		}
		return true
	})
	for _, tg := range m.TargetsActive()["j"] {
		if err := tg.LastError(); err == nil || err.Error() != "target_limit exceeded (number of targets: 2, limit: 1)" {
			t.Fatalf("last error = %v", err)
		}
	}

	// Raising the limit lets the same loops scrape again.
	cfg = jobConfig("j", a.addr(), b.addr())
	cfg.TargetLimit = 2
	if err := m.ApplyConfig(cfgOf(cfg)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "targets up under the raised limit", 2*time.Second, scrapedOK(m, "j", 2))
}

func TestLabelLimits(t *testing.T) {
	cases := []struct {
		name    string
		body    string
		set     func(*config.ScrapeConfig)
		wantErr string
	}{
		{name: "label_limit", body: `m{a="1",b="2"} 1` + "\n",
			// __name__, a, b, instance, job: five labels.
			set: func(c *config.ScrapeConfig) { c.LabelLimit = 4 }, wantErr: "label_limit exceeded (metric: m, number of labels: 5, limit: 4)"},
		{name: "label_limit not reached", body: `m{a="1",b="2"} 1` + "\n",
			set: func(c *config.ScrapeConfig) { c.LabelLimit = 5 }},
		{name: "label_name_length_limit", body: `m{long_name="1"} 1` + "\n",
			set: func(c *config.ScrapeConfig) { c.LabelNameLengthLimit = 8 }, wantErr: "label_name_length_limit exceeded (metric: m, label name: long_name, length: 9, limit: 8)"},
		{name: "label_value_length_limit", body: `m{a="123456"} 1` + "\n",
			set: func(c *config.ScrapeConfig) { c.LabelValueLengthLimit = 5 }, wantErr: `label_value_length_limit exceeded (metric: m, label name: a, value: "123456", length: 6, limit: 5)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t, tc.body)
			cfg := jobConfig("j", "localhost:1")
			cfg.StaticConfigs[0].Targets = []string{srv.addr()}
			tc.set(cfg)
			st := newFakeStorage()
			l := testLoop(t, cfg, st)
			l.scrapeAndReport(time.Now())
			err := l.target.LastError()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("scrape failed: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("last error = %v, want %q", err, tc.wantErr)
			}
			if got := scrapedSeries(st.lastCommit(t)); len(got) != 0 {
				t.Fatalf("failed scrape committed %v", got)
			}
			if up, ok := find(st.lastCommit(t), fmt.Sprintf(`{__name__="up", instance=%q, job="j"}`, srv.addr())); !ok || up.v != 0 {
				t.Fatalf("up = %+v, want 0", up)
			}
		})
	}
}
