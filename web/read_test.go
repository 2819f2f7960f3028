package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"github.com/argusmon/argus/remote"
	"github.com/argusmon/argus/tsdb/chunkenc"
)

func readRequest(t *testing.T, types []prompb.ReadRequest_ResponseType, queries ...*prompb.Query) io.Reader {
	t.Helper()
	raw, err := (&prompb.ReadRequest{Queries: queries, AcceptedResponseTypes: types}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(snappy.Encode(nil, raw))
}

func upQuery(start, end int64, ms ...*labels.Matcher) *prompb.Query {
	ms = append([]*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "__name__", "up")}, ms...)
	return &prompb.Query{StartTimestampMs: start, EndTimestampMs: end, Matchers: remote.ToLabelMatchers(ms)}
}

func TestRemoteReadSamples(t *testing.T) {
	h, _ := newTestHandler(t, Options{ExternalLabels: func() labels.Labels { return labels.FromStrings("region", "eu", "job", "ignored") }})
	body := readRequest(t, nil,
		upQuery(20_000, 40_000, labels.MustNewMatcher(labels.MatchEqual, "job", "a")),
		upQuery(95_000, 200_000, labels.MustNewMatcher(labels.MatchRegexp, "instance", "x|y"), labels.MustNewMatcher(labels.MatchEqual, "region", "eu")),
		upQuery(0, 100_000, labels.MustNewMatcher(labels.MatchEqual, "job", "none")),
	)
	rec := do(h, "POST", "/api/v1/read", body, http.Header{"Content-Encoding": {"snappy"}, "Accept-Encoding": {"gzip"}})
	if rec.Code != http.StatusOK {
		t.Fatalf("remote read: %d %s", rec.Code, rec.Body.String())
	}
	if ct, ce := rec.Header().Get("Content-Type"), rec.Header().Get("Content-Encoding"); ct != "application/x-protobuf" || ce != "snappy" {
		t.Fatalf("Content-Type %q, Content-Encoding %q", ct, ce)
	}
	raw, err := snappy.Decode(nil, rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var resp prompb.ReadResponse
	if err := resp.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	got := make([]string, len(resp.Results))
	for i, res := range resp.Results {
		var b strings.Builder
		for _, ts := range res.Timeseries {
			for _, l := range ts.Labels {
				b.WriteString(l.Name + "=" + l.Value + ",")
			}
			for _, s := range ts.Samples {
				fmt.Fprintf(&b, " %d:%g", s.Timestamp/1000, s.Value)
			}
			b.WriteString(";")
		}
		got[i] = b.String()
	}
	want := []string{
		// Series labels win over external ones; the range is inclusive.
		"__name__=up,instance=x,job=a,region=eu, 20:1 30:1 40:1;",
		// region="eu" matches the external label, so it matches stored series without region.
		"__name__=up,instance=x,job=a,region=eu, 100:1;__name__=up,instance=y,job=b,region=eu, 100:0;",
		"",
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("query %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

func TestRemoteReadStreamedChunks(t *testing.T) {
	h, db := newTestHandler(t, Options{})
	app := db.Appender(t.Context())
	long := labels.FromStrings("__name__", "up", "job", "long")
	for ts := int64(0); ts < 250; ts++ {
		if _, err := app.Append(0, long, ts*100, float64(ts)); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	types := []prompb.ReadRequest_ResponseType{prompb.ReadRequest_STREAMED_XOR_CHUNKS, prompb.ReadRequest_SAMPLES}
	body := readRequest(t, types, upQuery(0, 24_900, labels.MustNewMatcher(labels.MatchEqual, "job", "long")), upQuery(0, 100_000, labels.MustNewMatcher(labels.MatchRegexp, "job", "a|b")))
	rec := do(h, "POST", "/api/v1/read", body, nil)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != remote.ContentTypeStreamedRead {
		t.Fatalf("streamed read: %d %q %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body.String())
	}
	type seriesSummary struct {
		query   int64
		labels  string
		chunks  []int
		samples int
	}
	var got []seriesSummary
	r := remote.NewChunkedReader(rec.Body, 1<<20)
	for {
		frame, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var msg prompb.ChunkedReadResponse
		if err := msg.Unmarshal(frame); err != nil {
			t.Fatal(err)
		}
		for _, cs := range msg.ChunkedSeries {
			s := seriesSummary{query: msg.QueryIndex}
			for _, l := range cs.Labels {
				s.labels += l.Name + "=" + l.Value + ","
			}
			prev := int64(-1)
			for _, c := range cs.Chunks {
				chk, err := chunkenc.LoadXORChunk(c.Data)
				if err != nil || c.Type != prompb.Chunk_XOR {
					t.Fatalf("chunk type %v: %v", c.Type, err)
				}
				s.chunks = append(s.chunks, chk.NumSamples())
				it := chk.Iterator(nil)
				for it.Next() {
					ts, _ := it.At()
					if ts <= prev || ts < c.MinTimeMs || ts > c.MaxTimeMs {
						t.Fatalf("sample at %d out of order or outside chunk [%d, %d]", ts, c.MinTimeMs, c.MaxTimeMs)
					}
					prev = ts
					s.samples++
				}
				if err := it.Err(); err != nil {
					t.Fatal(err)
				}
			}
			got = append(got, s)
		}
	}
	want := []seriesSummary{
		{0, "__name__=up,job=long,", []int{120, 120, 10}, 250},
		{1, "__name__=up,instance=x,job=a,", []int{11}, 11},
		{1, "__name__=up,instance=y,job=b,", []int{11}, 11},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d series %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.query != w.query || g.labels != w.labels || g.samples != w.samples || len(g.chunks) != len(w.chunks) {
			t.Errorf("series %d: got %+v, want %+v", i, g, w)
			continue
		}
		for j := range w.chunks {
			if g.chunks[j] != w.chunks[j] {
				t.Errorf("series %d: chunk sizes %v, want %v", i, g.chunks, w.chunks)
			}
		}
	}
}

func TestRemoteReadErrors(t *testing.T) {
	h, _ := newTestHandler(t, Options{RemoteReadSampleLimit: 5})
	for _, tc := range []struct {
		name string
		body io.Reader
		code int
		want string
	}{
		{"bad snappy", strings.NewReader("plain"), 400, "decode snappy body"},
		{"bad protobuf", bytes.NewReader(snappy.Encode(nil, []byte{0xff, 0xff})), 400, "decode protobuf prometheus.ReadRequest"},
		{"unknown response type", readRequest(t, []prompb.ReadRequest_ResponseType{7}, upQuery(0, 1)), 400, "does not support any of the requested response types"},
		{"bad regexp", readRequest(t, nil, &prompb.Query{Matchers: []*prompb.LabelMatcher{{Type: prompb.LabelMatcher_RE, Name: "a", Value: "("}}}), 400, "query 0: matcher 0"},
		{"start after end", readRequest(t, nil, upQuery(10, 5)), 400, "start 10 is after end 5"},
		{"sample limit", readRequest(t, nil, upQuery(0, 100_000)), 400, "exceeded sample limit (5)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(h, "POST", "/api/v1/read", tc.body, nil)
			if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.want) {
				t.Errorf("got %d %q, want %d with %q", rec.Code, rec.Body.String(), tc.code, tc.want)
			}
		})
	}
}
