package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/version"

	"github.com/argusmon/argus/config"
)

// TestPrometheusGoClient drives the API with Prometheus's own Go client: if
// its decoders accept every answer, so do the tools built on it.
func TestPrometheusGoClient(t *testing.T) {
	cfg, err := config.Load([]byte("global:\n  scrape_interval: 15s\n"), "argus.yml")
	if err != nil {
		t.Fatal(err)
	}
	ext, _ := url.Parse("http://argus.example:9090")
	h, _ := newTestHandler(t, Options{
		ListenAddress:   "0.0.0.0:9090",
		ExternalURL:     ext,
		TargetRetriever: newTestScrapeManager(t),
		Config:          func() *config.Config { return cfg },
		Flags:           map[string]string{"web.listen-address": "0.0.0.0:9090"},
	})
	srv := httptest.NewServer(h)
	defer srv.Close()
	client, err := api.NewClient(api.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	p := v1.NewAPI(client)
	ctx := context.Background()

	val, _, _, err := p.Query(ctx, "up", time.Unix(50, 0))
	if vec, ok := val.(model.Vector); err != nil || !ok || len(vec) != 2 || vec[0].Metric["job"] != "a" || vec[0].Value != 1 || vec[0].Timestamp != 50_000 {
		t.Errorf("Query = %v, %v", val, err)
	}
	val, _, _, err = p.QueryRange(ctx, `up{job="b"}`, v1.Range{Start: time.Unix(0, 0), End: time.Unix(100, 0), Step: 10 * time.Second})
	if m, ok := val.(model.Matrix); err != nil || !ok || len(m) != 1 || len(m[0].Values) != 11 || m[0].Metric["instance"] != "y" {
		t.Errorf("QueryRange = %v, %v", val, err)
	}
	if _, _, _, err := p.Query(ctx, "sum(", time.Unix(50, 0)); err == nil || !strings.Contains(err.Error(), "bad_data") {
		t.Errorf("Query with a parse error: %v, want a bad_data error", err)
	}

	series, _, _, err := p.Series(ctx, []string{"up"}, time.Unix(0, 0), time.Unix(100, 0))
	if err != nil || len(series) != 2 || series[1]["job"] != "b" {
		t.Errorf("Series = %v, %v", series, err)
	}
	names, _, _, err := p.LabelNames(ctx, nil, time.Time{}, time.Time{})
	if err != nil || !slices.Equal(names, model.LabelNames{"__name__", "instance", "job"}) {
		t.Errorf("LabelNames = %v, %v", names, err)
	}
	values, _, _, err := p.LabelValues(ctx, "job", []string{`up{instance="x"}`}, time.Unix(0, 0), time.Unix(100, 0))
	if err != nil || !slices.Equal(values, model.LabelValues{"a"}) {
		t.Errorf("LabelValues = %v, %v", values, err)
	}
	md, err := p.Metadata(ctx, "", "")
	if err != nil || md == nil || len(md) != 0 {
		t.Errorf("Metadata = %v, %v", md, err)
	}
	tmd, err := p.TargetsMetadata(ctx, `{job="node"}`, "", "")
	if err != nil || tmd == nil || len(tmd) != 0 {
		t.Errorf("TargetsMetadata = %v, %v", tmd, err)
	}

	targets, err := p.Targets(ctx)
	if err != nil || len(targets.Active) != 2 || len(targets.Dropped) != 1 {
		t.Fatalf("Targets = %+v, %v", targets, err)
	}
	node := targets.Active[0]
	if node.ScrapePool != "node" || node.ScrapeURL != "http://127.0.0.1:9100/metrics" || node.GlobalURL != "http://argus.example:9100/metrics" ||
		node.Health != v1.HealthUnknown || node.Labels["env"] != "prod" || node.DiscoveredLabels["__address__"] != "127.0.0.1:9100" {
		t.Errorf("active target = %+v", node)
	}
	if d := targets.Dropped[0]; d.DiscoveredLabels["__address__"] != "drop.example:9100" {
		t.Errorf("dropped target = %+v", d)
	}

	bi, err := p.Buildinfo(ctx)
	if err != nil || bi.Version != version.Version || bi.GoVersion != version.GoVersion {
		t.Errorf("Buildinfo = %+v, %v", bi, err)
	}
	rt, err := p.Runtimeinfo(ctx)
	if err != nil || rt.GOMAXPROCS < 1 || rt.CWD == "" {
		t.Errorf("Runtimeinfo = %+v, %v", rt, err)
	}
	cr, err := p.Config(ctx)
	if err != nil || !strings.Contains(cr.YAML, "scrape_interval: 15s") {
		t.Errorf("Config = %+v, %v", cr, err)
	}
	flags, err := p.Flags(ctx)
	if err != nil || flags["web.listen-address"] != "0.0.0.0:9090" {
		t.Errorf("Flags = %v, %v", flags, err)
	}
	wal, err := p.WalReplay(ctx)
	if err != nil || wal.Max != 0 {
		t.Errorf("WalReplay = %+v, %v", wal, err)
	}
	if _, err := p.QueryExemplars(ctx, "up", time.Unix(0, 0), time.Unix(100, 0)); err != nil {
		t.Errorf("QueryExemplars: %v", err)
	}
}

// envelope is the API answer as a client with no schema sees it.
type envelope struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
}

