package web

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/argusmon/argus/config"
	"github.com/argusmon/argus/scrape"
	"github.com/argusmon/argus/tsdb"
)

// newMetadataHandler scrapes two targets whose expositions describe
// req_total differently and share the gauge temp.
func newMetadataHandler(t *testing.T) (*Handler, string, string) {
	t.Helper()
	serve := func(body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, body) }))
		t.Cleanup(srv.Close)
		return strings.TrimPrefix(srv.URL, "http://")
	}
	a := serve("# HELP req_total Requests.\n# TYPE req_total counter\nreq_total 1\n# TYPE temp gauge\ntemp 2\n")
	b := serve("# HELP req_total Requests served.\n# TYPE req_total counter\nreq_total 1\n# TYPE temp gauge\ntemp 3\n")
	cfg, err := config.Load([]byte(fmt.Sprintf("scrape_configs:\n  - job_name: app\n    scrape_interval: 100ms\n    scrape_timeout: 100ms\n    static_configs:\n      - targets: [%q, %q]\n", a, b)), "test.yml")
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
	deadline := time.Now().Add(5 * time.Second)
	for {
		ts := m.TargetsActive()["app"]
		if len(ts) == 2 && len(ts[0].Metadata()) == 2 && len(ts[1].Metadata()) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("targets not scraped")
		}
		time.Sleep(20 * time.Millisecond)
	}
	h := New(Options{TargetRetriever: m, Storage: db})
	h.SetReady(true)
	return h, a, b
}

func TestMetadataAPI(t *testing.T) {
	h, a, b := newMetadataHandler(t)
	// Targets come sorted by URL; make the expected order follow it.
	first, second := a, b
	helpFirst, helpSecond := "Requests.", "Requests served."
	if b < a {
		first, second = b, a
		helpFirst, helpSecond = helpSecond, helpFirst
	}
	for _, tc := range []struct {
		name, target, want string
		code               int
	}{
		{"all", "/api/v1/metadata", `{"status":"success","data":{"req_total":[{"type":"counter","help":"` + helpFirst + `","unit":""},{"type":"counter","help":"` + helpSecond + `","unit":""}],"temp":[{"type":"gauge","help":"","unit":""}]}}`, 200},
		{"limit", "/api/v1/metadata?limit=1", `{"status":"success","data":{"req_total":[{"type":"counter","help":"` + helpFirst + `","unit":""},{"type":"counter","help":"` + helpSecond + `","unit":""}]}}`, 200},
		{"limit_per_metric", "/api/v1/metadata?limit_per_metric=1&metric=req_total", `{"status":"success","data":{"req_total":[{"type":"counter","help":"` + helpFirst + `","unit":""}]}}`, 200},
		{"bad limit", "/api/v1/metadata?limit=x", `{"status":"error","errorType":"bad_data","error":"limit must be a number"}`, 400},
		{"target metadata for one metric", "/api/v1/targets/metadata?metric=temp&match_target=" + `{instance="` + first + `"}`,
			`{"status":"success","data":[{"target":{"instance":"` + first + `","job":"app"},"type":"gauge","help":"","unit":""}]}`, 200},
		{"target metadata, all metrics, limit", "/api/v1/targets/metadata?limit=3",
			`{"status":"success","data":[{"target":{"instance":"` + first + `","job":"app"},"metric":"req_total","type":"counter","help":"` + helpFirst + `","unit":""},` +
				`{"target":{"instance":"` + first + `","job":"app"},"metric":"temp","type":"gauge","help":"","unit":""},` +
				`{"target":{"instance":"` + second + `","job":"app"},"metric":"req_total","type":"counter","help":"` + helpSecond + `","unit":""}]}`, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(h, "GET", tc.target, nil, nil)
			if rec.Code != tc.code || rec.Body.String() != tc.want {
				t.Errorf("got %d %s\nwant %d %s", rec.Code, rec.Body.String(), tc.code, tc.want)
			}
		})
	}
}
