package chunkenc

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/prometheus/prometheus/model/value"
	upstream "github.com/prometheus/prometheus/tsdb/chunkenc"
)

// maxSTFreeUpstream is the most samples an upstream XOR2 chunk holds
// without start timestamp data: from sample 127 on Prometheus writes a
// start timestamp of 0 into every sample even when none was given (its
// header cannot say "from sample 128"). Argus writes none, so past that its
// chunks are smaller than upstream's and decode to the same samples.
const maxSTFreeUpstream = 127

// xor2Series adds to testSeries the cases XOR2 encodes differently from
// XOR: its dod buckets, stale markers and window choices.
func xor2Series() map[string][]sample {
	rng := rand.New(rand.NewPCG(3, 4))
	series := testSeries()
	stale := math.Float64frombits(value.StaleNaN)
	const t0 = int64(1_700_000_000_000)

	walk := make([]sample, 120)
	v := 1000.0
	for i := range walk {
		v += rng.NormFloat64()
		walk[i] = sample{t0 + int64(i)*15_000, v}
	}
	series["random walk"] = walk

	noisy := make([]sample, 120)
	for i := range noisy {
		noisy[i] = sample{t0 + int64(i)*15_000 + rng.Int64N(40) - 20, math.Round((50+rng.NormFloat64()*3)*100) / 100}
	}
	series["gauge with noise and jitter"] = noisy

	counter := make([]sample, 200)
	c, t := 0.0, t0
	for i := range counter {
		t += 10_000 + rng.Int64N(3) - 1
		c += float64(rng.IntN(50))
		counter[i] = sample{t, c}
	}
	series["counter of 200 samples"] = counter

	var edges []sample
	t, d := t0, int64(60_000_000)
	edges = append(edges, sample{t, 1})
	for i, dod := range []int64{0, 4095, 4096, -4096, -4097, 524287, 524288, -524288, -524289, 1 << 40, -(1 << 40), 1, -1, 0} {
		d += dod
		t += d
		edges = append(edges, sample{t, float64(i % 3)})
	}
	series["XOR2 dod bucket edges"] = edges

	var shrinking []sample
	t, d = t0, 100_000
	for i := range 60 {
		t += d
		d -= int64(rng.IntN(1500))
		d = max(d, 1)
		shrinking = append(shrinking, sample{t, float64(i / 7)})
	}
	series["negative dods"] = shrinking

	series["stale marker paths"] = []sample{
		{1000, stale}, // first sample
		{2000, stale}, // second, with the XOR base still 0
		{3000, 5},
		{4000, stale},  // dod 0
		{5000, 5},      // back to the value before the marker
		{7000, stale},  // dod != 0
		{8000, stale},  // repeated
		{9000, 6},      // changed after the marker
		{10000, 6},     // unchanged
		{10001, stale}, // large negative dod
		{20000, 7},
	}
	series["stale after one sample"] = []sample{{1000, 3}, {2000, stale}}

	constant := make([]sample, 120)
	for i := range constant {
		constant[i] = sample{t0 + int64(i)*30_000, 0}
	}
	series["constant zero"] = constant
	return series
}

