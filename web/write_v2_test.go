package web

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/argusmon/argus/remote"
)

// v2Series is a 2.0 series before symbolization; raw refs, when set, replace
// the symbolized labels so tests can send what a broken sender would.
type v2Series struct {
	lset      labels.Labels
	rawRefs   []uint32
	samples   []writev2.Sample
	hists     []writev2.Histogram
	exemplars []writev2.Exemplar
	meta      writev2.Metadata
}

func writeRequestV2(t *testing.T, series ...v2Series) io.Reader {
	t.Helper()
	st := writev2.NewSymbolTable()
	req := writev2.Request{}
	for _, s := range series {
		refs := s.rawRefs
		if refs == nil {
			refs = st.SymbolizeLabels(s.lset, nil)
		}
		req.Timeseries = append(req.Timeseries, writev2.TimeSeries{
			LabelsRefs: refs, Samples: s.samples, Histograms: s.hists, Exemplars: s.exemplars, Metadata: s.meta,
		})
	}
	req.Symbols = st.Symbols()
	raw, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReader(string(snappy.Encode(nil, raw)))
}

func TestRemoteWriteV2(t *testing.T) {
	h, _ := newTestHandler(t, Options{EnableRemoteWriteReceiver: true})
	v2Header := http.Header{
		"Content-Type":                      {"application/x-protobuf;proto=io.prometheus.write.v2.Request"},
		"Content-Encoding":                  {"snappy"},
		"X-Prometheus-Remote-Write-Version": {"2.0.0"},
	}
	query := func(q string) string {
		return do(h, "GET", "/api/v1/query?time=1000&query="+url.QueryEscape(q), nil, nil).Body.String()
	}
	good := v2Series{
		lset:      labels.FromStrings("__name__", "rw2_metric", "job", "sender"),
		samples:   []writev2.Sample{{Timestamp: 998_000, Value: 3}, {Timestamp: 999_000, Value: 4}},
		exemplars: []writev2.Exemplar{{Value: 4, Timestamp: 999_000}},
		meta:      writev2.Metadata{Type: writev2.Metadata_METRIC_TYPE_GAUGE},
	}
	rec := do(h, "POST", "/api/v1/write", writeRequestV2(t, good, v2Series{
		lset: labels.FromStrings("__name__", "rw2_other"), samples: []writev2.Sample{{Timestamp: 999_500, Value: 7}},
	}), v2Header)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("valid 2.0 write: %d %s", rec.Code, rec.Body.String())
	}
	for hdr, want := range map[string]string{remote.HeaderSamplesWritten: "3", remote.HeaderHistogramsWritten: "0", remote.HeaderExemplarsWritten: "0"} {
		if got := rec.Header().Get(hdr); got != want {
			t.Errorf("%s = %q, want %q", hdr, got, want)
		}
	}
	if got := query("rw2_metric"); !strings.Contains(got, `{"metric":{"__name__":"rw2_metric","job":"sender"},"value":[1000,"4"]}`) {
		t.Fatalf("written 2.0 sample not queryable: %s", got)
	}
	if got := query("count_over_time(rw2_metric[5s])"); !strings.Contains(got, `"value":[1000,"2"]`) {
		t.Fatalf("both 2.0 samples not stored: %s", got)
	}

	valid := v2Series{lset: labels.FromStrings("__name__", "rw2_bad"), samples: []writev2.Sample{{Timestamp: 999_000, Value: 1}}}
	for _, tc := range []struct {
		name string
		body io.Reader
		want string
	}{
		{"bad snappy", strings.NewReader("not snappy at all"), "decode snappy body"},
		{"bad protobuf", strings.NewReader(string(snappy.Encode(nil, []byte{0xff, 0xff, 0xff}))), "decode protobuf io.prometheus.write.v2.Request"},
		{"missing labels", writeRequestV2(t, valid, v2Series{lset: labels.EmptyLabels(), samples: valid.samples}), "no metric name"},
		{"missing metric name", writeRequestV2(t, valid, v2Series{lset: labels.FromStrings("job", "x"), samples: valid.samples}), "no metric name"},
		{"out of range symbol ref", writeRequestV2(t, valid, v2Series{rawRefs: []uint32{1, 200}, samples: valid.samples}), "outside the symbols table"},
		{"odd label refs", writeRequestV2(t, valid, v2Series{rawRefs: []uint32{1, 2, 1}, samples: valid.samples}), "odd length"},
		// Symbols of the table after valid: 0 "", 1 __name__, 2 rw2_bad.
		{"unsorted labels", writeRequestV2(t, valid, v2Series{rawRefs: []uint32{2, 2, 1, 2}, samples: valid.samples}), "not sorted"},
		{"duplicate labels", writeRequestV2(t, valid, v2Series{rawRefs: []uint32{1, 2, 1, 2}, samples: valid.samples}), "duplicate label name"},
		{"histogram", writeRequestV2(t, valid, v2Series{lset: labels.FromStrings("__name__", "h"), hists: []writev2.Histogram{{Timestamp: 999_000}}}), "native histograms are not supported yet"},
		{"no samples", writeRequestV2(t, valid, v2Series{lset: labels.FromStrings("__name__", "empty")}), "no samples"},
		{"metadata ref out of range", writeRequestV2(t, valid, v2Series{lset: labels.FromStrings("__name__", "m"), samples: valid.samples, meta: writev2.Metadata{HelpRef: 99}}), "help_ref 99"},
		{"exemplar ref out of range", writeRequestV2(t, valid, v2Series{lset: labels.FromStrings("__name__", "m"), samples: valid.samples, exemplars: []writev2.Exemplar{{LabelsRefs: []uint32{50, 51}}}}), "exemplar 0"},
		{"out of order", writeRequestV2(t, valid, v2Series{lset: good.lset, samples: []writev2.Sample{{Timestamp: 1_000, Value: 1}}}), "out of order sample"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(h, "POST", "/api/v1/write", tc.body, v2Header)
			if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), tc.want) {
				t.Errorf("got %d %q, want 400 with %q", rec.Code, rec.Body.String(), tc.want)
			}
			if got := rec.Header().Get(remote.HeaderSamplesWritten); got != "0" {
				t.Errorf("%s = %q on a rejected request, want 0", remote.HeaderSamplesWritten, got)
			}
			// All or nothing: the valid series in the same request is not there.
			if got := query("rw2_bad"); !strings.Contains(got, `"result":[]`) {
				t.Errorf("a rejected request committed data: %s", got)
			}
		})
	}
}

