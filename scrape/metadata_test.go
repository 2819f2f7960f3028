package scrape

import (
	"maps"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

func TestTargetMetadata(t *testing.T) {
	srv := newTestServer(t, "# HELP req_total Requests served.\n# TYPE req_total counter\nreq_total 3\n# TYPE temp gauge\ntemp 21\n")
	m := NewManager(Options{Logger: discardLogger()}, newFakeStorage())
	t.Cleanup(m.Stop)
	if err := m.ApplyConfig(cfgOf(jobConfig("j", srv.addr()))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "scraped", 2*time.Second, scrapedOK(m, "j", 1))
	md := m.TargetsActive()["j"][0].Metadata()
	want := map[string]Metadata{
		"req_total": {Type: model.MetricTypeCounter, Help: "Requests served."},
		"temp":      {Type: model.MetricTypeGauge},
	}
	if len(md) != len(want) {
		t.Fatalf("metadata %v, want %v", md, want)
	}
	for name, w := range want {
		if md[name] != w {
			t.Errorf("%s: %+v, want %+v", name, md[name], w)
		}
	}
}

func TestMetadataCollectorDropsVanishedFamilies(t *testing.T) {
	var c metadataCollector
	c.begin()
	c.setType([]byte("a"), model.MetricTypeCounter)
	c.setType([]byte("b"), model.MetricTypeGauge)
	if snap, changed := c.commit(true); !changed || len(snap) != 2 {
		t.Fatalf("first commit: %v %v", snap, changed)
	}
	c.begin()
	c.setType([]byte("a"), model.MetricTypeCounter)
	c.setType([]byte("b"), model.MetricTypeGauge)
	if _, changed := c.commit(true); changed {
		t.Error("an unchanged scrape reported a change")
	}
	c.begin()
	c.setType([]byte("a"), model.MetricTypeCounter)
	snap, changed := c.commit(true)
	if !changed || len(snap) != 1 || snap["a"].Type != model.MetricTypeCounter {
		t.Errorf("after b vanished: %v %v", snap, changed)
	}
}

// TestMetadataAfterFailedScrape checks metadata against Prometheus's: the
// HELP, TYPE and UNIT lines of a scrape that then fails (here on
// sample_limit) are shown at once and kept, and only a successful scrape
// drops the families it did not mention.
func TestMetadataAfterFailedScrape(t *testing.T) {
	const (
		old   = "# HELP a Old.\n# TYPE a counter\na 1\n# TYPE b gauge\nb 1\n"
		newer = "# HELP a New.\n# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n"
		onlyA = "# HELP a New.\n# TYPE a gauge\na 1\n"
	)
	steps := []struct {
		body string
		up   bool
		want map[string]Metadata
	}{
		{old, true, map[string]Metadata{"a": {Type: model.MetricTypeCounter, Help: "Old."}, "b": {Type: model.MetricTypeGauge}}},
		{newer + "c 1\n", false, map[string]Metadata{"a": {Type: model.MetricTypeGauge, Help: "New."}, "b": {Type: model.MetricTypeGauge}}},
		{newer, true, map[string]Metadata{"a": {Type: model.MetricTypeGauge, Help: "New."}, "b": {Type: model.MetricTypeGauge}}},
		{onlyA + "c 1\nd 1\n", false, map[string]Metadata{"a": {Type: model.MetricTypeGauge, Help: "New."}, "b": {Type: model.MetricTypeGauge}}},
		{onlyA, true, map[string]Metadata{"a": {Type: model.MetricTypeGauge, Help: "New."}}},
	}
	srv := newTestServer(t, old)
	cfg := jobConfig("j", srv.addr())
	cfg.SampleLimit = 2
	sl := testLoop(t, cfg, newFakeStorage())
	for i, s := range steps {
		srv.set(func(tg *testServer) { tg.body = s.body })
		sl.scrapeAndReport(t0.Add(time.Duration(i) * time.Minute))
		if up := sl.target.Health() == HealthGood; up != s.up {
			t.Fatalf("scrape %d: up %v, want %v", i+1, up, s.up)
		}
		if got := sl.target.Metadata(); !maps.Equal(got, s.want) {
			t.Errorf("scrape %d: metadata %v, want %v", i+1, got, s.want)
		}
	}
}
