package main

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRulesEndToEnd: a recording rule's series appears in queries, and a
// reload with a broken rule file keeps the running rules and counts a
// failed reload.
func TestRulesEndToEnd(t *testing.T) {
	dir := t.TempDir()
	target := metricsTarget(t, "app_temperature 21.5\n")
	ruleFile := filepath.Join(dir, "rules.yml")
	writeConfig(t, ruleFile, "groups:\n  - name: app\n    rules:\n      - record: job:app_temperature:max\n        expr: max by (job) (app_temperature)\n")
	cfg := filepath.Join(dir, "argus.yml")
	writeConfig(t, cfg, fmt.Sprintf("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nrule_files: ['rules.yml']\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: [%q]\n", hostOf(target)))
	p := startArgus(t, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"))

	recorded := func() error {
		vec, err := p.instant(`job:app_temperature:max`, "")
		if err != nil {
			return err
		}
		if len(vec) != 1 || vec[0].float(t) != 21.5 || vec[0].Metric["job"] != "app" {
			return fmt.Errorf("job:app_temperature:max = %+v", vec)
		}
		return nil
	}
	eventually(t, 5*time.Second, "recording rule result", recorded)
	resp, err := http.Get("http://" + p.addr + "/api/v1/rules?type=record")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"name":"job:app_temperature:max"`) || !strings.Contains(string(body), `"health":"ok"`) {
		t.Errorf("/api/v1/rules does not list the healthy rule: %s", body)
	}

	writeConfig(t, ruleFile, "groups:\n  - name: app\n    rules:\n      - record: job:app_temperature:max\n        expr: max by (job) (app_temperature\n")
	p.signal(syscall.SIGHUP)
	eventually(t, 3*time.Second, "failed reload reported", func() error {
		if v, err := p.selfMetric("argus_config_last_reload_successful"); err != nil || v != 0 {
			return fmt.Errorf("argus_config_last_reload_successful = %v, %v", v, err)
		}
		return nil
	})
	// The old rule keeps evaluating: a fresh result appears after the reload.
	before := time.Now()
	eventually(t, 5*time.Second, "old rule still evaluated", func() error {
		vec, err := p.instant(fmt.Sprintf(`count_over_time(job:app_temperature:max[%dms])`, time.Since(before).Milliseconds()+1), "")
		if err != nil {
			return err
		}
		if len(vec) != 1 {
			return fmt.Errorf("no evaluation since the reload: %+v", vec)
		}
		return nil
	})
}
