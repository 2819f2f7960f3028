// Format compatibility of the head's on-disk state beyond the WAL:
// chunks_head files and WAL checkpoints, checked against Prometheus's own
// tsdb package (a test-only dependency).

package tsdb

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/labels"
	upstorage "github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	upchunkenc "github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	upwlog "github.com/prometheus/prometheus/tsdb/wlog"
	"github.com/prometheus/prometheus/util/compression"

	"github.com/argusmon/argus/tsdb/headchunks"
)

// compatSeries are appended in this order by both servers, so that both
// give them the same references.
var compatSeries = []labels.Labels{up1, up2, rq1, rq2}

// compatSchedule says whether series j has a sample at second sec of a
// 2.5 h run: a steady 15 s series, a 1 s one, one whose rate rises tenfold
// after 30 min, and one at jittered 7-11 s intervals. The run crosses a 2 h
// chunk range boundary and stays under 3 h, so upstream does not compact
// its head into a block.
func compatSchedule(sec, j int) bool {
	switch j {
	case 0:
		return sec%15 == 0
	case 1:
		return true
	case 2:
		return sec >= 1800 || sec%10 == 0
	default:
		return sec%7 == (sec/7)%5
	}
}

const (
	compatBase    = 1_700_000_000_000
	compatSeconds = 9000
)

// ckptTimestamp is sample i of the checkpoint tests: 1500 of them span
// just over 2 h.
func ckptTimestamp(i int) int64 { return compatBase + int64(i)*5000 }

// padSeries returns n series that give the WAL volume.
func padSeries(n int) []labels.Labels {
	ls := make([]labels.Labels, n)
	for i := range ls {
		ls[i] = labels.FromStrings("__name__", "pad", "i", fmt.Sprint(i))
	}
	return ls
}

// upstreamQuery returns every series' samples in [mint, maxt] from an
// upstream DB.
func upstreamQuery(t *testing.T, udb *tsdb.DB, mint, maxt int64) map[string][]sample {
	t.Helper()
	q, err := udb.Querier(mint, maxt)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	return upstreamSamples(t, q)
}

