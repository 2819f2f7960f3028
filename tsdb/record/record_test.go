package record

import (
	"bytes"
	"encoding/binary"
	"math"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/tsdb/chunks"
	upstream "github.com/prometheus/prometheus/tsdb/record"
)

var (
	testSeries = []RefSeries{
		{Ref: 1, Labels: labels.FromStrings("__name__", "up", "job", "node")},
		{Ref: 2, Labels: labels.FromStrings("__name__", "http_requests_total", "code", "200", "path", "/api/v1/query")},
		{Ref: 1 << 40, Labels: labels.FromStrings("a", "")},
		{Ref: 3, Labels: labels.EmptyLabels()},
	}
	testSamples = []RefSample{
		{Ref: 10, T: 1_700_000_000_000, V: 1},
		{Ref: 2, T: 1_699_999_999_000, V: math.Float64frombits(value.StaleNaN)},
		{Ref: 1 << 40, T: -5, V: math.Inf(-1)},
		{Ref: 10, T: math.MaxInt64 / 2, V: -0.0},
	}
)

func TestRoundTrip(t *testing.T) {
	var dec Decoder
	series, err := dec.Series(EncodeSeries(testSeries, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	assertSeries(t, testSeries, series)

	samples, err := dec.Samples(EncodeSamples(testSamples, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	assertSamples(t, testSamples, samples)

	empty, err := dec.Samples(EncodeSamples(nil, nil), nil)
	if err != nil || len(empty) != 0 {
		t.Fatalf("empty samples record: %v, %v", empty, err)
	}
}

// The records must be byte-identical to Prometheus's so that either server
// replays the other's WAL.
func TestMatchesUpstream(t *testing.T) {
	var enc upstream.Encoder
	upSeries := make([]upstream.RefSeries, len(testSeries))
	for i, s := range testSeries {
		upSeries[i] = upstream.RefSeries{Ref: chunks.HeadSeriesRef(s.Ref), Labels: s.Labels}
	}
	upSamples := make([]upstream.RefSample, len(testSamples))
	for i, s := range testSamples {
		upSamples[i] = upstream.RefSample{Ref: chunks.HeadSeriesRef(s.Ref), T: s.T, V: s.V}
	}
	ourSeries, theirSeries := EncodeSeries(testSeries, nil), enc.Series(upSeries, nil)
	if string(ourSeries) != string(theirSeries) {
		t.Fatalf("series records differ:\nours   %x\ntheirs %x", ourSeries, theirSeries)
	}
	ourSamples, theirSamples := EncodeSamples(testSamples, nil), enc.Samples(upSamples, nil)
	if string(ourSamples) != string(theirSamples) {
		t.Fatalf("samples records differ:\nours   %x\ntheirs %x", ourSamples, theirSamples)
	}

	upDec := upstream.NewDecoder(labels.NewSymbolTable(), nil)
	gotSeries, err := upDec.Series(ourSeries, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range gotSeries {
		if uint64(gotSeries[i].Ref) != uint64(testSeries[i].Ref) || !labels.Equal(gotSeries[i].Labels, testSeries[i].Labels) {
			t.Fatalf("upstream decoded series %d as %v", i, gotSeries[i])
		}
	}
	gotSamples, err := upDec.Samples(ourSamples, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range gotSamples {
		s := gotSamples[i]
		if uint64(s.Ref) != uint64(testSamples[i].Ref) || s.T != testSamples[i].T || math.Float64bits(s.V) != math.Float64bits(testSamples[i].V) {
			t.Fatalf("upstream decoded sample %d as %v", i, s)
		}
	}
}

func TestDecodeRejectsBadRecords(t *testing.T) {
	good := EncodeSamples(testSamples, nil)
	tests := []struct {
		name string
		rec  []byte
		dec  func(*Decoder, []byte) error
	}{
		{"series with wrong type", good, func(d *Decoder, b []byte) error { _, err := d.Series(b, nil); return err }},
		{"samples with wrong type", EncodeSeries(testSeries, nil), func(d *Decoder, b []byte) error { _, err := d.Samples(b, nil); return err }},
		{"truncated samples", good[:len(good)-3], func(d *Decoder, b []byte) error { _, err := d.Samples(b, nil); return err }},
		{"truncated series", EncodeSeries(testSeries, nil)[:20], func(d *Decoder, b []byte) error { _, err := d.Series(b, nil); return err }},
		{"empty", nil, func(d *Decoder, b []byte) error { _, err := d.Series(b, nil); return err }},
		{"huge label length", []byte{byte(Series), 0, 0, 0, 0, 0, 0, 0, 1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f, 'a'}, func(d *Decoder, b []byte) error { _, err := d.Series(b, nil); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d Decoder
			if err := tc.dec(&d, tc.rec); err == nil {
				t.Fatal("decoded a bad record without error")
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(EncodeSeries(testSeries, nil))
	f.Add(EncodeSamples(testSamples, nil))
	f.Add([]byte{byte(Samples)})
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Decoder
		if series, err := d.Series(b, nil); err == nil {
			// Whatever decodes must re-encode to a record that decodes the same.
			again, err := d.Series(EncodeSeries(series, nil), nil)
			if err != nil || len(again) != len(series) {
				t.Fatalf("re-decode of %d series: %d, %v", len(series), len(again), err)
			}
		}
		_, _ = d.Samples(b, nil)
	})
}

func assertSeries(t *testing.T, want, got []RefSeries) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("got %d series, want %d", len(got), len(want))
	}
	for i := range want {
		if want[i].Ref != got[i].Ref || !labels.Equal(want[i].Labels, got[i].Labels) {
			t.Fatalf("series %d: got %v %v, want %v %v", i, got[i].Ref, got[i].Labels, want[i].Ref, want[i].Labels)
		}
	}
}

func assertSamples(t *testing.T, want, got []RefSample) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("got %d samples, want %d", len(got), len(want))
	}
	for i := range want {
		if want[i].Ref != got[i].Ref || want[i].T != got[i].T || math.Float64bits(want[i].V) != math.Float64bits(got[i].V) {
			t.Fatalf("sample %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestMinValidTimeMatchesUpstream(t *testing.T) {
	var enc upstream.Encoder
	upDec := upstream.NewDecoder(labels.NewSymbolTable(), nil)
	var dec Decoder
	for _, mint := range []int64{0, -1, 1_700_000_000_000, math.MinInt64, math.MaxInt64} {
		ours := EncodeMinValidTime(mint, nil)
		if want := enc.MinValidTime(mint, nil); !bytes.Equal(ours, want) {
			t.Fatalf("min valid time %d: encoded %x, upstream %x", mint, ours, want)
		}
		if got, err := upDec.MinValidTime(ours); err != nil || got != mint {
			t.Fatalf("upstream decodes %d as %d, %v", mint, got, err)
		}
		if got, err := dec.MinValidTime(ours); err != nil || got != mint {
			t.Fatalf("decoded %d as %d, %v", mint, got, err)
		}
		for _, bad := range [][]byte{ours[:5], append(ours, 0), {byte(Samples)}} {
			if _, err := dec.MinValidTime(bad); err == nil {
				t.Fatalf("decoded malformed record %x", bad)
			}
		}
	}
}

func TestVarintMatchesBinary(t *testing.T) {
	for _, x := range []int64{0, 1, -1, 63, -64, 64, -65, 8191, -8192, 8192, -8193, 1 << 40, -(1 << 40), math.MaxInt64, math.MinInt64} {
		b := binary.AppendVarint(nil, x)
		got, n := varint(b)
		if got != x || n != len(b) {
			t.Errorf("varint(%d) = %d, %d bytes; want %d bytes", x, got, n, len(b))
		}
	}
	for _, b := range [][]byte{nil, {0x80}, {0xff, 0xff}} {
		if _, n := varint(b); n > 0 {
			t.Errorf("varint(%x) accepted a truncated varint", b)
		}
	}
}
