package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// argusBinary is the server built once for all end-to-end tests.
var argusBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "argus-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	argusBinary = filepath.Join(dir, "argus")
	args := []string{"build", "-o", argusBinary}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building argus:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// argusProc is a running server binary.
type argusProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	addr string
	log  *lockedBuffer
	done chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startArgus starts the binary and waits until /-/ready answers 200.
func startArgus(t *testing.T, args ...string) *argusProc {
	t.Helper()
	p := &argusProc{t: t, addr: freeAddr(t), log: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(argusBinary, append([]string{"--web.listen-address=" + p.addr}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("argus log:\n%s", p.log.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			t.Fatalf("argus exited during start-up: %v\n%s", p.cmd.ProcessState, p.log.String())
		default:
		}
		resp, err := http.Get("http://" + p.addr + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("argus not ready after 30s:\n%s", p.log.String())
	return nil
}

func (p *argusProc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

// waitExit waits for the process to end and returns its exit code.
func (p *argusProc) waitExit(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		p.t.Fatalf("argus did not exit within %s", timeout)
	}
	return -1
}

type apiSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

func (s apiSample) float(t *testing.T) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(s.Value[1].(string), 64)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// instant runs an instant query, at ts if not empty, and returns the vector.
func (p *argusProc) instant(q, ts string) ([]apiSample, error) {
	v := url.Values{"query": {q}}
	if ts != "" {
		v.Set("time", ts)
	}
	resp, err := http.Get("http://" + p.addr + "/api/v1/query?" + v.Encode())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string      `json:"resultType"`
			Result     []apiSample `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("decode %s: %w", body, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %q: %s", q, r.Error)
	}
	if r.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %q: result type %s", q, r.Data.ResultType)
	}
	return r.Data.Result, nil
}

// eventually polls cond until it returns nil or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: not true within %s: %v", what, timeout, err)
}

// selfMetric reads one series, written as /metrics shows it, from the
// server's /metrics.
func (p *argusProc) selfMetric(name string) (float64, error) {
	resp, err := http.Get("http://" + p.addr + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("metric %s not exposed", name)
}

func metricsTarget(t *testing.T, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func writeConfig(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

const scrapeInterval = time.Second

func scrapeConfig(targets ...string) string {
	return fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: app
    static_configs:
      - targets: [%s]
`, strings.Join(targets, ", "))
}

func hostOf(srv *httptest.Server) string { return strings.TrimPrefix(srv.URL, "http://") }

func upByInstance(p *argusProc) (map[string]float64, error) {
	vec, err := p.instant(`up{job="app"}`, "")
	if err != nil {
		return nil, err
	}
	m := map[string]float64{}
	for _, s := range vec {
		f, err := strconv.ParseFloat(s.Value[1].(string), 64)
		if err != nil {
			return nil, err
		}
		m[s.Metric["instance"]] = f
	}
	return m, nil
}

// TestEndToEnd is the thin path of issue 2, through the real binary: scrape,
// store, query; reload good and bad configs; shut down cleanly; replay.
func TestEndToEnd(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "argus.yml")
	dataDir := filepath.Join(dir, "data")
	t1 := metricsTarget(t, "# TYPE app_requests_total counter\napp_requests_total{path=\"/\"} 7\napp_temperature 21.5\n")
	t2 := metricsTarget(t, "app_requests_total{path=\"/x\"} 3\n")
	writeConfig(t, cfgPath, scrapeConfig(hostOf(t1)))

	p := startArgus(t, "--config.file="+cfgPath, "--storage.tsdb.path="+dataDir, "--web.enable-lifecycle")
	ready := time.Now()

	// Within two scrape intervals the target is up and its series queryable.
	eventually(t, 2*scrapeInterval+500*time.Millisecond, "first target scraped", func() error {
		up, err := upByInstance(p)
		if err != nil {
			return err
		}
		if up[hostOf(t1)] != 1 {
			return fmt.Errorf("up = %v", up)
		}
		return nil
	})
	t.Logf("first target up %s after ready", time.Since(ready).Round(time.Millisecond))
	vec, err := p.instant(`app_temperature`, "")
	if err != nil || len(vec) != 1 || vec[0].float(t) != 21.5 || vec[0].Metric["job"] != "app" || vec[0].Metric["instance"] != hostOf(t1) {
		t.Fatalf("app_temperature = %+v, %v", vec, err)
	}
	scrapedAt := vec[0].Value[0].(float64)

	// A second target appears after SIGHUP.
	writeConfig(t, cfgPath, scrapeConfig(hostOf(t1), hostOf(t2)))
	p.signal(syscall.SIGHUP)
	eventually(t, 3*scrapeInterval, "second target scraped after reload", func() error {
		up, err := upByInstance(p)
		if err != nil {
			return err
		}
		if up[hostOf(t1)] != 1 || up[hostOf(t2)] != 1 {
			return fmt.Errorf("up = %v", up)
		}
		return nil
	})
	if v, err := p.selfMetric("argus_config_last_reload_successful"); err != nil || v != 1 {
		t.Fatalf("argus_config_last_reload_successful = %v, %v; want 1", v, err)
	}

	// A broken file keeps the running config and flips the metric to 0.
	writeConfig(t, cfgPath, scrapeConfig(hostOf(t1))+"  - job_name: app\n    scrape_intervall: 5s\n")
	p.signal(syscall.SIGHUP)
	eventually(t, 3*time.Second, "failed reload reported", func() error {
		if v, err := p.selfMetric("argus_config_last_reload_successful"); err != nil || v != 0 {
			return fmt.Errorf("argus_config_last_reload_successful = %v, %v", v, err)
		}
		return nil
	})
	for series, want := range map[string]float64{
		`argus_config_reloads_total{result="success"}`: 1,
		`argus_config_reloads_total{result="failure"}`: 1,
	} {
		if v, err := p.selfMetric(series); err != nil || v != want {
			t.Errorf("%s = %v, %v; want %v", series, v, err, want)
		}
	}
	if !strings.Contains(p.log.String(), "scrape_intervall") {
		t.Errorf("the log does not name the bad field:\n%s", p.log.String())
	}
	before := time.Now()
	eventually(t, 3*scrapeInterval, "both targets still scraped with the old config", func() error {
		// Count each target's scrapes since the failed reload.
		since := time.Since(before).Milliseconds()
		vec, err := p.instant(fmt.Sprintf(`count_over_time(up{job="app"}[%dms])`, since), "")
		if err != nil {
			return err
		}
		if len(vec) != 2 {
			return fmt.Errorf("%d targets scraped since the reload, want 2", len(vec))
		}
		return nil
	})

	// SIGTERM shuts down cleanly.
	p.signal(syscall.SIGTERM)
	if code := p.waitExit(15 * time.Second); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d, want 0\n%s", code, p.log.String())
	}

	// A restart on the same directory replays the WAL: the earlier sample is
	// there at its original timestamp.
	writeConfig(t, cfgPath, scrapeConfig(hostOf(t1)))
	p2 := startArgus(t, "--config.file="+cfgPath, "--storage.tsdb.path="+dataDir)
	at := strconv.FormatFloat(scrapedAt, 'f', 3, 64)
	vec, err = p2.instant(`app_temperature{instance="`+hostOf(t1)+`"}`, at)
	if err != nil || len(vec) != 1 || vec[0].float(t) != 21.5 || vec[0].Value[0].(float64) != scrapedAt {
		t.Fatalf("after restart app_temperature at %s = %+v, %v", at, vec, err)
	}
}

// TestDefaultConfigScrapesItself: with no --config.file Argus scrapes its own
// /metrics as job "argus", which is what `make run` shows a new user.
func TestDefaultConfigScrapesItself(t *testing.T) {
	p := startArgus(t, "--storage.tsdb.path="+filepath.Join(t.TempDir(), "data"))
	// The default interval is 15s and the first scrape is offset within it.
	eventually(t, 20*time.Second, "self-scrape", func() error {
		vec, err := p.instant(`up{job="argus"}`, "")
		if err != nil {
			return err
		}
		if len(vec) != 1 || vec[0].float(t) != 1 {
			return fmt.Errorf("up{job=\"argus\"} = %+v", vec)
		}
		return nil
	})
}

func TestRequestIDHeader(t *testing.T) {
	p := startArgus(t, "--storage.tsdb.path="+filepath.Join(t.TempDir(), "data"), "--log.level=debug", "--log.format=json")
	req, _ := http.NewRequest(http.MethodGet, "http://"+p.addr+"/api/v1/query?query=1", nil)
	req.Header.Set("X-Request-Id", "e2e-req-42")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got != "e2e-req-42" {
		t.Errorf("X-Request-Id = %q, want the client's id echoed", got)
	}
	resp, err = http.Get("http://" + p.addr + "/api/v1/query?query=2")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if id := resp.Header.Get("X-Request-Id"); len(id) != 16 {
		t.Errorf("generated X-Request-Id = %q, want 16 hex digits", id)
	}
	eventually(t, 2*time.Second, "request id in the log", func() error {
		if !strings.Contains(p.log.String(), `"request_id":"e2e-req-42"`) {
			return fmt.Errorf("no log line carries the request id")
		}
		return nil
	})
}

func TestLifecycleEndpoints(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "argus.yml")
	writeConfig(t, cfgPath, scrapeConfig())
	p := startArgus(t, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(t.TempDir(), "data"))
	for _, path := range []string{"/-/reload", "/-/quit"} {
		resp, err := http.Post("http://"+p.addr+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST %s without --web.enable-lifecycle: %d, want 403", path, resp.StatusCode)
		}
	}
	resp, err := http.Get("http://" + p.addr + "/-/healthy")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/-/healthy: %v %v", resp, err)
	}
	resp.Body.Close()

	p2 := startArgus(t, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(t.TempDir(), "data"), "--web.enable-lifecycle")
	writeConfig(t, cfgPath, "global:\n  scrape_timeout: 1m\n  scrape_interval: 10s\n")
	resp, err = http.Post("http://"+p2.addr+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), "argus.yml:2: global scrape timeout greater than scrape interval") {
		t.Errorf("POST /-/reload with a bad file: %d %q", resp.StatusCode, body)
	}
	resp, err = http.Post("http://"+p2.addr+"/-/quit", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code := p2.waitExit(15 * time.Second); code != 0 {
		t.Fatalf("exit code after /-/quit = %d", code)
	}
}

