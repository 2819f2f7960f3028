package tsdb

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/internal/cputime"
	"github.com/argusmon/argus/storage"
)

func benchLabels(n int) []labels.Labels {
	ls := make([]labels.Labels, n)
	for i := range ls {
		ls[i] = labels.FromStrings(
			"__name__", fmt.Sprintf("metric_%d", i%100),
			"instance", fmt.Sprintf("host-%d:9100", i/1000),
			"job", "node",
			"series", fmt.Sprint(i),
		)
	}
	return ls
}

// BenchmarkAppend measures steady-state ingest into Argus and, interleaved
// in the same binary, into Prometheus's tsdb, both with their WAL on
// (snappy-compressed, as both servers default to) and through their public
// appenders: every series already exists and the caller passes back the
// cached reference, as a scraper does. One op is one sample for every
// series, committed in scrape-sized batches of 1000 samples. Besides
// samples/s it reports the process CPU time per sample, background work
// included, which a busy machine distorts less than the wall clock.
func BenchmarkAppend(b *testing.B) {
	for _, numSeries := range []int{10_000, 100_000, 1_000_000} {
		ls := benchLabels(numSeries)
		b.Run(fmt.Sprintf("series=%d/argus", numSeries), func(b *testing.B) {
			db := openDB(b, b.TempDir(), nil)
			defer db.Close()
			benchAppend(b, ls, func() storage.Appender { return db.Appender(context.Background()) })
		})
		b.Run(fmt.Sprintf("series=%d/upstream", numSeries), func(b *testing.B) {
			udb := openUpstream(b, b.TempDir())
			defer udb.Close()
			benchAppend(b, ls, func() storage.Appender { return newUpstreamAppender(udb) })
		})
	}
}

// benchAppend creates the series of ls, then times rounds of one sample per
// series at a 15 s interval, reporting samples/s and allocs/sample.
func benchAppend(b *testing.B, ls []labels.Labels, newApp func() storage.Appender) {
	const batch = 1000
	refs := make([]storage.SeriesRef, len(ls))
	round := func(ts int64) {
		for start := 0; start < len(ls); start += batch {
			app := newApp()
			for i := start; i < min(start+batch, len(ls)); i++ {
				var err error
				if refs[i], err = app.Append(refs[i], ls[i], ts, float64(ts)+float64(i)); err != nil {
					b.Fatal(err)
				}
			}
			if err := app.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	}
	round(benchHeadBase) // create the series
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	start, cpuStart := time.Now(), cputime.Process()
	for i := 0; i < b.N; i++ {
		round(benchHeadBase + int64(i+1)*15_000)
	}
	elapsed, cpu := time.Since(start), cputime.Process()-cpuStart
	b.StopTimer()
	runtime.ReadMemStats(&after)
	samples := float64(b.N * len(ls))
	b.ReportMetric(samples/elapsed.Seconds(), "samples/s")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/samples, "allocs/sample")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/samples, "B/sample")
	b.ReportMetric(float64(cpu.Nanoseconds())/samples, "cpu-ns/sample")
}

// BenchmarkSelect measures a query touching 100 of 10k series over two hours
// of 10 s samples, iterating every sample.
func BenchmarkSelect(b *testing.B) {
	const numSeries, samplesPerSeries = 10_000, 720
	db := openDB(b, b.TempDir(), nil)
	defer db.Close()
	ls := benchLabels(numSeries)
	refs := make([]storage.SeriesRef, numSeries)
	for s := range samplesPerSeries {
		app := db.Appender(context.Background())
		for i := range ls {
			refs[i], _ = app.Append(refs[i], ls[i], int64(s)*10_000, float64(s*i))
		}
		if err := app.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	m := labels.MustNewMatcher(labels.MatchEqual, "__name__", "metric_7")
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var total int
	var it storage.Iterator
	for i := 0; i < b.N; i++ {
		q, _ := db.Querier(math.MinInt64, math.MaxInt64)
		set := q.Select(context.Background(), true, nil, m)
		for set.Next() {
			it = set.At().Iterator(it)
			for it.Next() == storage.ValFloat {
				total++
			}
		}
		q.Close()
	}
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "samples/s")
	b.ReportMetric(float64(total)/float64(b.N), "samples/op")
}
