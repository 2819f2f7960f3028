package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// alertmanagerVersion is the real Alertmanager the alerting test talks to.
// v0.32 and later cannot be installed with go install (their UI assets are
// not in the module).
const alertmanagerVersion = "v0.31.1"

// installAlertmanager builds the pinned Alertmanager into a temporary
// directory; the Go build cache makes repeated runs quick.
func installAlertmanager(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	cmd := exec.Command("go", "install", "github.com/prometheus/alertmanager/cmd/alertmanager@"+alertmanagerVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install alertmanager@%s: %v\n%s", alertmanagerVersion, err, out)
	}
	return filepath.Join(bin, "alertmanager")
}

type alertmanagerProc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func startAlertmanager(t *testing.T, bin, dir, addr string) *alertmanagerProc {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "alertmanager.yml")
	writeConfig(t, cfg, "route:\n  receiver: blackhole\n  group_wait: 1s\nreceivers:\n  - name: blackhole\n")
	log := &lockedBuffer{}
	am := &alertmanagerProc{done: make(chan struct{})}
	am.cmd = exec.Command(bin, "--config.file="+cfg, "--storage.path="+filepath.Join(dir, "am-data"),
		"--web.listen-address="+addr, "--cluster.listen-address=")
	am.cmd.Stdout, am.cmd.Stderr = log, log
	if err := am.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = am.cmd.Wait(); close(am.done) }()
	t.Cleanup(func() {
		am.stop()
		if t.Failed() {
			t.Logf("alertmanager log:\n%s", log.String())
		}
	})
	eventually(t, 30*time.Second, "alertmanager ready", func() error {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	return am
}

func (am *alertmanagerProc) stop() {
	select {
	case <-am.done:
	default:
		_ = am.cmd.Process.Kill()
		<-am.done
	}
}

type amAlert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Status      struct {
		State string `json:"state"`
	} `json:"status"`
}

// activeAlerts lists Alertmanager's active alerts by alertname.
func activeAlerts(addr string) (map[string]amAlert, error) {
	resp, err := http.Get("http://" + addr + "/api/v2/alerts?active=true&silenced=false&inhibited=false")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var alerts []amAlert
	if err := json.Unmarshal(body, &alerts); err != nil {
		return nil, fmt.Errorf("decode %s: %w", body, err)
	}
	m := map[string]amAlert{}
	for _, a := range alerts {
		m[a.Labels["alertname"]] = a
	}
	return m, nil
}

// TestAlertmanagerEndToEnd: an alert fires in Argus and shows up in a real
// Alertmanager with its labels and annotations, then resolves; while
// Alertmanager is down, alerts wait in the queue and arrive once it is back.
func TestAlertmanagerEndToEnd(t *testing.T) {
	amBin := installAlertmanager(t)
	dir := t.TempDir()
	amAddr := freeAddr(t)
	am := startAlertmanager(t, amBin, dir, amAddr)

	var value atomic.Int64 // the target's app_healthy value
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "app_healthy %d\n", value.Load())
	}))
	t.Cleanup(target.Close)
	value.Store(0)

	writeConfig(t, filepath.Join(dir, "rules.yml"), `groups:
  - name: app
    rules:
      - alert: AppUnhealthy
        expr: app_healthy == 0
        labels: {severity: page}
        annotations:
          summary: '{{ $labels.instance }} is unhealthy (value {{ $value }})'
      - alert: AppVeryUnhealthy
        expr: app_healthy < 0
`)
	cfg := filepath.Join(dir, "argus.yml")
	writeConfig(t, cfg, fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
  external_labels: {cluster: e2e}
rule_files: ['rules.yml']
alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
scrape_configs:
  - job_name: app
    static_configs:
      - targets: [%q]
`, amAddr, hostOf(target)))
	p := startArgus(t, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"), "--rules.alert.resend-delay=1s")
	resp, err := http.Get("http://" + p.addr + "/api/v1/alertmanagers")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := `{"activeAlertmanagers":[{"url":"http://` + amAddr + `/api/v2/alerts"}]`; !strings.Contains(string(body), want) {
		t.Errorf("/api/v1/alertmanagers = %s, want it to contain %s", body, want)
	}

	eventually(t, 20*time.Second, "alert in Alertmanager", func() error {
		alerts, err := activeAlerts(amAddr)
		if err != nil {
			return err
		}
		a, ok := alerts["AppUnhealthy"]
		if !ok {
			return fmt.Errorf("alerts %v", alerts)
		}
		want := map[string]string{"severity": "page", "cluster": "e2e", "job": "app", "instance": hostOf(target)}
		for k, v := range want {
			if a.Labels[k] != v {
				return fmt.Errorf("label %s = %q, want %q (labels %v)", k, a.Labels[k], v, a.Labels)
			}
		}
		if got, want := a.Annotations["summary"], hostOf(target)+" is unhealthy (value 0)"; got != want {
			return fmt.Errorf("summary %q, want %q", got, want)
		}
		return nil
	})

	value.Store(1)
	eventually(t, 20*time.Second, "alert resolved in Alertmanager", func() error {
		alerts, err := activeAlerts(amAddr)
		if err != nil {
			return err
		}
		if _, ok := alerts["AppUnhealthy"]; ok {
			return fmt.Errorf("still active: %v", alerts)
		}
		return nil
	})

	// Alertmanager goes away; an alert fires meanwhile and must be delivered
	// once it is back on the same address.
	am.stop()
	value.Store(-1)
	time.Sleep(4 * time.Second)
	startAlertmanager(t, amBin, filepath.Join(dir, "second"), amAddr)
	eventually(t, 30*time.Second, "alert queued during the outage delivered", func() error {
		alerts, err := activeAlerts(amAddr)
		if err != nil {
			return err
		}
		if _, ok := alerts["AppVeryUnhealthy"]; !ok {
			return fmt.Errorf("alerts %v", alerts)
		}
		return nil
	})
}
