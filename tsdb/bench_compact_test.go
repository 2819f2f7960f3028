package tsdb

import (
	"context"
	"testing"
	"time"
)

// BenchmarkCutBlock measures cutting a 2 h block from a head of 10,000
// series holding 3 h of 15 s samples: the samples written per second, from
// the head through re-encoding to a synced block on disk.
func BenchmarkCutBlock(b *testing.B) {
	const numSeries, samples = 10_000, 730
	ls := benchLabels(numSeries)
	var cut time.Duration
	var written uint64
	for b.Loop() {
		b.StopTimer()
		db := openDB(b, b.TempDir(), nil)
		for j := range samples {
			ts := int64(j) * 15_000
			app := db.Appender(context.Background())
			for i, l := range ls {
				if _, err := app.Append(0, l, ts, float64(ts)+float64(i)); err != nil {
					b.Fatal(err)
				}
			}
			if err := app.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		start := time.Now()
		if err := db.Compact(context.Background()); err != nil {
			b.Fatal(err)
		}
		cut += time.Since(start)
		b.StopTimer()
		for _, m := range db.Blocks() {
			written += m.Stats.NumSamples
		}
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(written)/cut.Seconds(), "samples/s")
}