// TestGrafanaSequence replays the requests Grafana's Prometheus data source
// makes when a dashboard is opened: health check via buildinfo, the metric
// and label browser, then the panels' queries as POST forms.
func TestGrafanaSequence(t *testing.T) {
	h, _ := newTestHandler(t, Options{})
	srv := httptest.NewServer(h)
	defer srv.Close()
	form := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	for _, step := range []struct {
		method string
		path   string
		params url.Values
		check  func(data json.RawMessage) bool
	}{
		{"GET", "/api/v1/status/buildinfo", nil, func(d json.RawMessage) bool {
			var bi map[string]string
			return json.Unmarshal(d, &bi) == nil && bi["goVersion"] != "" && len(bi) == 6
		}},
		{"POST", "/api/v1/labels", form("match[]", `{__name__="up"}`, "start", "0", "end", "100"), func(d json.RawMessage) bool {
			var names []string
			return json.Unmarshal(d, &names) == nil && slices.Equal(names, []string{"__name__", "instance", "job"})
		}},
		{"GET", "/api/v1/label/__name__/values", form("start", "0", "end", "100"), func(d json.RawMessage) bool {
			var vals []string
			return json.Unmarshal(d, &vals) == nil && slices.Equal(vals, []string{"up"})
		}},
		{"GET", "/api/v1/label/job/values", form("match[]", `up{instance="y"}`, "start", "0", "end", "100"), func(d json.RawMessage) bool {
			var vals []string
			return json.Unmarshal(d, &vals) == nil && slices.Equal(vals, []string{"b"})
		}},
		{"POST", "/api/v1/series", form("match[]", `up`, "start", "0", "end", "100"), func(d json.RawMessage) bool {
			var sets []map[string]string
			return json.Unmarshal(d, &sets) == nil && len(sets) == 2 && sets[0]["instance"] == "x"
		}},
		{"GET", "/api/v1/metadata", nil, func(d json.RawMessage) bool {
			var md map[string][]map[string]string
			return json.Unmarshal(d, &md) == nil && md != nil
		}},
		{"POST", "/api/v1/query_range", form("query", `sum by (job) (up)`, "start", "0", "end", "100", "step", "20"), func(d json.RawMessage) bool {
			var qd struct {
				ResultType string `json:"resultType"`
				Result     []struct {
					Metric map[string]string `json:"metric"`
					Values [][2]any          `json:"values"`
				} `json:"result"`
			}
			return json.Unmarshal(d, &qd) == nil && qd.ResultType == "matrix" && len(qd.Result) == 2 &&
				qd.Result[0].Metric["job"] == "a" && len(qd.Result[0].Values) == 6 && qd.Result[0].Values[5][1] == "1"
		}},
		{"POST", "/api/v1/query", form("query", `up{job="a"}`, "time", "100"), func(d json.RawMessage) bool {
			var qd struct {
				ResultType string `json:"resultType"`
				Result     []struct {
					Value [2]any `json:"value"`
				} `json:"result"`
			}
			return json.Unmarshal(d, &qd) == nil && qd.ResultType == "vector" && len(qd.Result) == 1 && qd.Result[0].Value[0] == 100.0
		}},
	} {
		req, err := newFormRequest(srv.URL, step.method, step.path, step.params)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", "https://grafana.example.com")
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", step.method, step.path, err)
		}
		var env envelope
		err = json.NewDecoder(resp.Body).Decode(&env)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || env.Status != "success" {
			t.Errorf("%s %s: %d %+v (%v)", step.method, step.path, resp.StatusCode, env, err)
			continue
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s %s: no CORS header for Grafana's browser", step.method, step.path)
		}
		if !step.check(env.Data) {
			t.Errorf("%s %s: unexpected data %s", step.method, step.path, env.Data)
		}
	}
}

func newFormRequest(base, method, path string, params url.Values) (*http.Request, error) {
	if method == http.MethodGet {
		return http.NewRequest(method, base+path+"?"+params.Encode(), nil)
	}
	req, err := http.NewRequest(method, base+path, strings.NewReader(params.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req, nil
}
