package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
)

// postWrite sends one Remote-Write 1.0 request and reports whether Argus
// acknowledged it (204).
func postWrite(addr string, req *prompb.WriteRequest) (bool, error) {
	raw, err := req.Marshal()
	if err != nil {
		return false, err
	}
	hreq, err := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/write", bytes.NewReader(snappy.Encode(nil, raw)))
	if err != nil {
		return false, err
	}
	hreq.Header.Set("Content-Type", "application/x-protobuf")
	hreq.Header.Set("Content-Encoding", "snappy")
	hreq.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	resp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusNoContent, nil
}

// TestAcknowledgedSamplesSurviveSIGKILL writes through the real binary until
// it is killed with SIGKILL mid-stream, restarts it on the same directory and
// finds every sample whose request was acknowledged.
func TestAcknowledgedSamplesSurviveSIGKILL(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	p := startArgus(t, "--storage.tsdb.path="+dataDir, "--web.enable-remote-write-receiver")

	const seriesPerRequest = 50
	base := time.Now().Add(-10 * time.Minute).UnixMilli()
	var acked atomic.Int64 // requests acknowledged, in order
	done := make(chan error, 1)
	go func() {
		for k := int64(0); ; k++ {
			req := &prompb.WriteRequest{}
			for i := range seriesPerRequest {
				req.Timeseries = append(req.Timeseries, prompb.TimeSeries{
					Labels:  []prompb.Label{{Name: "__name__", Value: "crash_test"}, {Name: "i", Value: strconv.Itoa(i)}},
					Samples: []prompb.Sample{{Timestamp: base + k*100, Value: float64(k)}},
				})
			}
			ok, err := postWrite(p.addr, req)
			if err != nil || !ok {
				done <- err // The kill lands here: a refused or cut connection.
				return
			}
			acked.Store(k + 1)
		}
	}()
	// Kill once a few hundred requests are through, while writes go on.
	eventually(t, 20*time.Second, "writes acknowledged", func() error {
		if n := acked.Load(); n < 300 {
			return fmt.Errorf("%d acknowledged", n)
		}
		return nil
	})
	p.signal(syscall.SIGKILL)
	p.waitExit(10 * time.Second)
	<-done
	n := acked.Load()

	p2 := startArgus(t, "--storage.tsdb.path="+dataDir)
	// Every series holds each acknowledged sample; the one request in flight
	// at the kill may or may not have been committed.
	vec, err := p2.instant(fmt.Sprintf(`count_over_time(crash_test[%dms])`, time.Now().UnixMilli()-base+1000), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(vec) != seriesPerRequest {
		t.Fatalf("%d series after restart, want %d", len(vec), seriesPerRequest)
	}
	for _, s := range vec {
		if got := int64(s.float(t)); got < n || got > n+1 {
			t.Errorf("series i=%s has %d samples after SIGKILL and restart; %d were acknowledged", s.Metric["i"], got, n)
		}
	}
	// The replay is reported done: current is the last segment.
	resp, err := http.Get("http://" + p2.addr + "/api/v1/status/walreplay")
	if err != nil {
		t.Fatal(err)
	}
	var wr struct {
		Data struct{ Min, Max, Current int } `json:"data"`
	}
	err = json.NewDecoder(resp.Body).Decode(&wr)
	resp.Body.Close()
	if err != nil || wr.Data.Current != wr.Data.Max || wr.Data.Min > wr.Data.Max {
		t.Errorf("walreplay after start-up = %+v, %v; want current == max", wr.Data, err)
	}
	t.Logf("%d requests of %d samples acknowledged before SIGKILL, all found after restart", n, seriesPerRequest)
}
