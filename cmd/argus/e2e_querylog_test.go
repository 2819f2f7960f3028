package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestQueryLog: global.query_log_file gets one JSON line per query, in
// Prometheus's shape plus the request id.
func TestQueryLog(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "queries.log")
	cfg := filepath.Join(dir, "argus.yml")
	writeConfig(t, cfg, "global:\n  query_log_file: queries.log\n")
	p := startArgus(t, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"))

	req, _ := http.NewRequest(http.MethodGet, "http://"+p.addr+"/api/v1/query?query=vector(1)&time=100", nil)
	req.Header.Set("X-Request-Id", "qlog-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	eventually(t, 3*time.Second, "query logged", func() error {
		b, err := os.ReadFile(logFile)
		if err != nil {
			return err
		}
		line, _, _ := strings.Cut(string(b), "\n")
		var entry struct {
			Params struct {
				Query string `json:"query"`
				Start string `json:"start"`
			} `json:"params"`
			RequestID   string `json:"requestId"`
			HTTPRequest struct {
				Path string `json:"path"`
			} `json:"httpRequest"`
			Stats map[string]any `json:"stats"`
		}
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			return fmt.Errorf("%q: %w", line, err)
		}
		if entry.Params.Query != "vector(1)" || entry.RequestID != "qlog-1" || entry.HTTPRequest.Path != "/api/v1/query" || entry.Stats == nil {
			return fmt.Errorf("unexpected entry %s", line)
		}
		return nil
	})
}
