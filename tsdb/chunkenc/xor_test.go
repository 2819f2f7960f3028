package chunkenc

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prometheus/prometheus/model/value"
)

type sample struct {
	t int64
	v float64
}

// testSeries returns named sample sequences covering every timestamp bucket
// and value encoding path.
func testSeries() map[string][]sample {
	rng := rand.New(rand.NewPCG(1, 2))
	series := map[string][]sample{}

	regular := make([]sample, 120)
	for i := range regular {
		regular[i] = sample{int64(1_700_000_000_000 + i*15_000), float64(i)}
	}
	series["regular counter"] = regular

	constant := make([]sample, 120)
	for i := range constant {
		constant[i] = sample{int64(i * 1000), 42}
	}
	series["constant"] = constant

	jitter := make([]sample, 300)
	t := int64(-5_000)
	for i := range jitter {
		t += 1 + rng.Int64N(100_000)
		jitter[i] = sample{t, rng.NormFloat64() * 1e6}
	}
	series["random jitter"] = jitter

	// Deltas of delta chosen at the edge of every bucket.
	edges := []int64{0, 1, -1, 8191, 8192, -8191, -8192, 65535, 65536, -65535, -65536, 524287, 524288, -524287, -524288, 1 << 40, -(1 << 40)}
	var e []sample
	t, d := int64(0), int64(1_000_000_000_000)
	e = append(e, sample{t, 0})
	for _, dod := range edges {
		d += dod
		t += d
		e = append(e, sample{t, float64(dod)})
	}
	series["dod bucket edges"] = e

	series["extreme values"] = []sample{
		{math.MinInt64 + 1, math.Inf(1)},
		{0, math.Inf(-1)},
		{1, math.NaN()},
		{2, math.Float64frombits(value.StaleNaN)},
		{3, -0.0},
		{4, 0},
		{5, math.MaxFloat64},
		{6, math.SmallestNonzeroFloat64},
		{7, math.Float64frombits(value.StaleNaN)},
		{8, 1},
		{math.MaxInt64 / 2, -1},
	}

	series["one sample"] = []sample{{123, 4.5}}
	series["two samples"] = []sample{{-10, 1}, {10, 2}}
	series["stale markers"] = []sample{
		{1000, 1}, {2000, math.Float64frombits(value.StaleNaN)}, {3000, math.Float64frombits(value.StaleNaN)}, {4000, 2},
	}

	random := make([]sample, 1000)
	t = 0
	for i := range random {
		t += rng.Int64N(1 << 20)
		random[i] = sample{t, math.Float64frombits(rng.Uint64())}
	}
	series["random bits"] = random
	return series
}

func encode(t *testing.T, samples []sample) *XORChunk {
	t.Helper()
	c := NewXORChunk()
	app, err := c.Appender()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		if err := app.Append(s.t, s.v); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func decode(t *testing.T, b []byte) []sample {
	t.Helper()
	var it XORIterator
	it.Reset(EncXOR, b)
	var out []sample
	for it.Next() {
		ts, v := it.At()
		if it.AtT() != ts {
			t.Fatalf("AtT %d != At %d", it.AtT(), ts)
		}
		out = append(out, sample{ts, v})
	}
	if err := it.Err(); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return out
}

func assertSamples(t *testing.T, want, got []sample) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("got %d samples, want %d", len(got), len(want))
	}
	for i := range want {
		// Compare bits so NaN payloads (stale markers) must round-trip exactly.
		if want[i].t != got[i].t || math.Float64bits(want[i].v) != math.Float64bits(got[i].v) {
			t.Fatalf("sample %d: got (%d, %x), want (%d, %x)", i, got[i].t, math.Float64bits(got[i].v), want[i].t, math.Float64bits(want[i].v))
		}
	}
}

func TestXORRoundTrip(t *testing.T) {
	for name, samples := range testSeries() {
		t.Run(name, func(t *testing.T) {
			c := encode(t, samples)
			if c.NumSamples() != len(samples) {
				t.Fatalf("NumSamples = %d, want %d", c.NumSamples(), len(samples))
			}
			assertSamples(t, samples, decode(t, c.Bytes()))
		})
	}
}

func TestXORAppenderResumesLoadedChunk(t *testing.T) {
	for name, samples := range testSeries() {
		t.Run(name, func(t *testing.T) {
			whole := encode(t, samples)
			for split := 0; split <= len(samples); split += max(1, len(samples)/7) {
				part := encode(t, samples[:split])
				loaded, err := LoadXORChunk(append([]byte(nil), part.Bytes()...))
				if err != nil {
					t.Fatal(err)
				}
				app, err := loaded.Appender()
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range samples[split:] {
					if err := app.Append(s.t, s.v); err != nil {
						t.Fatal(err)
					}
				}
				if string(loaded.Bytes()) != string(whole.Bytes()) {
					t.Fatalf("split at %d: resumed chunk differs from one-pass chunk", split)
				}
			}
		})
	}
}

func TestXORSeekTo(t *testing.T) {
	samples := testSeries()["regular counter"]
	c := encode(t, samples)
	tests := []struct {
		name   string
		seek   int64
		wantOK bool
		wantT  int64
	}{
		{"before first", 0, true, samples[0].t},
		{"exact", samples[10].t, true, samples[10].t},
		{"between", samples[10].t + 1, true, samples[11].t},
		{"last", samples[119].t, true, samples[119].t},
		{"after last", samples[119].t + 1, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it := c.Iterator(nil)
			ok := it.SeekTo(tc.seek)
			if ok != tc.wantOK {
				t.Fatalf("SeekTo = %v, want %v", ok, tc.wantOK)
			}
			if ok && it.AtT() != tc.wantT {
				t.Fatalf("at %d, want %d", it.AtT(), tc.wantT)
			}
		})
	}
	t.Run("never backwards", func(t *testing.T) {
		it := c.Iterator(nil)
		it.SeekTo(samples[50].t)
		if !it.SeekTo(samples[5].t) || it.AtT() != samples[50].t {
			t.Fatalf("SeekTo moved backwards to %d", it.AtT())
		}
	})
}

func TestXORCorruptInputReportsError(t *testing.T) {
	c := encode(t, testSeries()["random jitter"])
	b := c.Bytes()
	for cut := 0; cut < len(b)-1; cut++ {
		var it XORIterator
		it.Reset(EncXOR, b[:cut])
		for it.Next() {
		}
		if it.Err() == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", cut, len(b))
		}
	}
}

func FuzzXORDecode(f *testing.F) {
	for _, samples := range testSeries() {
		c := NewXORChunk()
		app, _ := c.Appender()
		for _, s := range samples {
			_ = app.Append(s.t, s.v)
		}
		f.Add(c.Bytes())
	}
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		var it XORIterator
		it.Reset(EncXOR, b)
		it.SeekTo(100)
		for it.Next() {
			it.At()
		}
		if c, err := LoadXORChunk(append([]byte(nil), b...)); err == nil {
			if app, err := c.Appender(); err == nil {
				_ = app.Append(math.MaxInt64, 1)
			}
		}
	})
}
