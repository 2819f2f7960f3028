package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"
)

func post(t *testing.T, u string) (int, []byte) {
	t.Helper()
	resp, err := http.Post(u, "application/x-www-form-urlencoded", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// TestAdminAPI: delete_series hides the data, clean_tombstones succeeds,
// and a snapshot lands under the data directory; without the flag the admin
// endpoints are refused.
func TestAdminAPI(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	p := startArgus(t, "--storage.tsdb.path="+dataDir, "--web.enable-remote-write-receiver", "--web.enable-admin-api")
	now := time.Now().UnixMilli()
	req := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		{Labels: []prompb.Label{{Name: "__name__", Value: "admin_keep"}}, Samples: []prompb.Sample{{Timestamp: now, Value: 1}}},
		{Labels: []prompb.Label{{Name: "__name__", Value: "admin_drop"}}, Samples: []prompb.Sample{{Timestamp: now, Value: 2}}},
	}}
	if ok, err := postWrite(p.addr, req); err != nil || !ok {
		t.Fatalf("remote write: %v %v", ok, err)
	}
	base := "http://" + p.addr + "/api/v1/admin/tsdb/"
	if code, body := post(t, base+"delete_series?"+url.Values{"match[]": {"admin_drop"}}.Encode()); code != http.StatusNoContent {
		t.Fatalf("delete_series: %d %s", code, body)
	}
	if vec, err := p.instant(`admin_drop`, ""); err != nil || len(vec) != 0 {
		t.Errorf("admin_drop after delete_series = %+v, %v", vec, err)
	}
	if vec, err := p.instant(`admin_keep`, ""); err != nil || len(vec) != 1 {
		t.Errorf("admin_keep after deleting another series = %+v, %v", vec, err)
	}
	if code, body := post(t, base+"clean_tombstones"); code != http.StatusNoContent {
		t.Fatalf("clean_tombstones: %d %s", code, body)
	}
	code, body := post(t, base+"snapshot")
	var snap struct {
		Data struct {
			Name string `json:"name"`
		} `json:"data"`
	}
	if code != http.StatusOK || json.Unmarshal(body, &snap) != nil || snap.Data.Name == "" {
		t.Fatalf("snapshot: %d %s", code, body)
	}
	if _, err := os.Stat(filepath.Join(dataDir, "snapshots", snap.Data.Name)); err != nil {
		t.Errorf("snapshot directory: %v", err)
	}

	p2 := startArgus(t, "--storage.tsdb.path="+filepath.Join(t.TempDir(), "data"))
	if code, body := post(t, "http://"+p2.addr+"/api/v1/admin/tsdb/clean_tombstones"); code != http.StatusServiceUnavailable {
		t.Errorf("admin API without --web.enable-admin-api: %d %s, want 503", code, body)
	}
}
