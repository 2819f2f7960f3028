package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
)

// TestFederationBetweenTwoServers: a second Argus scrapes the first's
// /federate with honor_labels and ends up with the first's series, labels
// intact.
func TestFederationBetweenTwoServers(t *testing.T) {
	dir := t.TempDir()
	target := metricsTarget(t, "fed_metric{kind=\"a\"} 7\n")
	leafCfg := filepath.Join(dir, "leaf.yml")
	writeConfig(t, leafCfg, fmt.Sprintf("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  external_labels: {region: eu}\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: [%q]\n", hostOf(target)))
	leaf := startArgus(t, "--config.file="+leafCfg, "--storage.tsdb.path="+filepath.Join(dir, "leaf"))
	eventually(t, 5*time.Second, "leaf scraped its target", func() error {
		vec, err := leaf.instant(`fed_metric`, "")
		if err != nil || len(vec) != 1 {
			return fmt.Errorf("%v %v", vec, err)
		}
		return nil
	})

	globalCfg := filepath.Join(dir, "global.yml")
	writeConfig(t, globalCfg, fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: federate
    honor_labels: true
    metrics_path: /federate
    params:
      'match[]': ['{job="app"}']
    static_configs:
      - targets: [%q]
`, leaf.addr))
	global := startArgus(t, "--config.file="+globalCfg, "--storage.tsdb.path="+filepath.Join(dir, "global"))
	eventually(t, 10*time.Second, "global server holds the federated series", func() error {
		vec, err := global.instant(`fed_metric`, "")
		if err != nil {
			return err
		}
		if len(vec) != 1 {
			return fmt.Errorf("fed_metric = %+v", vec)
		}
		m := vec[0].Metric
		// honor_labels keeps the leaf's job and instance; the leaf's
		// external labels come along.
		if m["job"] != "app" || m["instance"] != hostOf(target) || m["kind"] != "a" || m["region"] != "eu" || vec[0].float(t) != 7 {
			return fmt.Errorf("federated series %v = %v", m, vec[0].Value)
		}
		return nil
	})
}

// TestRemoteReadRoundTrip: what a remote-write client sends, a remote-read
// client gets back exactly, through the real binary.
func TestRemoteReadRoundTrip(t *testing.T) {
	p := startArgus(t, "--storage.tsdb.path="+filepath.Join(t.TempDir(), "data"), "--web.enable-remote-write-receiver")
	base := time.Now().Add(-time.Hour).UnixMilli()
	var want []prompb.TimeSeries
	for i := range 3 {
		ts := prompb.TimeSeries{Labels: []prompb.Label{{Name: "__name__", Value: "rr_metric"}, {Name: "i", Value: fmt.Sprint(i)}}}
		for k := range 50 {
			ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: base + int64(k)*15000, Value: float64(i*1000 + k)})
		}
		want = append(want, ts)
	}
	if ok, err := postWrite(p.addr, &prompb.WriteRequest{Timeseries: want}); err != nil || !ok {
		t.Fatalf("remote write: %v %v", ok, err)
	}

	readReq := &prompb.ReadRequest{Queries: []*prompb.Query{{
		StartTimestampMs: base,
		EndTimestampMs:   base + 49*15000,
		Matchers:         []*prompb.LabelMatcher{{Type: prompb.LabelMatcher_EQ, Name: "__name__", Value: "rr_metric"}},
	}}}
	raw, err := readReq.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+p.addr+"/api/v1/read", bytes.NewReader(snappy.Encode(nil, raw)))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Read-Version", "0.1.0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("remote read: %d %s", resp.StatusCode, body)
	}
	decoded, err := snappy.Decode(nil, body)
	if err != nil {
		t.Fatal(err)
	}
	var rr prompb.ReadResponse
	if err := rr.Unmarshal(decoded); err != nil {
		t.Fatal(err)
	}
	if len(rr.Results) != 1 {
		t.Fatalf("%d results, want 1", len(rr.Results))
	}
	got := rr.Results[0].Timeseries
	if len(got) != len(want) {
		t.Fatalf("%d series read back, want %d", len(got), len(want))
	}
	for i := range want {
		if a, b := fmt.Sprint(got[i].Labels), fmt.Sprint(want[i].Labels); a != b {
			t.Errorf("series %d labels %s, want %s", i, a, b)
		}
		if a, b := fmt.Sprint(got[i].Samples), fmt.Sprint(want[i].Samples); a != b {
			t.Errorf("series %d samples differ:\n got %s\nwant %s", i, trim(a), trim(b))
		}
	}
}

func trim(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return strings.TrimSpace(s)
}