// apiGet fetches an API endpoint of the running server and decodes the data
// of a successful answer into v.
func (p *argusProc) apiGet(path string, header http.Header, v any) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+p.addr+path, nil)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var env struct {
		Status string          `json:"status"`
		Data   json.RawMessage `json:"data"`
		Error  string          `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&env); err != nil {
		return resp, fmt.Errorf("GET %s: %d, decode: %w", path, resp.StatusCode, err)
	}
	if env.Status != "success" {
		return resp, fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, env.Error)
	}
	return resp, json.Unmarshal(env.Data, v)
}

// TestHTTPAPIEndToEnd checks the wiring of the metadata, status and target
// endpoints in the real binary: flags, running config, scrape manager, CORS.
func TestHTTPAPIEndToEnd(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "argus.yml")
	target := metricsTarget(t, "app_temperature{room=\"a\"} 21.5\n")
	writeConfig(t, cfgPath, scrapeConfig(hostOf(target)))
	p := startArgus(t, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.cors.origin=https://grafana\\.example\\.com", "--storage.tsdb.retention.time=3d")

	var targets struct {
		ActiveTargets []struct {
			ScrapePool string            `json:"scrapePool"`
			ScrapeURL  string            `json:"scrapeUrl"`
			Health     string            `json:"health"`
			Labels     map[string]string `json:"labels"`
			LastScrape time.Time         `json:"lastScrape"`
		} `json:"activeTargets"`
		DroppedTargets []any `json:"droppedTargets"`
	}
	eventually(t, 2*scrapeInterval+500*time.Millisecond, "target scraped and listed", func() error {
		if _, err := p.apiGet("/api/v1/targets", nil, &targets); err != nil {
			return err
		}
		if len(targets.ActiveTargets) != 1 || targets.ActiveTargets[0].Health != "up" {
			return fmt.Errorf("targets = %+v", targets)
		}
		return nil
	})
	at := targets.ActiveTargets[0]
	if at.ScrapePool != "app" || at.ScrapeURL != target.URL+"/metrics" || at.Labels["instance"] != hostOf(target) || at.LastScrape.IsZero() {
		t.Errorf("active target = %+v", at)
	}

	var series []map[string]string
	if _, err := p.apiGet("/api/v1/series?match[]=app_temperature", nil, &series); err != nil || len(series) != 1 || series[0]["room"] != "a" {
		t.Errorf("series = %v, %v", series, err)
	}
	var values []string
	if _, err := p.apiGet("/api/v1/label/job/values", nil, &values); err != nil || len(values) != 1 || values[0] != "app" {
		t.Errorf("job values = %v, %v", values, err)
	}
	var flags map[string]string
	if _, err := p.apiGet("/api/v1/status/flags", nil, &flags); err != nil ||
		flags["web.cors.origin"] != `https://grafana\.example\.com` || flags["config.file"] != cfgPath || flags["web.enable-lifecycle"] != "false" {
		t.Errorf("flags = %v, %v", flags, err)
	}
	var cfg struct{ YAML string }
	if _, err := p.apiGet("/api/v1/status/config", nil, &cfg); err != nil || !strings.Contains(cfg.YAML, "job_name: app") {
		t.Errorf("config = %q, %v", cfg.YAML, err)
	}
	var rt struct {
		ReloadConfigSuccess bool   `json:"reloadConfigSuccess"`
		StorageRetention    string `json:"storageRetention"`
	}
	if _, err := p.apiGet("/api/v1/status/runtimeinfo", nil, &rt); err != nil || !rt.ReloadConfigSuccess || rt.StorageRetention != "3d" {
		t.Errorf("runtimeinfo = %+v, %v", rt, err)
	}
	var bi struct{ Version string }
	resp, err := p.apiGet("/api/v1/status/buildinfo", http.Header{"Origin": {"https://grafana.example.com"}}, &bi)
	if err != nil || bi.Version == "" {
		t.Errorf("buildinfo = %+v, %v", bi, err)
	} else if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "https://grafana.example.com" {
		t.Errorf("Access-Control-Allow-Origin = %q for an allowed origin", got)
	}
	resp, err = p.apiGet("/api/v1/status/buildinfo", http.Header{"Origin": {"https://evil.example"}}, &bi)
	if err != nil || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS for a refused origin: %v, %q", err, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

func TestBadCORSOriginFlag(t *testing.T) {
	cmd := exec.Command(argusBinary, "--web.cors.origin=(", "--web.listen-address="+freeAddr(t))
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(string(out), "web.cors.origin") {
		t.Errorf("exit %d (%v), output %s; want 2 naming the flag", code, err, out)
	}
}
