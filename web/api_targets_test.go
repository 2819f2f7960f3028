package web

import (
	"net/url"
	"testing"

	"github.com/argusmon/argus/config"
	"github.com/argusmon/argus/scrape"
	"github.com/argusmon/argus/tsdb"
)

// newTestScrapeManager runs a real scrape manager over a config with three
// targets, one of which relabeling drops. The interval is long, so the
// targets are listed before their first scrape: health unknown.
func newTestScrapeManager(t *testing.T) *scrape.Manager {
	t.Helper()
	cfg, err := config.Load([]byte(`
scrape_configs:
  - job_name: node
    scrape_interval: 1h
    scrape_timeout: 10s
    static_configs:
      - targets: ["127.0.0.1:9100", "drop.example:9100"]
        labels: {env: prod}
    relabel_configs:
      - source_labels: [__address__]
        regex: drop\.example:9100
        action: drop
  - job_name: self
    scrape_interval: 1h
    static_configs:
      - targets: ["localhost:9090"]
  - job_name: empty
    static_configs: []
`), "test.yml")
	if err != nil {
		t.Fatal(err)
	}
	db, err := tsdb.Open(t.TempDir(), &tsdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	m := scrape.NewManager(scrape.Options{}, db)
	t.Cleanup(m.Stop)
	if err := m.ApplyConfig(cfg); err != nil {
		t.Fatal(err)
	}
	return m
}

func newTargetsHandler(t *testing.T) *Handler {
	t.Helper()
	db, err := tsdb.Open(t.TempDir(), &tsdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	m := newTestScrapeManager(t)
	ext, _ := url.Parse("https://argus.example.com:443")
	h := New(Options{ListenAddress: "0.0.0.0:9090", ExternalURL: ext, TargetRetriever: m, Storage: db})
	h.SetReady(true)
	return h
}

func TestTargetsAPI(t *testing.T) {
	h := newTargetsHandler(t)
	const (
		node = `{"discoveredLabels":{"__address__":"127.0.0.1:9100","__metrics_path__":"/metrics","__scheme__":"http","__scrape_interval__":"1h","__scrape_timeout__":"10s","env":"prod","job":"node"},` +
			`"labels":{"env":"prod","instance":"127.0.0.1:9100","job":"node"},"scrapePool":"node","scrapeUrl":"http://127.0.0.1:9100/metrics",` +
			`"globalUrl":"http://argus.example.com:9100/metrics","lastError":"","lastScrape":"0001-01-01T00:00:00Z","lastScrapeDuration":0,"health":"unknown","scrapeInterval":"1h","scrapeTimeout":"10s"}`
		self = `{"discoveredLabels":{"__address__":"localhost:9090","__metrics_path__":"/metrics","__scheme__":"http","__scrape_interval__":"1h","__scrape_timeout__":"10s","job":"self"},` +
			`"labels":{"instance":"localhost:9090","job":"self"},"scrapePool":"self","scrapeUrl":"http://localhost:9090/metrics",` +
			`"globalUrl":"https://argus.example.com:443/metrics","lastError":"","lastScrape":"0001-01-01T00:00:00Z","lastScrapeDuration":0,"health":"unknown","scrapeInterval":"1h","scrapeTimeout":"10s"}`
		dropped = `{"discoveredLabels":{"__address__":"drop.example:9100","__metrics_path__":"/metrics","__scheme__":"http","__scrape_interval__":"1h","__scrape_timeout__":"10s","env":"prod","job":"node"},"scrapePool":"node"}`
		counts  = `{"empty":0,"node":1,"self":0}`
	)
	runAPICases(t, h, []apiCase{
		{name: "all", method: "GET", target: "/api/v1/targets", code: 200,
			body: `{"status":"success","data":{"activeTargets":[` + node + `,` + self + `],"droppedTargets":[` + dropped + `],"droppedTargetCounts":` + counts + `}}`},
		{name: "state=any", method: "GET", target: "/api/v1/targets?state=any", code: 200,
			body: `{"status":"success","data":{"activeTargets":[` + node + `,` + self + `],"droppedTargets":[` + dropped + `],"droppedTargetCounts":` + counts + `}}`},
		{name: "state=active", method: "GET", target: "/api/v1/targets?state=Active", code: 200,
			body: `{"status":"success","data":{"activeTargets":[` + node + `,` + self + `],"droppedTargets":[],"droppedTargetCounts":null}}`},
		{name: "state=dropped", method: "GET", target: "/api/v1/targets?state=dropped", code: 200,
			body: `{"status":"success","data":{"activeTargets":[],"droppedTargets":[` + dropped + `],"droppedTargetCounts":` + counts + `}}`},
		{name: "scrapePool filter", method: "GET", target: "/api/v1/targets?scrapePool=self", code: 200,
			body: `{"status":"success","data":{"activeTargets":[` + self + `],"droppedTargets":[],"droppedTargetCounts":` + counts + `}}`},
		{name: "unknown state lists nothing", method: "GET", target: "/api/v1/targets?state=bogus", code: 200,
			body: `{"status":"success","data":{"activeTargets":[],"droppedTargets":[],"droppedTargetCounts":null}}`},
		{name: "scrape pools", method: "GET", target: "/api/v1/scrape_pools", code: 200,
			body: `{"status":"success","data":{"scrapePools":["empty","node","self"]}}`},
		{name: "metadata: none kept yet", method: "GET", target: "/api/v1/metadata?metric=up&limit=1&limit_per_metric=1", code: 200,
			body: `{"status":"success","data":{}}`},
		{name: "metadata: bad limit", method: "GET", target: "/api/v1/metadata?limit=x", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"limit must be a number"}`},
		{name: "metadata: bad limit_per_metric", method: "GET", target: "/api/v1/metadata?limit_per_metric=x", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"limit_per_metric must be a number"}`},
		{name: "target metadata: none kept yet", method: "GET", target: `/api/v1/targets/metadata?match_target={job="node"}&metric=up&limit=2`, code: 200,
			body: `{"status":"success","data":[]}`},
		{name: "target metadata: bad limit", method: "GET", target: "/api/v1/targets/metadata?limit=x", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"limit must be a number"}`},
		{name: "target metadata: bad match_target", method: "GET", target: "/api/v1/targets/metadata?match_target={job=", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"invalid parameter \"match_target\": 1:6: parse error: unexpected end of input inside braces"}`},
	})
}

