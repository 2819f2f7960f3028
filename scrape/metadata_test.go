package scrape

import (
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
	if snap, changed := c.commit(); !changed || len(snap) != 2 {
		t.Fatalf("first commit: %v %v", snap, changed)
	}
	c.begin()
	c.setType([]byte("a"), model.MetricTypeCounter)
	c.setType([]byte("b"), model.MetricTypeGauge)
	if _, changed := c.commit(); changed {
		t.Error("an unchanged scrape reported a change")
	}
	c.begin()
	c.setType([]byte("a"), model.MetricTypeCounter)
	snap, changed := c.commit()
	if !changed || len(snap) != 1 || snap["a"].Type != model.MetricTypeCounter {
		t.Errorf("after b vanished: %v %v", snap, changed)
	}
}