func TestRemoteWriteUnsupportedMedia(t *testing.T) {
	h, _ := newTestHandler(t, Options{EnableRemoteWriteReceiver: true})
	body := writeRequest(t, ts("rw_media", nil, prompb.Sample{Timestamp: 999_000, Value: 1}))
	for _, tc := range []struct {
		name   string
		header http.Header
	}{
		{"unknown proto", http.Header{"Content-Type": {"application/x-protobuf;proto=io.prometheus.write.v3.Request"}, "Content-Encoding": {"snappy"}}},
		{"json", http.Header{"Content-Type": {"application/json"}}},
		{"zstd", http.Header{"Content-Type": {"application/x-protobuf;proto=io.prometheus.write.v2.Request"}, "Content-Encoding": {"zstd"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if rec := do(h, "POST", "/api/v1/write", body, tc.header); rec.Code != http.StatusUnsupportedMediaType {
				t.Errorf("got %d %q, want 415", rec.Code, rec.Body.String())
			}
		})
	}
	// 1.0 senders that name the message explicitly are accepted, and a 1.0
	// answer carries no 2.0 written-counts headers.
	rec := do(h, "POST", "/api/v1/write", writeRequest(t, ts("rw_media", nil, prompb.Sample{Timestamp: 999_000, Value: 1})),
		http.Header{"Content-Type": {"application/x-protobuf;proto=prometheus.WriteRequest"}, "Content-Encoding": {"snappy"}})
	if rec.Code != http.StatusNoContent || rec.Header().Get(remote.HeaderSamplesWritten) != "" {
		t.Errorf("1.0 write with proto parameter: %d %v", rec.Code, rec.Header())
	}
}

func TestRemoteWriteV1DropsNamelessSeries(t *testing.T) {
	h, _ := newTestHandler(t, Options{EnableRemoteWriteReceiver: true})
	body := writeRequest(t,
		ts("rw_named", nil, prompb.Sample{Timestamp: 999_000, Value: 1}),
		prompb.TimeSeries{Labels: []prompb.Label{{Name: "job", Value: "x"}}, Samples: []prompb.Sample{{Timestamp: 999_000, Value: 1}}},
	)
	rec := do(h, "POST", "/api/v1/write", body, http.Header{"Content-Type": {"application/x-protobuf"}, "Content-Encoding": {"snappy"}})
	if rec.Code != http.StatusNoContent {
		t.Fatalf("1.0 write with a nameless series: %d %s", rec.Code, rec.Body.String())
	}
	got := do(h, "GET", "/api/v1/query?time=1000&query="+url.QueryEscape(`{job="x"} or rw_named`), nil, nil).Body.String()
	if !strings.Contains(got, `"__name__":"rw_named"`) || strings.Contains(got, `"job":"x"`) {
		t.Errorf("want only the named series stored, got %s", got)
	}
}
