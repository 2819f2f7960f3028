package tsdb

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

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

// BenchmarkAppend measures steady-state ingest: every series already exists
// and the caller passes back the cached reference, as the scrape loop does.
// One op is one sample for every series, committed in scrape-sized batches.
func BenchmarkAppend(b *testing.B) {
	for _, numSeries := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("series=%d", numSeries), func(b *testing.B) {
			const batch = 1000
			db := openDB(b, b.TempDir(), nil)
			defer db.Close()
			ls := benchLabels(numSeries)
			refs := make([]storage.SeriesRef, numSeries)
			round := func(ts int64) {
				for start := 0; start < numSeries; start += batch {
					app := db.Appender(context.Background())
					for i := start; i < min(start+batch, numSeries); i++ {
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
			round(0) // create the series
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				round(int64(i+1) * 15_000)
			}
			b.ReportMetric(float64(b.N*numSeries)/time.Since(start).Seconds(), "samples/s")
		})
	}
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
