package scrape

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/relabel"

	"github.com/argusmon/argus/config"
)

// loopsOf returns the running loops of a job by target address.
func loopsOf(m *Manager, job string) map[string]*scrapeLoop {
	sp := m.snapshotPools()[job]
	out := map[string]*scrapeLoop{}
	if sp == nil {
		return out
	}
	sp.mu.Lock()
	defer sp.mu.Unlock()
	for _, l := range sp.loops {
		out[l.target.url.Host] = l
	}
	return out
}

func scrapedOK(m *Manager, job string, n int) func() bool {
	return func() bool {
		ts := m.TargetsActive()[job]
		if len(ts) != n {
			return false
		}
		for _, t := range ts {
			if t.Health() != HealthGood {
				return false
			}
		}
		return true
	}
}

// staleSeen reports whether some commit holds a staleness marker for the
// series.
func staleSeen(st *fakeStorage, series string) bool {
	for _, c := range st.allCommits() {
		if s, ok := find(c, series); ok && s.stale() {
			return true
		}
	}
	return false
}

func cfgOf(jobs ...*config.ScrapeConfig) *config.Config {
	return &config.Config{ScrapeConfigs: jobs}
}

func TestApplyConfigReload(t *testing.T) {
	a := newTestServer(t, "a_metric 1\n")
	b := newTestServer(t, "b_metric 1\n")
	st := newFakeStorage()
	m := NewManager(Options{Logger: discardLogger()}, st)
	t.Cleanup(m.Stop)

	if err := m.ApplyConfig(cfgOf(jobConfig("j", a.addr(), b.addr()))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both targets scraped", 2*time.Second, scrapedOK(m, "j", 2))
	before := loopsOf(m, "j")

	// An equal configuration (freshly built, as a reload parses it) changes
	// nothing: the very same loops keep running.
	if err := m.ApplyConfig(cfgOf(jobConfig("j", a.addr(), b.addr()))); err != nil {
		t.Fatal(err)
	}
	after := loopsOf(m, "j")
	for addr, l := range before {
		if after[addr] != l {
			t.Fatalf("unchanged job: loop of %s was restarted", addr)
		}
	}

	// Dropping a target leaves the other's loop alone and, about two
	// intervals later, marks the removed target's series stale.
	if err := m.ApplyConfig(cfgOf(jobConfig("j", a.addr()))); err != nil {
		t.Fatal(err)
	}
	after = loopsOf(m, "j")
	if len(after) != 1 || after[a.addr()] != before[a.addr()] {
		t.Fatalf("after removing b: loops %v, want a's original loop only", after)
	}
	for _, name := range []string{"b_metric", "up"} {
		series := fmt.Sprintf(`{__name__=%q, instance=%q, job="j"}`, name, b.addr())
		waitFor(t, "staleness marker for "+series, 2*time.Second, func() bool { return staleSeen(st, series) })
	}
	if staleSeen(st, fmt.Sprintf(`{__name__="a_metric", instance=%q, job="j"}`, a.addr())) {
		t.Fatal("the remaining target's series were marked stale")
	}

	// A setting change restarts the loop; the series cache survives when the
	// change cannot alter sample labels.
	cfg := jobConfig("j", a.addr())
	cfg.SampleLimit = 100
	if err := m.ApplyConfig(cfgOf(cfg)); err != nil {
		t.Fatal(err)
	}
	restarted := loopsOf(m, "j")[a.addr()]
	if restarted == before[a.addr()] || restarted.cache != before[a.addr()].cache {
		t.Fatalf("sample_limit change: want a new loop sharing the old cache")
	}
	cfg = jobConfig("j", a.addr())
	cfg.HonorLabels = true
	if err := m.ApplyConfig(cfgOf(cfg)); err != nil {
		t.Fatal(err)
	}
	if l := loopsOf(m, "j")[a.addr()]; l == restarted || l.cache == restarted.cache {
		t.Fatalf("honor_labels change: want a new loop with a new cache")
	}
	waitFor(t, "target scraped after restart", 2*time.Second, scrapedOK(m, "j", 1))
}

func TestRemovedJobIsMarkedStale(t *testing.T) {
	a := newTestServer(t, "a_metric 1\n")
	b := newTestServer(t, "b_metric 1\n")
	st := newFakeStorage()
	m := NewManager(Options{Logger: discardLogger()}, st)
	t.Cleanup(m.Stop)
	if err := m.ApplyConfig(cfgOf(jobConfig("keep", a.addr()), jobConfig("gone", b.addr()))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "gone scraped", 2*time.Second, scrapedOK(m, "gone", 1))
	keepLoop := loopsOf(m, "keep")[a.addr()]

	if err := m.ApplyConfig(cfgOf(jobConfig("keep", a.addr()))); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.TargetsActive()["gone"]; ok {
		t.Fatal("removed job still listed")
	}
	if loopsOf(m, "keep")[a.addr()] != keepLoop {
		t.Fatal("removing a job restarted another")
	}
	series := fmt.Sprintf(`{__name__="b_metric", instance=%q, job="gone"}`, b.addr())
	waitFor(t, "staleness marker for the removed job", 2*time.Second, func() bool { return staleSeen(st, series) })
}

// TestStopLeavesSeriesUnmarked: like Prometheus, shutdown writes no staleness
// markers, so a restart within the lookback delta leaves no gap.
func TestStopLeavesSeriesUnmarked(t *testing.T) {
	a := newTestServer(t, "a_metric 1\n")
	st := newFakeStorage()
	m := NewManager(Options{Logger: discardLogger()}, st)
	if err := m.ApplyConfig(cfgOf(jobConfig("j", a.addr()))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "scraped", 2*time.Second, scrapedOK(m, "j", 1))
	m.Stop()
	for _, commit := range st.allCommits() {
		for _, s := range commit {
			if s.stale() {
				t.Errorf("staleness marker written around Stop: %+v", s)
			}
		}
	}
	n := len(st.allCommits())
	time.Sleep(120 * time.Millisecond)
	if len(st.allCommits()) != n {
		t.Fatal("something committed after Stop returned")
	}
	if err := m.ApplyConfig(cfgOf(jobConfig("j", a.addr()))); err == nil {
		t.Fatal("ApplyConfig after Stop succeeded")
	}
}

func TestApplyConfigErrors(t *testing.T) {
	a := newTestServer(t, "a_metric 1\n")
	m := NewManager(Options{Logger: discardLogger()}, newFakeStorage())
	t.Cleanup(m.Stop)

	bad := jobConfig("bad", a.addr())
	bad.RelabelConfigs = []*relabel.Config{rule("explode", nil)}
	err := m.ApplyConfig(cfgOf(jobConfig("good", a.addr()), bad))
	if err == nil || !strings.Contains(err.Error(), `scrape job "bad"`) || !strings.Contains(err.Error(), "relabel_configs[0]") {
		t.Fatalf("error = %v, want it to name the job and the rule", err)
	}
	if _, ok := m.TargetsActive()["good"]; !ok {
		t.Fatal("a bad job stopped a good one from starting")
	}

	// A bad reload of a running job keeps it running as it was.
	goodLoop := loopsOf(m, "good")[a.addr()]
	broken := jobConfig("good", a.addr())
	broken.ScrapeProtocols = []string{"Carrier pigeon"}
	if err := m.ApplyConfig(cfgOf(broken)); err == nil {
		t.Fatal("bad scrape_protocols accepted")
	}
	if loopsOf(m, "good")[a.addr()] != goodLoop {
		t.Fatal("a failed reload replaced the running loop")
	}

	if err := m.ApplyConfig(cfgOf(jobConfig("dup", a.addr()), jobConfig("dup", a.addr()))); err == nil {
		t.Fatal("duplicate job names accepted")
	}
}

func TestTargetsActiveReportsScrapeStatus(t *testing.T) {
	a := newTestServer(t, "a_metric 1\n")
	a.status = 503
	cfg := jobConfig("j", a.addr())
	cfg.ScrapeInterval = model.Duration(60 * time.Millisecond)
	reg := prometheus.NewRegistry()
	m := NewManager(Options{Logger: discardLogger(), Registerer: reg}, newFakeStorage())
	t.Cleanup(m.Stop)
	if err := m.ApplyConfig(cfgOf(cfg)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "target down", 2*time.Second, func() bool {
		ts := m.TargetsActive()["j"]
		return len(ts) == 1 && ts[0].Health() == HealthBad
	})
	tg := m.TargetsActive()["j"][0]
	if err := tg.LastError(); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("last error = %v, want the 503", err)
	}
	if tg.LastScrape().IsZero() || tg.LastScrapeDuration() <= 0 {
		t.Fatalf("last scrape %s, duration %s", tg.LastScrape(), tg.LastScrapeDuration())
	}

	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetSummary().GetSampleCount())
			got[f.GetName()] += v
		}
	}
	for _, name := range []string{"argus_target_scrapes_total", "argus_target_scrape_pool_targets", "argus_target_sync_length_seconds", "argus_target_scrape_pools_total"} {
		if got[name] < 1 {
			t.Errorf("%s = %v, want at least 1", name, got[name])
		}
	}
}
