//go:build soak

package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSoakScrape runs the binary against many in-process targets and reports
// what an operator sizes a server by: CPU seconds per million samples, RSS,
// and how far scrapes drift from their interval. It is not part of make test;
// run it with `make soak-scrape` (SOAK_TARGETS, SOAK_SERIES, SOAK_INTERVAL and
// SOAK_DURATION override the defaults of 1000 targets × 1000 series every 15s
// for 10m).
func TestSoakScrape(t *testing.T) {
	targets := envInt(t, "SOAK_TARGETS", 1000)
	series := envInt(t, "SOAK_SERIES", 1000)
	interval := envDuration(t, "SOAK_INTERVAL", 15*time.Second)
	duration := envDuration(t, "SOAK_DURATION", 10*time.Minute)

	body := soakPayload(series)
	var (
		mu       sync.Mutex
		arrivals = make([][]time.Time, targets)
	)
	addrs := make([]string, targets)
	for i := range targets {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			mu.Lock()
			arrivals[i] = append(arrivals[i], time.Now())
			mu.Unlock()
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			_, _ = w.Write(body)
		})}
		go func() { _ = srv.Serve(ln) }()
		t.Cleanup(func() { srv.Close() })
		addrs[i] = "'" + ln.Addr().String() + "'"
	}
	cfg := filepath.Join(t.TempDir(), "soak.yml")
	writeConfig(t, cfg, fmt.Sprintf("global:\n  scrape_interval: %s\n  scrape_timeout: %s\nscrape_configs:\n  - job_name: soak\n    static_configs:\n      - targets: [%s]\n",
		interval, interval, strings.Join(addrs, ", ")))

	p := startArgus(t, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(t.TempDir(), "data"))
	// Measure after the first full round, so start-up and first-scrape
	// series creation are not what the figures describe.
	time.Sleep(interval + interval/2)
	cpu0 := procCPUSeconds(t, p.cmd.Process.Pid)
	start := time.Now()
	time.Sleep(duration)
	cpu := procCPUSeconds(t, p.cmd.Process.Pid) - cpu0
	elapsed := time.Since(start)
	rss := procRSSBytes(t, p.cmd.Process.Pid)

	mu.Lock()
	var worst time.Duration
	scrapes := 0
	for _, at := range arrivals {
		scrapes += len(at)
		for j := 2; j < len(at); j++ { // the first gap includes the start-up offset
			if d := at[j].Sub(at[j-1]) - interval; d.Abs() > worst {
				worst = d.Abs()
			}
		}
	}
	mu.Unlock()
	samples := float64(targets*(series+5)) * elapsed.Seconds() / interval.Seconds() // +5 report series
	t.Logf("targets=%d series/target=%d interval=%s measured=%s", targets, series, interval, elapsed.Round(time.Second))
	t.Logf("samples ingested ≈ %.0f (%.0f/s), scrapes served %d", samples, samples/elapsed.Seconds(), scrapes)
	t.Logf("CPU: %.2f s total, %.3f CPU-seconds per million samples", cpu, cpu/(samples/1e6))
	t.Logf("RSS at end: %.1f MiB", float64(rss)/(1<<20))
	t.Logf("largest deviation of a scrape from its interval: %s", worst)
	if up, err := p.instant(`count(up{job="soak"} == 1)`, ""); err != nil || len(up) != 1 || int(up[0].float(t)) != targets {
		t.Errorf("targets up at the end: %+v, %v; want %d", up, err, targets)
	}
}

func soakPayload(series int) []byte {
	var b strings.Builder
	b.WriteString("# TYPE soak_requests_total counter\n")
	for i := range series {
		fmt.Fprintf(&b, "soak_requests_total{handler=\"/h%d\",code=\"%d\"} %d\n", i/5, 200+i%5, i*7)
	}
	return []byte(b.String())
}

func envInt(t *testing.T, name string, def int) int {
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("%s=%q: %v", name, v, err)
		}
		return n
	}
	return def
}

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	if v := os.Getenv(name); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("%s=%q: %v", name, v, err)
		}
		return d
	}
	return def
}

// procCPUSeconds reads user+system CPU time of pid from /proc (Linux).
func procCPUSeconds(t *testing.T, pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the parenthesised command name; utime and stime are the
	// 14th and 15th fields of the whole line.
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100 // USER_HZ is 100 on Linux
}

func procRSSBytes(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}
