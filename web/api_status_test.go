package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/version"

	"github.com/argusmon/argus/config"
)

func TestStatusAPI(t *testing.T) {
	cfg, err := config.Load([]byte("global:\n  scrape_interval: 30s\n"), "argus.yml")
	if err != nil {
		t.Fatal(err)
	}
	cfgJSON, _ := json.Marshal(cfg.String())

	saved := [...]string{version.Version, version.Revision, version.Branch, version.BuildUser, version.BuildDate}
	t.Cleanup(func() {
		version.Version, version.Revision, version.Branch, version.BuildUser, version.BuildDate = saved[0], saved[1], saved[2], saved[3], saved[4]
	})
	version.Version, version.Revision, version.Branch = "2.53.0", "abc123", "main"
	version.BuildUser, version.BuildDate = "ci@builder", "20260101-00:00:00"

	h, _ := newTestHandler(t, Options{
		Config: func() *config.Config { return cfg },
		Flags:  map[string]string{"web.listen-address": "0.0.0.0:9090", "storage.tsdb.retention.time": "15d", "web.enable-lifecycle": "false"},
		WALReplayStatus: func() WALReplayStatus {
			return WALReplayStatus{Min: 3, Max: 7, Current: 7}
		},
	})
	runAPICases(t, h, []apiCase{
		{name: "config", method: "GET", target: "/api/v1/status/config", code: 200,
			body: `{"status":"success","data":{"yaml":` + string(cfgJSON) + `}}`},
		{name: "flags", method: "GET", target: "/api/v1/status/flags", code: 200,
			body: `{"status":"success","data":{"storage.tsdb.retention.time":"15d","web.enable-lifecycle":"false","web.listen-address":"0.0.0.0:9090"}}`},
		{name: "buildinfo", method: "GET", target: "/api/v1/status/buildinfo", code: 200,
			body: `{"status":"success","data":{"version":"2.53.0","revision":"abc123","branch":"main","buildUser":"ci@builder","buildDate":"20260101-00:00:00","goVersion":"` + version.GoVersion + `"}}`},
		{name: "walreplay", method: "GET", target: "/api/v1/status/walreplay", code: 200,
			body: `{"status":"success","data":{"min":3,"max":7,"current":7}}`},
		{name: "POST not allowed", method: "POST", target: "/api/v1/status/config", code: 405, body: ""},
	})
	if !strings.Contains(cfg.String(), "scrape_interval: 30s") {
		t.Errorf("config YAML lacks the loaded setting:\n%s", cfg.String())
	}

	h2, _ := newTestHandler(t, Options{})
	runAPICases(t, h2, []apiCase{
		{name: "no config yet", method: "GET", target: "/api/v1/status/config", code: 503,
			body: `{"status":"error","errorType":"unavailable","error":"no configuration loaded"}`},
		{name: "no flags", method: "GET", target: "/api/v1/status/flags", code: 200,
			body: `{"status":"success","data":{}}`},
		{name: "walreplay without a reporter", method: "GET", target: "/api/v1/status/walreplay", code: 200,
			body: `{"status":"success","data":{"min":0,"max":0,"current":0}}`},
	})
	// WAL replay progress is what a client polls before the server is ready.
	h2.SetReady(false)
	if rec := do(h2, "GET", "/api/v1/status/walreplay", nil, nil); rec.Code != http.StatusOK {
		t.Errorf("walreplay while not ready: %d, want 200", rec.Code)
	}
	if rec := do(h2, "GET", "/api/v1/status/buildinfo", nil, nil); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("buildinfo while not ready: %d, want 503", rec.Code)
	}
}

func TestRuntimeInfo(t *testing.T) {
	reg := prometheus.NewRegistry()
	ok := prometheus.NewGauge(prometheus.GaugeOpts{Name: metricReloadSuccessful, Help: "h"})
	ts := prometheus.NewGauge(prometheus.GaugeOpts{Name: metricReloadTimestamp, Help: "h"})
	corrupt := prometheus.NewCounter(prometheus.CounterOpts{Name: metricWALCorruptions, Help: "h"})
	reg.MustRegister(ok, ts, corrupt)
	ok.Set(1)
	ts.Set(1_700_000_000)
	corrupt.Add(2)

	before := time.Now().UTC()
	h, _ := newTestHandler(t, Options{
		Gatherer:              reg,
		TSDBRetentionDuration: model.Duration(15 * 24 * time.Hour),
		TSDBMaxBytes:          512 << 20,
	})
	rec := do(h, "GET", "/api/v1/status/runtimeinfo", nil, nil)
	var resp struct {
		Status string
		Data   map[string]any
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || rec.Code != 200 || resp.Status != "success" {
		t.Fatalf("runtimeinfo: %d %s (%v)", rec.Code, rec.Body.String(), err)
	}
	want := map[string]any{
		"reloadConfigSuccess": true,
		"lastConfigTime":      "2023-11-14T22:13:20Z",
		"corruptionCount":     2.0,
		"storageRetention":    "15d or 512MiB",
	}
	for k, v := range want {
		if resp.Data[k] != v {
			t.Errorf("%s = %v, want %v", k, resp.Data[k], v)
		}
	}
	for _, k := range []string{"startTime", "CWD", "hostname", "serverTime", "goroutineCount", "GOMAXPROCS", "GOMEMLIMIT", "GOGC", "GODEBUG"} {
		if _, ok := resp.Data[k]; !ok {
			t.Errorf("runtimeinfo lacks %q: %s", k, rec.Body.String())
		}
	}
	if n, _ := resp.Data["goroutineCount"].(float64); n < 1 {
		t.Errorf("goroutineCount = %v", resp.Data["goroutineCount"])
	}
	start, err := time.Parse(time.RFC3339Nano, resp.Data["startTime"].(string))
	if err != nil || start.Before(before.Add(-time.Second)) || start.After(time.Now()) {
		t.Errorf("startTime = %v (%v), want about %v", resp.Data["startTime"], err, before)
	}
	if len(resp.Data) != 13 {
		t.Errorf("runtimeinfo has %d fields, want Prometheus's 13: %s", len(resp.Data), rec.Body.String())
	}
}
