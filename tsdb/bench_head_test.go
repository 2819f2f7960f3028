package tsdb

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	upstreamstorage "github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/util/compression"

	"github.com/argusmon/argus/storage"
)

// Sizes of the head benchmarks: 100k active series with 130 samples each
// (one full chunk, then 10 samples in the open one) at a 15 s interval,
// committed in batches of 1000 series as a scrape would.
const (
	benchHeadSeries  = 100_000
	benchHeadSamples = 130
	benchHeadBatch   = 1000
	// benchHeadBase is aligned to the 2 h chunk range so that chunks are cut
	// by sample count alone.
	benchHeadBase = 1_699_999_200_000
)

// appendFunc appends one sample; ref is the caller's cached reference.
type appendFunc func(app storage.Appender, ref storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error)

// benchFill commits benchHeadSamples samples for every series.
func benchFill(b *testing.B, newApp func() storage.Appender, ls []labels.Labels) {
	b.Helper()
	refs := make([]storage.SeriesRef, len(ls))
	for s := range benchHeadSamples {
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

// upstreamAppender adapts Prometheus's appender to storage.Appender,
// passing the caller's cached reference through as a scraper does.
type upstreamAppender struct{ app upstreamstorage.Appender }

func (u upstreamAppender) Append(ref storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	r, err := u.app.Append(upstreamstorage.SeriesRef(ref), l, t, v)
	return storage.SeriesRef(r), err
}
func (u upstreamAppender) Commit() error   { return u.app.Commit() }
func (u upstreamAppender) Rollback() error { return u.app.Rollback() }

func newUpstreamAppender(udb *tsdb.DB) storage.Appender {
	return upstreamAppender{app: udb.Appender(context.Background())}
}

// openUpstream opens Prometheus's tsdb with its defaults but for the WAL,
// snappy-compressed as Prometheus's server and Argus default to.
func openUpstream(b *testing.B, dir string) *tsdb.DB {
	b.Helper()
	opts := tsdb.DefaultOptions()
	opts.WALCompression = compression.Snappy
	udb, err := tsdb.Open(dir, nil, nil, opts, nil)
	if err != nil {
		b.Fatal(err)
	}
	return udb
}

// BenchmarkWALReplay reports how long Open takes to rebuild a head of 100k
// series from chunks_head and the WAL, for Argus and for Prometheus each on
// the directory it wrote, and their ratio.
func BenchmarkWALReplay(b *testing.B) {
	ls := benchLabels(benchHeadSeries)
	adir, udir := b.TempDir(), b.TempDir()
	db := openDB(b, adir, nil)
	benchFill(b, func() storage.Appender { return db.Appender(context.Background()) }, ls)
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	udb := openUpstream(b, udir)
	benchFill(b, func() storage.Appender { return newUpstreamAppender(udb) }, ls)
	if err := udb.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var argus, upstream time.Duration
	for i := 0; i < b.N; i++ {
		start := time.Now()
		db := openDB(b, adir, nil)
		argus += time.Since(start)
		if n := db.numSer.Load(); n != benchHeadSeries {
			b.Fatalf("replayed %d series", n)
		}
		db.Close()

		start = time.Now()
		udb := openUpstream(b, udir)
		upstream += time.Since(start)
		udb.Close()
	}
	b.ReportMetric(float64(argus.Milliseconds())/float64(b.N), "ms/replay")
	b.ReportMetric(float64(upstream.Milliseconds())/float64(b.N), "upstream-ms/replay")
	b.ReportMetric(float64(argus)/float64(upstream), "argus/upstream")
}