// upstreamSamples reads every series' samples through an upstream querier,
// keyed by the series' label string.
func upstreamSamples(t *testing.T, q upstorage.Querier) map[string][]sample {
	t.Helper()
	set := q.Select(context.Background(), true, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+"))
	got := map[string][]sample{}
	var it upchunkenc.Iterator
	for set.Next() {
		s := set.At()
		it = s.Iterator(it)
		for it.Next() == upchunkenc.ValFloat {
			ts, v := it.At()
			got[s.Labels().String()] = append(got[s.Labels().String()], sample{ts, v})
		}
		if it.Err() != nil {
			t.Fatal(it.Err())
		}
	}
	if set.Err() != nil {
		t.Fatal(set.Err())
	}
	return got
}

type scannedChunk struct {
	minT, maxT int64
	data       string
}

// scanHeadChunks reads a chunks_head directory with Argus's reader.
func scanHeadChunks(t *testing.T, dir string) map[uint64][]scannedChunk {
	t.Helper()
	out := map[uint64][]scannedChunk{}
	m, err := headchunks.Open(filepath.Join(dir, headChunksDirName), headchunks.Options{}, func(c headchunks.Chunk) error {
		out[c.SeriesRef] = append(out[c.SeriesRef], scannedChunk{c.MinT, c.MaxT, string(c.Data)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	return out
}

// Fed the same samples, Argus cuts and writes exactly the chunks Prometheus
// does: same boundaries, same bytes, same series references.
func TestHeadChunksMatchUpstream(t *testing.T) {
	udir, adir := t.TempDir(), t.TempDir()
	udb, err := tsdb.Open(udir, nil, nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	db := openDB(t, adir, nil)
	for sec := range compatSeconds {
		uapp := udb.Appender(context.Background())
		var batch []appendCase
		for j, l := range compatSeries {
			if !compatSchedule(sec, j) {
				continue
			}
			ts, v := compatBase+int64(sec)*1000, float64(sec%13)*0.25
			if _, err := uapp.Append(0, l, ts, v); err != nil {
				t.Fatal(err)
			}
			batch = append(batch, appendCase{l, ts, v})
		}
		if err := uapp.Commit(); err != nil {
			t.Fatal(err)
		}
		if len(batch) > 0 {
			commit(t, db, batch...)
		}
	}
	if err := udb.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	want, got := scanHeadChunks(t, udir), scanHeadChunks(t, adir)
	if len(want) != len(compatSeries) {
		t.Fatalf("upstream wrote chunks for %d series, want %d", len(want), len(compatSeries))
	}
	for ref, w := range want {
		g := got[ref]
		if len(g) != len(w) {
			t.Fatalf("series %d: Argus wrote %d chunks, upstream %d", ref, len(g), len(w))
		}
		for i := range w {
			if g[i] != w[i] {
				t.Fatalf("series %d chunk %d: Argus [%d, %d] %d bytes, upstream [%d, %d] %d bytes (equal data %v)",
					ref, i, g[i].minT, g[i].maxT, len(g[i].data), w[i].minT, w[i].maxT, len(w[i].data), g[i].data == w[i].data)
			}
		}
	}
}

// Prometheus opens a data directory whose head Argus truncated (WAL
// checkpoint, trimmed chunks_head) and sees the data Argus sees.
func TestUpstreamReadsArgusCheckpoint(t *testing.T) {
	dir := t.TempDir()
	opts := &Options{WALSegmentSize: 32 * 1024, HeadChunkFileSize: 4096}
	db := openDB(t, dir, opts)
	const n = 1500
	fill := func(from, to int, series []labels.Labels) {
		for i := from; i < to; i++ {
			var batch []appendCase
			for _, l := range series {
				batch = append(batch, appendCase{l, ckptTimestamp(i), float64(i) / 8})
			}
			commit(t, db, batch...)
		}
	}
	fill(0, 200, append(padSeries(40), compatSeries...)) // all but up1 stop early
	fill(200, n, []labels.Labels{up1})
	mint := ckptTimestamp(1000)
	if err := db.truncateHead(mint); err != nil {
		t.Fatal(err)
	}
	if _, idx, err := upwlog.LastCheckpoint(filepath.Join(dir, walDirName)); err != nil {
		t.Fatalf("upstream finds no checkpoint in Argus's WAL: %v", err)
	} else if minValid, ok, err := upwlog.ReadMinValidTime(filepath.Join(dir, walDirName)); err != nil || !ok || minValid != mint {
		t.Fatalf("upstream reads min valid time %d (ok %v, err %v) from checkpoint %d, want %d", minValid, ok, err, idx, mint)
	}
	fill(n, n+100, []labels.Labels{up1})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, dir, opts)
	want := query(t, db, mint, math.MaxInt64)
	db.Close()
	if len(want[up1.String()]) != n+100-1000 || len(want) != 1 {
		t.Fatalf("Argus after truncation: %d series, %d samples of up1", len(want), len(want[up1.String()]))
	}

	uopts := tsdb.DefaultOptions()
	uopts.WALSegmentSize = 32 * 1024
	udb, err := tsdb.Open(dir, nil, nil, uopts, nil)
	if err != nil {
		t.Fatalf("upstream open of a truncated Argus directory: %v", err)
	}
	defer udb.Close()
	assertData(t, want, upstreamQuery(t, udb, mint, math.MaxInt64))
}

// Argus opens a WAL that Prometheus checkpointed, with chunks_head files
// Prometheus wrote.
func TestArgusReadsUpstreamCheckpoint(t *testing.T) {
	dir := t.TempDir()
	uopts := tsdb.DefaultOptions()
	uopts.WALSegmentSize = 32 * 1024
	udb, err := tsdb.Open(dir, nil, nil, uopts, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 1500
	all := append(slices.Clone(compatSeries), padSeries(40)...)
	for i := range n {
		app := udb.Appender(context.Background())
		for j, l := range all {
			if j > 0 && i >= 200 {
				break // only up1 goes on; the others end up dropped
			}
			if _, err := app.Append(0, l, ckptTimestamp(i), float64(i)/8); err != nil {
				t.Fatal(err)
			}
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	want := upstreamQuery(t, udb, math.MinInt64, math.MaxInt64)
	if err := udb.Close(); err != nil {
		t.Fatal(err)
	}

	// Checkpoint as Prometheus's head truncation would: only up1 (ref 1)
	// survives, samples from mint on.
	mint := ckptTimestamp(1000)
	walDir := filepath.Join(dir, walDirName)
	w, err := upwlog.NewSize(promslog.NewNopLogger(), nil, walDir, 32*1024, compression.Snappy)
	if err != nil {
		t.Fatal(err)
	}
	first, last, err := upwlog.Segments(walDir)
	if err != nil || last-first < 3 {
		t.Fatalf("upstream WAL segments %d..%d (%v), want several", first, last, err)
	}
	keep := func(ref chunks.HeadSeriesRef) bool { return ref == 1 }
	if _, err := upwlog.Checkpoint(promslog.NewNopLogger(), w, first, last-1, keep, mint, false, true); err != nil {
		t.Fatal(err)
	}
	if err := w.Truncate(last); err != nil {
		t.Fatal(err)
	}
	w.Close()

	db := openDB(t, dir, nil)
	defer db.Close()
	got := query(t, db, mint, math.MaxInt64)
	wantAfter := map[string][]sample{up1.String(): after(want, mint)[up1.String()]}
	assertData(t, wantAfter, got)
	for _, l := range all[1:] {
		if s := db.series.getByHash(l.Hash(), l); s != nil {
			t.Fatalf("series %s dropped by the checkpoint is in the head", l)
		}
	}
	// Appends before the checkpoint's min valid time are refused.
	app := db.Appender(context.Background())
	if _, err := app.Append(0, up1, mint-1, 0); err == nil {
		t.Fatal("append before the min valid time accepted")
	}
	app.Rollback()
}
