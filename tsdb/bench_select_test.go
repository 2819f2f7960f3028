package tsdb

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/argusmon/argus/storage"
)

// The data of BenchmarkSelectVsUpstream: 10k series of 10s samples over
// 3.5h, so that a compaction (due beyond 1.5 block ranges) leaves the first
// 2h in a block and the last 1.5h in the head.
const (
	selectSeries   = 10_000
	selectInterval = 10_000
	selectSpan     = 7 * 1800_000
	selectBlockEnd = 2 * 3600_000
)

func fillSelectBench(b *testing.B, newApp func() storage.Appender) {
	b.Helper()
	ls := benchLabels(selectSeries)
	refs := make([]storage.SeriesRef, len(ls))
	for ts := int64(0); ts < selectSpan; ts += selectInterval {
		app := newApp()
		for i := range ls {
			var err error
			// Counter-like values, as most of what is scraped.
			if refs[i], err = app.Append(refs[i], ls[i], ts, float64(ts/selectInterval*int64(i%50))); err != nil {
				b.Fatal(err)
			}
		}
		if err := app.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSelectVsUpstream selects 100 of 10k series and iterates every
// sample, from a block (the first 2h) and from the head (the last 1.5h),
// in Argus and in Prometheus's tsdb holding the same samples, interleaved
// in one binary. Compare samples/s between the argus and upstream
// sub-benchmarks of each source.
func BenchmarkSelectVsUpstream(b *testing.B) {
	db := openDB(b, b.TempDir(), &Options{DisableCompaction: true})
	defer db.Close()
	fillSelectBench(b, func() storage.Appender { return db.Appender(context.Background()) })
	if err := db.Compact(context.Background()); err != nil {
		b.Fatal(err)
	}
	udb := openUpstream(b, b.TempDir())
	defer udb.Close()
	udb.DisableCompactions()
	fillSelectBench(b, func() storage.Appender { return newUpstreamAppender(udb) })
	if err := udb.Compact(context.Background()); err != nil {
		b.Fatal(err)
	}
	if len(db.blocks) != 1 || len(udb.Blocks()) != 1 {
		b.Fatalf("blocks: argus %d, upstream %d; want one each", len(db.blocks), len(udb.Blocks()))
	}

	m := labels.MustNewMatcher(labels.MatchEqual, "__name__", "metric_7")
	sources := []struct {
		name       string
		mint, maxt int64
	}{
		{"block", 0, selectBlockEnd - 1},
		{"head", selectBlockEnd, math.MaxInt64},
	}
	for _, src := range sources {
		b.Run(src.name+"/argus", func(b *testing.B) {
			var it storage.Iterator
			runSelect(b, func() int {
				q, err := db.Querier(src.mint, src.maxt)
				if err != nil {
					b.Fatal(err)
				}
				defer q.Close()
				n := 0
				set := q.Select(context.Background(), true, nil, m)
				for set.Next() {
					it = set.At().Iterator(it)
					for it.Next() == storage.ValFloat {
						n++
					}
				}
				return n
			})
		})
		b.Run(src.name+"/upstream", func(b *testing.B) {
			var it chunkenc.Iterator
			runSelect(b, func() int {
				q, err := udb.Querier(src.mint, src.maxt)
				if err != nil {
					b.Fatal(err)
				}
				defer q.Close()
				n := 0
				set := q.Select(context.Background(), true, nil, m)
				for set.Next() {
					it = set.At().Iterator(it)
					for it.Next() == chunkenc.ValFloat {
						n++
					}
				}
				return n
			})
		})
	}
}

// runSelect times query b.N times and reports samples/s and samples/op,
// failing if a run reads a different number of samples than the first.
func runSelect(b *testing.B, query func() int) {
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	total, first := 0, -1
	for range b.N {
		n := query()
		if first >= 0 && n != first {
			b.Fatalf("read %d samples, %d the first time", n, first)
		}
		first = n
		total += n
	}
	b.ReportMetric(float64(total)/time.Since(start).Seconds(), "samples/s")
	b.ReportMetric(float64(first), "samples/op")
}
