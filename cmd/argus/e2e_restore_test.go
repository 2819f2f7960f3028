package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"
)

// alertStates returns the state of each active alert by alertname, from
// /api/v1/alerts.
func alertStates(addr string) (map[string]string, error) {
	resp, err := http.Get("http://" + addr + "/api/v1/alerts")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Data struct {
			Alerts []struct {
				Labels map[string]string `json:"labels"`
				State  string            `json:"state"`
			} `json:"alerts"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("decode %s: %w", body, err)
	}
	m := map[string]string{}
	for _, a := range r.Data.Alerts {
		m[a.Labels["alertname"]] = a.State
	}
	return m, nil
}

// TestFiringAlertSurvivesRestart: an alert with for: 10m that is firing
// stays firing after SIGTERM and a restart, its for state restored from
// ALERTS_FOR_STATE rather than started again.
func TestFiringAlertSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	target := metricsTarget(t, "app_healthy 0\n")
	// The seeding run scrapes nothing, so that its writes cannot race a
	// scrape of the same series; the later runs scrape and evaluate.
	cfgText := func(running bool) string {
		if !running {
			return "global:\n  evaluation_interval: 1s\n"
		}
		return fmt.Sprintf("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nrule_files: ['rules.yml']\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: [%q]\n", hostOf(target))
	}
	writeConfig(t, filepath.Join(dir, "rules.yml"), "groups:\n  - name: app\n    rules:\n      - alert: AppDown\n        expr: app_healthy == 0\n        for: 10m\n")
	cfg := filepath.Join(dir, "argus.yml")

	// History: the alert has been active for 15 minutes, as a previous run
	// of the rule would have recorded in ALERTS_FOR_STATE.
	writeConfig(t, cfg, cfgText(false))
	p := startArgus(t, "--config.file="+cfg, "--storage.tsdb.path="+dataDir, "--web.enable-remote-write-receiver")
	now := time.Now()
	activeAt := float64(now.Add(-15 * time.Minute).Unix())
	var samples, unhealthy []prompb.Sample
	for ts := now.Add(-2 * time.Minute); !ts.After(now); ts = ts.Add(15 * time.Second) {
		samples = append(samples, prompb.Sample{Timestamp: ts.UnixMilli(), Value: activeAt})
		unhealthy = append(unhealthy, prompb.Sample{Timestamp: ts.UnixMilli(), Value: 0})
	}
	req := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{
		Labels: []prompb.Label{
			{Name: "__name__", Value: "ALERTS_FOR_STATE"}, {Name: "alertname", Value: "AppDown"},
			{Name: "instance", Value: hostOf(target)}, {Name: "job", Value: "app"},
		},
		Samples: samples,
	}, {
		// The condition's recent past, as the previous run scraped it.
		Labels: []prompb.Label{
			{Name: "__name__", Value: "app_healthy"}, {Name: "instance", Value: hostOf(target)}, {Name: "job", Value: "app"},
		},
		Samples: unhealthy,
	}}}
	if ok, err := postWrite(p.addr, req); err != nil || !ok {
		t.Fatalf("seeding ALERTS_FOR_STATE: %v %v", ok, err)
	}
	p.signal(syscall.SIGTERM)
	p.waitExit(15 * time.Second)

	firing := func(p *argusProc) func() error {
		return func() error {
			states, err := alertStates(p.addr)
			if err != nil {
				return err
			}
			if states["AppDown"] != "firing" {
				return fmt.Errorf("alert states %v, want AppDown firing", states)
			}
			return nil
		}
	}
	// With the rules loaded, the restored alert fires at once instead of
	// pending for 10 minutes.
	writeConfig(t, cfg, cfgText(true))
	p2 := startArgus(t, "--config.file="+cfg, "--storage.tsdb.path="+dataDir)
	eventually(t, 10*time.Second, "alert restored as firing", firing(p2))
	time.Sleep(2 * time.Second) // let it write its own ALERTS_FOR_STATE
	p2.signal(syscall.SIGTERM)
	if code := p2.waitExit(15 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}

	// And it stays firing across a plain SIGTERM and restart.
	p3 := startArgus(t, "--config.file="+cfg, "--storage.tsdb.path="+dataDir)
	eventually(t, 10*time.Second, "alert still firing after restart", firing(p3))
}
