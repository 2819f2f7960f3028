package tsdb

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	upstreamstorage "github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/util/compression"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/wlog"
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

// BenchmarkWALReplay reports how long Open takes to rebuild a head from
// chunks_head and the WAL, for Argus and for Prometheus, and their ratio.
// Argus writes the directory as the server does (Series records, then
// Samples records in scrape-sized commits, full chunks m-mapped into
// chunks_head, the open chunks' samples only in the WAL); both servers then
// open identical copies of it, Prometheus's format being Argus's. The
// checkpoint cases first truncate the head at its oldest sample, which
// moves the older WAL segments into a checkpoint without dropping anything.
func BenchmarkWALReplay(b *testing.B) {
	for _, c := range []replayCase{
		{series: 100_000},
		{series: 100_000, checkpoint: true},
		{series: 1_000_000},
	} {
		name := fmt.Sprintf("series=%d", c.series)
		if c.checkpoint {
			name = "checkpoint/" + name
		}
		// Written once per case, not for each b.N the harness tries: in
		// directories of the parent, which outlive the runs of the case.
		adir, udir := b.TempDir(), b.TempDir()
		written := false
		b.Run(name, func(b *testing.B) {
			if !written {
				c.write(b, adir, udir)
				written = true
			}
			benchReplay(b, c, adir, udir)
		})
	}
}

type replayCase struct {
	series     int
	checkpoint bool
}

func (c replayCase) opts() *Options {
	if c.checkpoint {
		// Small segments, so that the checkpoint takes most of the WAL.
		return &Options{WALSegmentSize: 4 << 20}
	}
	return &Options{}
}

// write fills adir as the server would and copies it to udir.
func (c replayCase) write(b *testing.B, adir, udir string) {
	db := openDB(b, adir, c.opts())
	benchFill(b, func() storage.Appender { return db.Appender(context.Background()) }, benchLabels(c.series))
	if c.checkpoint {
		if err := db.truncateHead(benchHeadBase); err != nil {
			b.Fatal(err)
		}
		if _, _, err := wlog.LastCheckpoint(filepath.Join(adir, walDirName)); err != nil {
			b.Fatalf("no checkpoint: %v", err)
		}
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.CopyFS(udir, os.DirFS(adir)); err != nil {
		b.Fatal(err)
	}
}

func benchReplay(b *testing.B, c replayCase, adir, udir string) {
	numSeries, opts := c.series, c.opts()
	b.ResetTimer()
	var argus, upstream replayCost
	for i := 0; i < b.N; i++ {
		db := argus.measure(func() io.Closer { return openDB(b, adir, opts) }).(*DB)
		if n := db.numSer.Load(); n != int64(numSeries) {
			b.Fatalf("Argus replayed %d series, want %d", n, numSeries)
		}
		closeUntimed(b, db)
		udb := upstream.measure(func() io.Closer { return openUpstream(b, udir) }).(*tsdb.DB)
		if n := udb.Head().NumSeries(); n != uint64(numSeries) {
			b.Fatalf("upstream replayed %d series, want %d", n, numSeries)
		}
		closeUntimed(b, udb)
	}
	n := float64(b.N)
	b.ReportMetric(argus.ms()/n, "ms/replay")
	b.ReportMetric(upstream.ms()/n, "upstream-ms/replay")
	b.ReportMetric(argus.ms()/upstream.ms(), "argus/upstream")
	b.ReportMetric(float64(argus.allocs)/n, "allocs/replay")
	b.ReportMetric(float64(upstream.allocs)/n, "upstream-allocs/replay")
}

// replayCost sums the wall time and heap allocations of opens.
type replayCost struct {
	d      time.Duration
	allocs uint64
}

// measure adds the cost of open, run after collecting the garbage of the
// previous one, and returns what it opened.
func (c *replayCost) measure(open func() io.Closer) io.Closer {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	db := open()
	c.d += time.Since(start)
	runtime.ReadMemStats(&after)
	c.allocs += after.Mallocs - before.Mallocs
	return db
}

func closeUntimed(b *testing.B, db io.Closer) {
	b.StopTimer()
	defer b.StartTimer()
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
}

func (c *replayCost) ms() float64 { return float64(c.d) / float64(time.Millisecond) }
