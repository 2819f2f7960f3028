package chunkenc

import (
	"testing"

	upstream "github.com/prometheus/prometheus/tsdb/chunkenc"
)

// benchSamples is a 120-sample chunk of a slowly varying gauge at a 15 s
// interval with a little jitter, the common case.
func benchSamples() []sample {
	s := make([]sample, 120)
	t := int64(1_700_000_000_000)
	for i := range s {
		t += 15_000 + int64(i%3) - 1
		s[i] = sample{t, 100 + float64(i%10)*0.5}
	}
	return s
}

func BenchmarkXOREncode(b *testing.B) {
	benchEncode(b, EncXOR, func() upstream.Chunk { return upstream.NewXORChunk() })
}

func BenchmarkXORDecode(b *testing.B) { benchDecode(b, EncXOR, upstream.EncXOR) }

func BenchmarkXOR2Encode(b *testing.B) {
	benchEncode(b, EncXOR2, func() upstream.Chunk { return upstream.NewXOR2Chunk() })
}

func BenchmarkXOR2Decode(b *testing.B) { benchDecode(b, EncXOR2, upstream.EncXOR2) }

// benchEncode encodes benchSamples into a fresh chunk per op, in enc with
// Argus and with the upstream chunk newUpstream returns.
func benchEncode(b *testing.B, enc Encoding, newUpstream func() upstream.Chunk) {
	samples := benchSamples()
	b.Run("argus", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			c, _ := NewFloatChunk(enc)
			app, _ := c.Appender()
			for _, s := range samples {
				_ = app.Append(s.t, s.v)
			}
		}
		b.ReportMetric(float64(b.N*len(samples))/b.Elapsed().Seconds(), "samples/s")
	})
	b.Run("upstream", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			app, _ := newUpstream().Appender()
			for _, s := range samples {
				app.Append(0, s.t, s.v)
			}
		}
		b.ReportMetric(float64(b.N*len(samples))/b.Elapsed().Seconds(), "samples/s")
	})
}

// benchDecode decodes one chunk of benchSamples in enc per op, with Argus's
// iterator and with upstream's reading the same bytes as upEnc.
func benchDecode(b *testing.B, enc Encoding, upEnc upstream.Encoding) {
	samples := benchSamples()
	c, _ := NewFloatChunk(enc)
	app, _ := c.Appender()
	for _, s := range samples {
		_ = app.Append(s.t, s.v)
	}
	b.Run("argus", func(b *testing.B) {
		b.ReportAllocs()
		var it XORIterator
		for i := 0; i < b.N; i++ {
			it.Reset(enc, c.Bytes())
			for it.Next() {
			}
		}
		b.ReportMetric(float64(b.N*len(samples))/b.Elapsed().Seconds(), "samples/s")
	})
	b.Run("upstream", func(b *testing.B) {
		b.ReportAllocs()
		uc, _ := upstream.FromData(upEnc, c.Bytes())
		var it upstream.Iterator
		for i := 0; i < b.N; i++ {
			it = uc.Iterator(it)
			for it.Next() != upstream.ValNone {
			}
		}
		b.ReportMetric(float64(b.N*len(samples))/b.Elapsed().Seconds(), "samples/s")
	})
}