func encodeAs(t *testing.T, enc Encoding, samples []sample) *XORChunk {
	t.Helper()
	c, err := NewFloatChunk(enc)
	if err != nil {
		t.Fatal(err)
	}
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

func decodeAs(t *testing.T, enc Encoding, b []byte) []sample {
	t.Helper()
	var it XORIterator
	it.Reset(enc, b)
	var out []sample
	for it.Next() {
		ts, v := it.At()
		out = append(out, sample{ts, v})
	}
	if err := it.Err(); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return out
}

// upstreamXOR2 encodes with Prometheus's XOR2 appender; st(i) gives the
// start timestamp of sample i.
func upstreamXOR2(t *testing.T, samples []sample, st func(i int) int64) []byte {
	t.Helper()
	c := upstream.NewXOR2Chunk()
	app, err := c.Appender()
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range samples {
		app.Append(st(i), s.t, s.v)
	}
	return c.Bytes()
}

func upstreamDecode(t *testing.T, enc upstream.Encoding, b []byte) []sample {
	t.Helper()
	uc, err := upstream.FromData(enc, b)
	if err != nil {
		t.Fatal(err)
	}
	var out []sample
	it := uc.Iterator(nil)
	for it.Next() == upstream.ValFloat {
		ts, v := it.At()
		out = append(out, sample{ts, v})
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func noST(int) int64 { return 0 }

// stepST returns start timestamps that are before up to sample at, after
// from there on.
func stepST(before, after int64, at int) func(int) int64 {
	return func(i int) int64 {
		if i < at {
			return before
		}
		return after
	}
}

func TestXOR2MatchesUpstream(t *testing.T) {
	for name, samples := range xor2Series() {
		t.Run(name, func(t *testing.T) {
			head := samples[:min(len(samples), maxSTFreeUpstream)]
			ours := encodeAs(t, EncXOR2, head).Bytes()
			if theirs := upstreamXOR2(t, head, noST); string(ours) != string(theirs) {
				t.Fatalf("encodings of %d samples differ:\nours   %x\ntheirs %x", len(head), ours, theirs)
			}

			// Whole series: each side decodes the other's chunk.
			ours = encodeAs(t, EncXOR2, samples).Bytes()
			theirs := upstreamXOR2(t, samples, noST)
			assertSamples(t, samples, upstreamDecode(t, upstream.EncXOR2, ours))
			assertSamples(t, samples, decodeAs(t, EncXOR2, theirs))
			if len(ours) > len(theirs) {
				t.Fatalf("ours is %d bytes, upstream's %d", len(ours), len(theirs))
			}
		})
	}
}

// Prometheus writes start timestamps into XOR2 chunks when it has them;
// Argus reads such chunks, skipping them.
func TestXOR2DecodesUpstreamStartTimestamps(t *testing.T) {
	samples := xor2Series()["counter of 200 samples"]
	t0 := samples[0].t
	tests := map[string]func(i int) int64{
		"constant":               func(int) int64 { return t0 - 1000 },
		"known from sample 1":    stepST(0, t0-5, 1),
		"changes at sample 5":    stepST(t0-1000, samples[4].t, 5),
		"every sample":           func(i int) int64 { return samples[i].t - 1 - int64(i%7) },
		"counter resets":         func(i int) int64 { return samples[i/30*30].t - 1 },
		"huge jumps":             func(i int) int64 { return int64(i%3) * (1 << 50) },
		"negative":               func(i int) int64 { return -samples[i].t },
		"set only on sample 0":   stepST(42, 0, 1),
		"set from sample 150 on": stepST(0, t0, 150),
	}
	for name, st := range tests {
		t.Run(name, func(t *testing.T) {
			for _, n := range []int{1, 2, 3, 6, 127, 128, len(samples)} {
				b := upstreamXOR2(t, samples[:n], st)
				assertSamples(t, samples[:n], decodeAs(t, EncXOR2, b))
				if n > 1 && b[headerSize] == 0 {
					continue
				}
				// Argus cannot continue a start timestamp stream it does not
				// keep: it must refuse rather than write a corrupt chunk.
				c, err := LoadFloatChunk(EncXOR2, append([]byte(nil), b...))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.Appender(); b[headerSize] != 0 && !errors.Is(err, errResumeST) {
					t.Fatalf("%d samples, header %#x: Appender error %v, want %v", n, b[headerSize], err, errResumeST)
				}
			}
		})
	}
}

func TestXOR2AppenderResumesLoadedChunk(t *testing.T) {
	for name, samples := range xor2Series() {
		t.Run(name, func(t *testing.T) {
			whole := encodeAs(t, EncXOR2, samples)
			for split := 0; split <= len(samples); split += max(1, len(samples)/7) {
				part := encodeAs(t, EncXOR2, samples[:split])
				loaded, err := LoadFloatChunk(EncXOR2, append([]byte(nil), part.Bytes()...))
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

func TestXOR2SeekTo(t *testing.T) {
	samples := xor2Series()["stale marker paths"]
	c := encodeAs(t, EncXOR2, samples)
	tests := []struct {
		name   string
		seek   int64
		wantOK bool
		wantT  int64
		wantV  uint64
	}{
		{"before first", 0, true, 1000, value.StaleNaN},
		{"onto a stale marker", 3500, true, 4000, value.StaleNaN},
		{"onto the value after a marker", 4001, true, 5000, math.Float64bits(5)},
		{"last", 20000, true, 20000, math.Float64bits(7)},
		{"after last", 20001, false, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			it := c.Iterator(nil)
			ok := it.SeekTo(tc.seek)
			if ok != tc.wantOK {
				t.Fatalf("SeekTo = %v, want %v", ok, tc.wantOK)
			}
			if ts, v := it.At(); ok && (ts != tc.wantT || math.Float64bits(v) != tc.wantV) {
				t.Fatalf("at (%d, %x), want (%d, %x)", ts, math.Float64bits(v), tc.wantT, tc.wantV)
			}
		})
	}
}

func TestXOR2CorruptInputReportsError(t *testing.T) {
	b := encodeAs(t, EncXOR2, xor2Series()["random walk"]).Bytes()
	for cut := 0; cut < len(b)-1; cut++ {
		var it XORIterator
		it.Reset(EncXOR2, b[:cut])
		for it.Next() {
		}
		if it.Err() == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", cut, len(b))
		}
	}
}

func TestFloatEncodings(t *testing.T) {
	tests := []struct {
		in      string
		want    Encoding
		wantErr bool
	}{
		{"", EncXOR, false},
		{"xor", EncXOR, false},
		{"XOR2", EncXOR2, false},
		{"xor3", 0, true},
	}
	for _, tc := range tests {
		got, err := ParseFloatEncoding(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseFloatEncoding(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
	for _, enc := range []Encoding{0, 2, 3, 5, 6} {
		if _, err := NewFloatChunk(enc); err == nil {
			t.Errorf("NewFloatChunk(%d): no error", enc)
		}
		var it XORIterator
		it.Reset(enc, []byte{0, 1, 0, 0, 0, 0})
		if it.Next() || it.Err() == nil {
			t.Errorf("iterator over encoding %d: no error", enc)
		}
	}
	for e := range Encoding(7) {
		if e.String() != upstream.Encoding(e).String() {
			t.Errorf("encoding %d is %q, Prometheus's %q", e, e, upstream.Encoding(e))
		}
	}
}

func FuzzXOR2Decode(f *testing.F) {
	for _, samples := range xor2Series() {
		c := NewXOR2Chunk()
		app, _ := c.Appender()
		for _, s := range samples {
			_ = app.Append(s.t, s.v)
		}
		f.Add(c.Bytes())
	}
	c := upstream.NewXOR2Chunk()
	app, _ := c.Appender()
	for i := range 200 {
		app.Append(int64(i%5), int64(i)*1000, float64(i%3))
	}
	f.Add(c.Bytes())
	f.Add([]byte{})
	f.Add([]byte{0, 3, 0xff})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		var it XORIterator
		it.Reset(EncXOR2, b)
		it.SeekTo(100)
		for it.Next() {
			it.At()
		}
		// What Argus decodes without error, Prometheus decodes the same.
		it.Reset(EncXOR2, b)
		var ours []sample
		for it.Next() {
			ts, v := it.At()
			ours = append(ours, sample{ts, v})
		}
		if it.Err() == nil && len(b) >= xor2HeaderSize {
			assertSamples(t, ours, upstreamDecode(t, upstream.EncXOR2, b))
		}
		if c, err := LoadFloatChunk(EncXOR2, append([]byte(nil), b...)); err == nil {
			if app, err := c.Appender(); err == nil {
				_ = app.Append(math.MaxInt64, 1)
			}
		}
	})
}