func TestTargetsAPIWithoutScrapeManager(t *testing.T) {
	h, _ := newTestHandler(t, Options{})
	runAPICases(t, h, []apiCase{
		{name: "targets", method: "GET", target: "/api/v1/targets", code: 200,
			body: `{"status":"success","data":{"activeTargets":[],"droppedTargets":[],"droppedTargetCounts":{}}}`},
		{name: "scrape pools", method: "GET", target: "/api/v1/scrape_pools", code: 200,
			body: `{"status":"success","data":{"scrapePools":[]}}`},
	})
}

func TestGlobalURL(t *testing.T) {
	for _, tc := range []struct {
		listen, external, target, want string
	}{
		{"0.0.0.0:9090", "http://argus.example:9090", "http://localhost:9090/metrics", "http://argus.example:9090/metrics"},
		{"0.0.0.0:9090", "https://argus.example/prefix", "http://127.0.0.1:9090/prefix/metrics", "https://argus.example/prefix/metrics"},
		{"0.0.0.0:9090", "http://argus.example:9090", "http://[::1]:9100/metrics", "http://argus.example:9100/metrics"},
		{"0.0.0.0:9090", "http://argus.example:9090", "http://localhost/metrics", "http://argus.example/metrics"},
		{"0.0.0.0:9090", "http://argus.example:9090", "http://node.example:9100/metrics", "http://node.example:9100/metrics"},
	} {
		ext, _ := url.Parse(tc.external)
		h := &Handler{opts: Options{ListenAddress: tc.listen, ExternalURL: ext}}
		u, _ := url.Parse(tc.target)
		got, err := h.globalURL(u)
		if err != nil || got.String() != tc.want {
			t.Errorf("globalURL(%s) with external %s = %v, %v; want %s", tc.target, tc.external, got, err, tc.want)
		}
	}
}
