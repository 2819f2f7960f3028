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
	samples := benchSamples()
	b.Run("argus", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			c := NewXORChunk()
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
			c := upstream.NewXORChunk()
			app, _ := c.Appender()
			for _, s := range samples {
				app.Append(0, s.t, s.v)
			}
		}
		b.ReportMetric(float64(b.N*len(samples))/b.Elapsed().Seconds(), "samples/s")
	})
}

func BenchmarkXORDecode(b *testing.B) {
	samples := benchSamples()
	c := NewXORChunk()
	app, _ := c.Appender()
	for _, s := range samples {
		_ = app.Append(s.t, s.v)
	}
	b.Run("argus", func(b *testing.B) {
		b.ReportAllocs()
		var it XORIterator
		for i := 0; i < b.N; i++ {
			it.Reset(EncXOR, c.Bytes())
			for it.Next() {
			}
		}
		b.ReportMetric(float64(b.N*len(samples))/b.Elapsed().Seconds(), "samples/s")
	})
	b.Run("upstream", func(b *testing.B) {
		b.ReportAllocs()
		uc, _ := upstream.FromData(upstream.EncXOR, c.Bytes())
		var it upstream.Iterator
		for i := 0; i < b.N; i++ {
			it = uc.Iterator(it)
			for it.Next() != upstream.ValNone {
			}
		}
		b.ReportMetric(float64(b.N*len(samples))/b.Elapsed().Seconds(), "samples/s")
	})
}

func BenchmarkXOR2Encode(b *testing.B) {
	samples := benchSamples()
	b.Run("argus", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			c := NewXOR2Chunk()
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
			c := upstream.NewXOR2Chunk()
			app, _ := c.Appender()
			for _, s := range samples {
				app.Append(0, s.t, s.v)
			}
		}
		b.ReportMetric(float64(b.N*len(samples))/b.Elapsed().Seconds(), "samples/s")
	})
}

func BenchmarkXOR2Decode(b *testing.B) {
	samples := benchSamples()
	c := NewXOR2Chunk()
	app, _ := c.Appender()
	for _, s := range samples {
		_ = app.Append(s.t, s.v)
	}
	b.Run("argus", func(b *testing.B) {
		b.ReportAllocs()
		var it XORIterator
		for i := 0; i < b.N; i++ {
			it.Reset(EncXOR2, c.Bytes())
			for it.Next() {
			}
		}
		b.ReportMetric(float64(b.N*len(samples))/b.Elapsed().Seconds(), "samples/s")
	})
	b.Run("upstream", func(b *testing.B) {
		b.ReportAllocs()
		uc, _ := upstream.FromData(upstream.EncXOR2, c.Bytes())
		var it upstream.Iterator
		for i := 0; i < b.N; i++ {
			it = uc.Iterator(it)
			for it.Next() != upstream.ValNone {
			}
		}
		b.ReportMetric(float64(b.N*len(samples))/b.Elapsed().Seconds(), "samples/s")
	})
}
