package tsdb

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
)

// memBenchSamples is the samples per series of BenchmarkHeadMemory: two
// hours' worth of 1-minute scrapes, or half an hour of 15 s ones, all in
// the open chunk (the 121st would cut it).
const memBenchSamples = 120

// BenchmarkHeadMemory reports the live heap per active series of a head
// holding memBenchSamples samples per series, for Argus and, interleaved in
// the same binary, for Prometheus's head fed the same samples. The label
// sets are built after the baseline and dropped by the caller before the
// measurement, so each head is charged for the labels it retains.
func BenchmarkHeadMemory(b *testing.B) {
	for _, numSeries := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("series=%d/argus", numSeries), func(b *testing.B) {
			benchHeadMemory(b, numSeries, func() (func() storage.Appender, func()) {
				db := openDB(b, b.TempDir(), nil)
				return func() storage.Appender { return db.Appender(context.Background()) },
					func() { runtime.KeepAlive(db); db.Close() }
			})
		})
		b.Run(fmt.Sprintf("series=%d/upstream", numSeries), func(b *testing.B) {
			benchHeadMemory(b, numSeries, func() (func() storage.Appender, func()) {
				udb := openUpstream(b, b.TempDir())
				return func() storage.Appender { return newUpstreamAppender(udb) },
					func() { runtime.KeepAlive(udb); udb.Close() }
			})
		})
	}
}

// benchHeadMemory opens a head with open, fills it and reports its heap
// bytes per series.
func benchHeadMemory(b *testing.B, numSeries int, open func() (newApp func() storage.Appender, closeDB func())) {
	var perSeries float64
	for i := 0; i < b.N; i++ {
		base := heapInUse()
		newApp, closeDB := open()
		fillHead(b, newApp, benchLabels(numSeries), memBenchSamples)
		perSeries = float64(heapInUse()-base) / float64(numSeries)
		closeDB()
	}
	b.ReportMetric(perSeries, "bytes/series")
}

// fillHead commits samples samples for every series of ls at a 15 s
// interval, in batches of benchHeadBatch with cached references, as a
// scraper would.
func fillHead(b *testing.B, newApp func() storage.Appender, ls []labels.Labels, samples int) {
	b.Helper()
	refs := make([]storage.SeriesRef, len(ls))
	for s := range samples {
		ts := benchHeadBase + int64(s)*15_000
		for start := 0; start < len(ls); start += benchHeadBatch {
			app := newApp()
			for i := start; i < min(start+benchHeadBatch, len(ls)); i++ {
				var err error
				if refs[i], err = app.Append(refs[i], ls[i], ts, float64(s*i%1000)); err != nil {
					b.Fatal(err)
				}
			}
			if err := app.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// heapInUse returns the live heap after collecting garbage.
func heapInUse() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
