package web

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"github.com/argusmon/argus/query"
	"github.com/argusmon/argus/tsdb"
)

// newTestHandler serves the API over a real database and engine, holding
// up{job="a",instance="x"} = 1 and up{job="b",instance="y"} = 0 every 10s
// from 0s to 100s.
func newTestHandler(t testing.TB, o Options) (*Handler, *tsdb.DB) {
	t.Helper()
	db, err := tsdb.Open(t.TempDir(), &tsdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	app := db.Appender(context.Background())
	for ts := int64(0); ts <= 100_000; ts += 10_000 {
		if _, err := app.Append(0, labels.FromStrings("__name__", "up", "job", "a", "instance", "x"), ts, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := app.Append(0, labels.FromStrings("__name__", "up", "job", "b", "instance", "y"), ts, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	o.Storage = db
	o.TSDBStats = db.Stats
	o.QueryEngine = query.NewEngine(query.EngineOpts{MaxSamples: 1000, Timeout: time.Minute, MaxConcurrent: 2, EnablePerStepStats: true})
	h := New(o)
	h.SetReady(true)
	return h, db
}

func do(h http.Handler, method, target string, body io.Reader, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, body)
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestQueryAPIResponses(t *testing.T) {
	h, _ := newTestHandler(t, Options{})
	for _, tc := range []struct {
		name   string
		method string
		target string
		form   url.Values
		code   int
		body   string
	}{
		{
			name: "instant vector", method: "GET", target: "/api/v1/query?query=up&time=95.5", code: 200,
			body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","instance":"x","job":"a"},"value":[95.500,"1"]},{"metric":{"__name__":"up","instance":"y","job":"b"},"value":[95.500,"0"]}]}}`,
		},
		{
			name: "instant vector, POST form", method: "POST", target: "/api/v1/query",
			form: url.Values{"query": {`up{job="a"} * 2`}, "time": {"1970-01-01T00:01:00Z"}}, code: 200,
			body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"instance":"x","job":"a"},"value":[60,"2"]}]}}`,
		},
		{
			name: "empty vector", method: "GET", target: "/api/v1/query?query=nothing_here&time=50", code: 200,
			body: `{"status":"success","data":{"resultType":"vector","result":[]}}`,
		},
		{
			name: "scalar", method: "GET", target: "/api/v1/query?query=1%2B1&time=50", code: 200,
			body: `{"status":"success","data":{"resultType":"scalar","result":[50,"2"]}}`,
		},
		{
			name: "string", method: "GET", target: "/api/v1/query?query=%22hi%22&time=50", code: 200,
			body: `{"status":"success","data":{"resultType":"string","result":[50,"hi"]}}`,
		},
		{
			name: "range selector in an instant query", method: "GET", target: `/api/v1/query?query=up{job="a"}[20s]&time=100`, code: 200,
			body: `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up","instance":"x","job":"a"},"values":[[90,"1"],[100,"1"]]}]}}`,
		},
		{
			name: "range query", method: "GET", target: `/api/v1/query_range?query=up{job="b"}&start=80&end=100&step=10s`, code: 200,
			body: `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"up","instance":"y","job":"b"},"values":[[80,"0"],[90,"0"],[100,"0"]]}]}}`,
		},
		{
			name: "range query, sum by and rate", method: "POST", target: "/api/v1/query_range",
			form: url.Values{"query": {"sum by (job) (rate(up[30s]))"}, "start": {"60"}, "end": {"60"}, "step": {"15"}}, code: 200,
			body: `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"job":"a"},"values":[[60,"0"]]},{"metric":{"job":"b"},"values":[[60,"0"]]}]},"infos":["PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"up\" (1:20)"]}`,
		},
		{
			name: "limit cuts the vector with a warning", method: "GET", target: "/api/v1/query?query=up&time=50&limit=1", code: 200,
			body: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","instance":"x","job":"a"},"value":[50,"1"]}]},"warnings":["results truncated due to limit"]}`,
		},
		{
			name: "lookback_delta shorter than the gap to the last sample", method: "GET", target: "/api/v1/query?query=up&time=130&lookback_delta=20s", code: 200,
			body: `{"status":"success","data":{"resultType":"vector","result":[]}}`,
		},
		{
			name: "bad limit", method: "GET", target: "/api/v1/query?query=up&time=50&limit=-1", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"invalid parameter \"limit\": limit must be non-negative"}`,
		},
		{
			name: "bad lookback_delta", method: "GET", target: "/api/v1/query?query=up&time=50&lookback_delta=soon", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"invalid parameter \"lookback_delta\": cannot parse \"soon\" to a valid duration"}`,
		},
		{
			name: "bad time", method: "GET", target: "/api/v1/query?query=up&time=yesterday", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"invalid parameter \"time\": cannot parse \"yesterday\" to a valid timestamp"}`,
		},
		{
			name: "parse error", method: "GET", target: "/api/v1/query?query=sum(", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"}`,
		},
		{
			name: "missing start", method: "GET", target: "/api/v1/query_range?query=up&end=10&step=1", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"invalid parameter \"start\": cannot parse \"\" to a valid timestamp"}`,
		},
		{
			name: "end before start", method: "GET", target: "/api/v1/query_range?query=up&start=10&end=5&step=1", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"invalid parameter \"end\": end timestamp must not be before start time"}`,
		},
		{
			name: "zero step", method: "GET", target: "/api/v1/query_range?query=up&start=0&end=5&step=0", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"invalid parameter \"step\": zero or negative query resolution step widths are not accepted. Try a positive integer"}`,
		},
		{
			name: "too many points", method: "GET", target: "/api/v1/query_range?query=up&start=0&end=11001&step=1", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)"}`,
		},
		{
			name: "execution error", method: "GET", target: "/api/v1/query?query=up%2Bon()%20up&time=50", code: 422,
			body: `{"status":"error","errorType":"execution","error":"found duplicate series for the match group {} on the right hand-side of the operation: [{__name__=\"up\", instance=\"x\", job=\"a\"}, {__name__=\"up\", instance=\"y\", job=\"b\"}];many-to-many matching not allowed: matching labels must be unique on one side"}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			header := http.Header{}
			if tc.form != nil {
				body = strings.NewReader(tc.form.Encode())
				header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			rec := do(h, tc.method, tc.target, body, header)
			if rec.Code != tc.code || rec.Body.String() != tc.body {
				t.Errorf("got %d %s\nwant %d %s", rec.Code, rec.Body.String(), tc.code, tc.body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

func TestNotReady(t *testing.T) {
	h, _ := newTestHandler(t, Options{})
	h.SetReady(false)
	for _, path := range []string{"/-/ready", "/api/v1/query?query=1"} {
		if rec := do(h, "GET", path, nil, nil); rec.Code != http.StatusServiceUnavailable {
			t.Errorf("GET %s before ready: %d, want 503", path, rec.Code)
		}
	}
	if rec := do(h, "GET", "/-/healthy", nil, nil); rec.Code != http.StatusOK {
		t.Errorf("GET /-/healthy before ready: %d, want 200", rec.Code)
	}
}

func TestGzip(t *testing.T) {
	h, _ := newTestHandler(t, Options{})
	rec := do(h, "GET", "/api/v1/query?query=up&time=50", nil, http.Header{"Accept-Encoding": {"gzip, deflate"}})
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding = %q", rec.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil || !strings.HasPrefix(string(b), `{"status":"success"`) {
		t.Fatalf("gunzipped body %q, %v", b, err)
	}
}

func writeRequest(t *testing.T, series ...prompb.TimeSeries) io.Reader {
	t.Helper()
	raw, err := (&prompb.WriteRequest{Timeseries: series}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReader(string(snappy.Encode(nil, raw)))
}

func ts(name string, extra []prompb.Label, samples ...prompb.Sample) prompb.TimeSeries {
	return prompb.TimeSeries{Labels: append([]prompb.Label{{Name: "__name__", Value: name}}, extra...), Samples: samples}
}

func TestRemoteWrite(t *testing.T) {
	h, _ := newTestHandler(t, Options{EnableRemoteWriteReceiver: true})
	rwHeader := http.Header{"Content-Type": {"application/x-protobuf"}, "Content-Encoding": {"snappy"}}
	count := func(q string) string {
		rec := do(h, "GET", "/api/v1/query?time=1000&query="+url.QueryEscape(q), nil, nil)
		return rec.Body.String()
	}

	good := writeRequest(t, ts("rw_metric", []prompb.Label{{Name: "a", Value: "1"}}, prompb.Sample{Timestamp: 999_000, Value: 4}))
	if rec := do(h, "POST", "/api/v1/write", good, rwHeader); rec.Code != http.StatusNoContent {
		t.Fatalf("valid write: %d %s", rec.Code, rec.Body.String())
	}
	if got := count("rw_metric"); !strings.Contains(got, `"value":[1000,"4"]`) {
		t.Fatalf("written sample not queryable: %s", got)
	}

	for _, tc := range []struct {
		name string
		body io.Reader
		want string
	}{
		{"bad snappy", strings.NewReader("not snappy at all"), "decode snappy body"},
		{"bad protobuf", strings.NewReader(string(snappy.Encode(nil, []byte{0xff, 0xff, 0xff}))), "decode protobuf prometheus.WriteRequest"},
		{"unsorted labels", writeRequest(t,
			ts("rw_bad", nil, prompb.Sample{Timestamp: 999_000, Value: 1}),
			prompb.TimeSeries{Labels: []prompb.Label{{Name: "z", Value: "1"}, {Name: "__name__", Value: "rw_bad"}}, Samples: []prompb.Sample{{Timestamp: 999_000, Value: 1}}},
		), "not sorted"},
		{"duplicate labels", writeRequest(t,
			ts("rw_bad", nil, prompb.Sample{Timestamp: 999_000, Value: 1}),
			ts("rw_bad", []prompb.Label{{Name: "a", Value: "1"}, {Name: "a", Value: "2"}}, prompb.Sample{Timestamp: 999_000, Value: 1}),
		), "duplicate label name"},
		{"out of order", writeRequest(t,
			ts("rw_bad", nil, prompb.Sample{Timestamp: 999_000, Value: 1}),
			ts("rw_metric", []prompb.Label{{Name: "a", Value: "1"}}, prompb.Sample{Timestamp: 1_000, Value: 1}),
		), "out of order sample"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(h, "POST", "/api/v1/write", tc.body, rwHeader)
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), tc.want) {
				t.Errorf("got %d %q, want 400 with %q", rec.Code, rec.Body.String(), tc.want)
			}
			// All or nothing: the valid series in the same request is not there.
			if got := count("rw_bad"); !strings.Contains(got, `"result":[]`) {
				t.Errorf("a rejected request committed data: %s", got)
			}
		})
	}

	h2, _ := newTestHandler(t, Options{})
	if rec := do(h2, "POST", "/api/v1/write", writeRequest(t), rwHeader); rec.Code != http.StatusNotFound {
		t.Errorf("write without --web.enable-remote-write-receiver: %d, want 404", rec.Code)
	}
}

func TestStatusTSDB(t *testing.T) {
	h, _ := newTestHandler(t, Options{})
	rec := do(h, "GET", "/api/v1/status/tsdb?limit=2", nil, nil)
	want := `{"status":"success","data":{"headStats":{"numSeries":2,"numLabelPairs":5,"chunkCount":2,"minTime":0,"maxTime":100000},` +
		`"seriesCountByMetricName":[{"name":"up","value":2}],` +
		`"labelValueCountByLabelName":[{"name":"instance","value":2},{"name":"job","value":2}],` +
		// Bytes of each value times the series holding it, as Prometheus counts.
		`"memoryInBytesByLabelName":[{"name":"__name__","value":4},{"name":"instance","value":2}],` +
		`"seriesCountByLabelValuePair":[{"name":"__name__=up","value":2},{"name":"instance=x","value":1}]}}`
	if rec.Code != http.StatusOK || rec.Body.String() != want {
		t.Errorf("got %d %s\nwant %s", rec.Code, rec.Body.String(), want)
	}
	rec = do(h, "GET", "/api/v1/status/tsdb?limit=0", nil, nil)
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "limit must be a positive number") {
		t.Errorf("limit=0: %d %s", rec.Code, rec.Body.String())
	}
}

// TestQueryStats: stats=all puts Prometheus's stats object, per-step counts
// included, into the data of the answer.
func TestQueryStats(t *testing.T) {
	h, _ := newTestHandler(t, Options{})
	rec := do(h, "GET", "/api/v1/query_range?query=up&start=80&end=100&step=10&stats=all", nil, nil)
	body := rec.Body.String()
	for _, want := range []string{`"stats":{"timings":{"evalTotalTime":`, `"samples":{`, `"totalQueryableSamplesPerStep":[[80,2],[90,2],[100,2]]`, `"totalQueryableSamples":6`} {
		if !strings.Contains(body, want) {
			t.Errorf("answer lacks %s: %s", want, body)
		}
	}
	rec = do(h, "GET", "/api/v1/query?query=up&time=100", nil, nil)
	if strings.Contains(rec.Body.String(), `"stats"`) {
		t.Errorf("stats without the stats parameter: %s", rec.Body.String())
	}
}
