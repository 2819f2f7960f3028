package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// recordingTarget is a /metrics endpoint that remembers when it was scraped.
type recordingTarget struct {
	*httptest.Server
	mu       sync.Mutex
	arrivals []time.Time
}

func newRecordingTarget(t *testing.T) *recordingTarget {
	t.Helper()
	rt := &recordingTarget{}
	rt.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		rt.mu.Lock()
		rt.arrivals = append(rt.arrivals, time.Now())
		rt.mu.Unlock()
		io.WriteString(w, "spacing_metric 1\n")
	}))
	t.Cleanup(rt.Close)
	return rt
}

func (rt *recordingTarget) times() []time.Time {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return append([]time.Time(nil), rt.arrivals...)
}

func TestFileSDAddsAndRemovesTargets(t *testing.T) {
	dir := t.TempDir()
	t1 := metricsTarget(t, "fsd_metric 1\n")
	t2 := metricsTarget(t, "fsd_metric 2\n")
	sdFile := filepath.Join(dir, "targets.json")
	writeConfig(t, sdFile, fmt.Sprintf(`[{"targets": [%q], "labels": {"team": "a"}}]`, hostOf(t1)))
	cfg := filepath.Join(dir, "argus.yml")
	writeConfig(t, cfg, "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: fsd\n    file_sd_configs:\n      - files: ['targets.json']\n        refresh_interval: 5s\n")
	p := startArgus(t, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"))

	upSet := func(want ...string) func() error {
		return func() error {
			vec, err := p.instant(`up{job="fsd"} == 1`, "")
			if err != nil {
				return err
			}
			got := map[string]bool{}
			for _, s := range vec {
				// A target that left is stale, not up: only current ones count.
				got[s.Metric["instance"]] = true
				if s.Metric["team"] != "a" {
					return fmt.Errorf("target %s lacks the file's labels: %v", s.Metric["instance"], s.Metric)
				}
			}
			if len(got) != len(want) {
				return fmt.Errorf("up targets %v, want %v", got, want)
			}
			for _, w := range want {
				if !got[w] {
					return fmt.Errorf("up targets %v, want %v", got, want)
				}
			}
			return nil
		}
	}
	// File changes are seen by polling (5s) and applied after the 5s
	// debounce, as Prometheus debounces discovery updates.
	eventually(t, 15*time.Second, "first file_sd target", upSet(hostOf(t1)))
	writeConfig(t, sdFile, fmt.Sprintf(`[{"targets": [%q, %q], "labels": {"team": "a"}}]`, hostOf(t1), hostOf(t2)))
	eventually(t, 15*time.Second, "target added by rewriting the file", upSet(hostOf(t1), hostOf(t2)))
	writeConfig(t, sdFile, fmt.Sprintf(`[{"targets": [%q], "labels": {"team": "a"}}]`, hostOf(t2)))
	eventually(t, 15*time.Second, "target removed by rewriting the file", upSet(hostOf(t2)))
}

// TestReloadKeepsOtherJobsEvenlySpaced: a reload that changes one job must
// not disturb the scrape rhythm of another: no gap, no double scrape.
func TestReloadKeepsOtherJobsEvenlySpaced(t *testing.T) {
	dir := t.TempDir()
	steady := newRecordingTarget(t)
	changing := metricsTarget(t, "changing_metric 1\n")
	cfg := filepath.Join(dir, "argus.yml")
	config := func(label string) string {
		return fmt.Sprintf("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: steady\n    static_configs:\n      - targets: [%q]\n  - job_name: changing\n    static_configs:\n      - targets: [%q]\n        labels: {version: %q}\n",
			hostOf(steady.Server), hostOf(changing), label)
	}
	writeConfig(t, cfg, config("1"))
	p := startArgus(t, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"))

	eventually(t, 5*time.Second, "steady job scraped", func() error {
		if n := len(steady.times()); n < 3 {
			return fmt.Errorf("%d scrapes", n)
		}
		return nil
	})
	for i := range 3 {
		writeConfig(t, cfg, config(fmt.Sprint(i+2)))
		p.signal(syscall.SIGHUP)
		time.Sleep(700 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	if v, err := p.selfMetric(`argus_config_reloads_total{result="success"}`); err != nil || v != 3 {
		t.Fatalf("successful reloads = %v, %v; want 3", v, err)
	}
	at := steady.times()
	for i := 1; i < len(at); i++ {
		if gap := at[i].Sub(at[i-1]); gap < 800*time.Millisecond || gap > 1200*time.Millisecond {
			t.Errorf("steady job scrape %d came %s after the previous one, want 1s ± 200ms", i, gap.Round(time.Millisecond))
		}
	}
	t.Logf("steady job: %d scrapes across 3 reloads of the other job", len(at))
}
