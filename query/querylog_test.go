package query_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/argusmon/argus/internal/logging"
	"github.com/argusmon/argus/query"
)

// readLog returns the query log's lines, each decoded as JSON.
func readLog(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("query log line %q is not JSON: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func TestQueryLogFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "query.log")
	ql, err := query.NewFileQueryLogger(path)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	eng := query.NewEngine(query.EngineOpts{Registerer: reg, QueryLogger: ql})
	st := loadStorage(t, 2, 10)

	// An API range query, carrying the request and its id.
	ctx := query.WithHTTPRequest(context.Background(), query.HTTPRequest{ClientIP: "127.0.0.1", Method: "GET", Path: "/api/v1/query_range"})
	ctx = logging.WithRequestID(ctx, "req-42")
	q, err := eng.NewRangeQuery(ctx, st, "rate(metric[1m])", time.UnixMilli(60_000), time.UnixMilli(300_000), 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res := q.Exec(ctx); res.Err != nil {
		t.Fatal(res.Err)
	}
	// A failing instant query from a caller without a request (a rule).
	q, err = eng.NewInstantQuery(context.Background(), st, `label_replace(metric, "i", "same", "i", ".*")`, time.UnixMilli(300_000))
	if err != nil {
		t.Fatal(err)
	}
	if res := q.Exec(context.Background()); res.Err == nil {
		t.Fatal("expected a duplicate labelset error")
	}

	lines := readLog(t, path)
	if len(lines) != 2 {
		t.Fatalf("query log has %d lines, want 2", len(lines))
	}
	first := lines[0]
	wantParams := map[string]any{"end": "1970-01-01T00:05:00.000Z", "query": "rate(metric[1m])", "start": "1970-01-01T00:01:00.000Z", "step": float64(30)}
	if !reflect.DeepEqual(first["params"], wantParams) {
		t.Errorf("params = %v, want %v", first["params"], wantParams)
	}
	wantReq := map[string]any{"clientIP": "127.0.0.1", "method": "GET", "path": "/api/v1/query_range"}
	if !reflect.DeepEqual(first["httpRequest"], wantReq) {
		t.Errorf("httpRequest = %v, want %v", first["httpRequest"], wantReq)
	}
	if first["requestId"] != "req-42" {
		t.Errorf("requestId = %v", first["requestId"])
	}
	if _, err := time.Parse(time.RFC3339, first["ts"].(string)); err != nil {
		t.Errorf("ts %v: %v", first["ts"], err)
	}
	stats, _ := first["stats"].(map[string]any)
	timings, _ := stats["timings"].(map[string]any)
	samples, _ := stats["samples"].(map[string]any)
	if timings["execTotalTime"] == nil || samples["totalQueryableSamples"] != float64(2*9*6) {
		t.Errorf("stats = %v", stats)
	}
	if _, ok := first["error"]; ok {
		t.Errorf("successful query logged an error: %v", first["error"])
	}

	second := lines[1]
	if second["error"] != "vector cannot contain metrics with the same labelset" {
		t.Errorf("error = %v", second["error"])
	}
	for _, k := range []string{"httpRequest", "requestId"} {
		if _, ok := second[k]; ok {
			t.Errorf("query without a request logged %s: %v", k, keys(second))
		}
	}
	p := second["params"].(map[string]any)
	if p["start"] != p["end"] || p["step"] != float64(0) {
		t.Errorf("instant query params = %v", p)
	}
	if got := gaugeValue(t, reg, "argus_engine_query_log_enabled"); got != 1 {
		t.Errorf("argus_engine_query_log_enabled = %v, want 1", got)
	}

	// A reload to another file closes the first; turning the log off
	// stops logging.
	path2 := filepath.Join(dir, "query2.log")
	ql2, err := query.NewFileQueryLogger(path2)
	if err != nil {
		t.Fatal(err)
	}
	eng.SetQueryLogger(ql2)
	if err := ql.Log(context.Background(), query.QueryLogEntry{}); !errors.Is(err, os.ErrClosed) {
		t.Errorf("old logger still writes after the switch: err = %v", err)
	}
	run := func() {
		q, err := eng.NewInstantQuery(context.Background(), st, "metric", time.UnixMilli(300_000))
		if err != nil {
			t.Fatal(err)
		}
		q.Exec(context.Background())
	}
	run()
	eng.SetQueryLogger(nil)
	run()
	if n := len(readLog(t, path2)); n != 1 {
		t.Errorf("second log has %d lines, want 1", n)
	}
	if n := len(readLog(t, path)); n != 2 {
		t.Errorf("first log has %d lines after the switch, want 2", n)
	}
	if got := gaugeValue(t, reg, "argus_engine_query_log_enabled"); got != 0 {
		t.Errorf("argus_engine_query_log_enabled = %v after turning the log off, want 0", got)
	}
}

func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

// failingLogger fails every write.
type failingLogger struct{ closed bool }

func (*failingLogger) Log(context.Context, query.QueryLogEntry) error { return errors.New("disk full") }
func (l *failingLogger) Close() error                                 { l.closed = true; return nil }

// A query log that cannot be written never fails the query; it is counted.
func TestQueryLogFailure(t *testing.T) {
	reg := prometheus.NewRegistry()
	fl := &failingLogger{}
	eng := query.NewEngine(query.EngineOpts{Registerer: reg, QueryLogger: fl})
	st := loadStorage(t, 1, 5)
	q, err := eng.NewInstantQuery(context.Background(), st, "metric", time.UnixMilli(60_000))
	if err != nil {
		t.Fatal(err)
	}
	if res := q.Exec(context.Background()); res.Err != nil {
		t.Fatalf("query failed with the log: %v", res.Err)
	}
	if got := counterValue(t, reg, "argus_engine_query_log_failures_total"); got != 1 {
		t.Errorf("argus_engine_query_log_failures_total = %v, want 1", got)
	}
	if err := eng.Close(); err != nil || !fl.closed {
		t.Errorf("Engine.Close: err %v, logger closed %v", err, fl.closed)
	}
}

func TestQueryLogEntryJSON(t *testing.T) {
	e := query.QueryLogEntry{
		Query: "up", Start: time.UnixMilli(1_500), End: time.UnixMilli(1_500),
		Stats: &query.Stats{Samples: &query.SampleStats{}},
		Time:  time.UnixMilli(2_000),
	}
	b, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"params":{"end":"1970-01-01T00:00:01.500Z","query":"up","start":"1970-01-01T00:00:01.500Z","step":0},` +
		`"stats":{"timings":{"evalTotalTime":0,"resultSortTime":0,"queryPreparationTime":0,"innerEvalTime":0,"execQueueTime":0,"execTotalTime":0},` +
		`"samples":{"totalQueryableSamples":0,"samplesRead":0,"seriesTouched":0,"peakSamples":0}},"ts":"1970-01-01T00:00:02.000Z"}`
	if string(b) != want {
		t.Errorf("entry JSON\n got %s\nwant %s", b, want)
	}
	if strings.Contains(string(b), "\n") {
		t.Error("entry JSON spans lines")
	}
}
