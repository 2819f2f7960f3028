package tsdb

import (
	"context"
	"testing"

	"github.com/prometheus/prometheus/tsdb"
)

// BenchmarkAppendBelowHead measures out-of-order ingest older than the
// head's range, in blocks already cut, in Argus and in Prometheus: one op is
// one commit of a sample for each of 1,000 series. Both heads hold 4 h of
// 15 s samples cut at 2 h.
func BenchmarkAppendBelowHead(b *testing.B) {
	const numSeries, hour = 1000, 60 * 60 * 1000
	ls := benchLabels(numSeries)
	const window = 8 * hour
	b.Run("impl=argus", func(b *testing.B) {
		db := openDB(b, b.TempDir(), &Options{OutOfOrderTimeWindow: window})
		defer db.Close()
		for ts := int64(0); ts < 4*hour; ts += 15_000 {
			app := db.Appender(context.Background())
			for i, l := range ls {
				if _, err := app.Append(0, l, ts, float64(i)); err != nil {
					b.Fatal(err)
				}
			}
			if err := app.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		if err := db.Compact(context.Background()); err != nil || db.minValid.Load() != 2*hour {
			b.Fatalf("cut the head: %v, head at %d", err, db.minValid.Load())
		}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			app := db.Appender(context.Background())
			for j, l := range ls {
				if _, err := app.Append(0, l, int64(1+i%(2*hour-1)), float64(j)); err != nil {
					b.Fatal(err)
				}
			}
			if err := app.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=upstream", func(b *testing.B) {
		opts := tsdb.DefaultOptions()
		opts.OutOfOrderTimeWindow = window
		db, err := tsdb.Open(b.TempDir(), nil, nil, opts, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		db.DisableCompactions()
		for ts := int64(0); ts < 4*hour; ts += 15_000 {
			app := db.Appender(context.Background())
			for i, l := range ls {
				if _, err := app.Append(0, l, ts, float64(i)); err != nil {
					b.Fatal(err)
				}
			}
			if err := app.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		if err := db.CompactHead(tsdb.NewRangeHead(db.Head(), 0, 2*hour-1)); err != nil || db.Head().MinTime() != 2*hour {
			b.Fatalf("cut the head: %v, head at %d", err, db.Head().MinTime())
		}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			app := db.Appender(context.Background())
			for j, l := range ls {
				if _, err := app.Append(0, l, int64(1+i%(2*hour-1)), float64(j)); err != nil {
					b.Fatal(err)
				}
			}
			if err := app.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
