package tsdb

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/wlog"
)

// after keeps the samples at or after mint, dropping series left empty.
func after(want map[string][]sample, mint int64) map[string][]sample {
	out := map[string][]sample{}
	for k, ss := range want {
		for _, s := range ss {
			if s.t >= mint {
				out[k] = append(out[k], s)
			}
		}
	}
	return out
}

func TestTruncateHead(t *testing.T) {
	dir := t.TempDir()
	opts := &Options{HeadChunkFileSize: 1024, WALSegmentSize: 32 * 1024}
	db := openDB(t, dir, opts)
	// up2 and the padding series (there to fill several WAL segments) stop
	// early and must be garbage collected; the others go on.
	early := []labels.Labels{up1, up2, rq1}
	for i := range 40 {
		early = append(early, labels.FromStrings("__name__", "pad", "job", "a", "i", fmt.Sprint(i)))
	}
	want := fillSeries(t, db, early, 0, 15_000, 300)
	more := fillSeries(t, db, []labels.Labels{up1, rq1}, 300*15_000, 15_000, 700)
	for k, v := range more {
		want[k] = append(want[k], v...)
	}
	walDir := filepath.Join(dir, walDirName)
	firstBefore, lastBefore, _ := wlog.Segments(walDir)
	filesBefore := db.chunks.Files()

	const mint = 600 * 15_000
	if err := db.truncateHead(mint); err != nil {
		t.Fatal(err)
	}
	// Chunks entirely before mint are gone, series up2 with them; the chunk
	// spanning mint stays whole.
	got := query(t, db, math.MinInt64, math.MaxInt64)
	for _, l := range early[3:] {
		delete(want, l.String())
	}
	if _, ok := got[up2.String()]; ok || db.numSer.Load() != 2 {
		t.Fatalf("series after truncation: %v (count %d)", keys(got), db.numSer.Load())
	}
	if vs, _ := db.Querier(0, math.MaxInt64); vs != nil {
		names, _ := vs.LabelValues(t.Context(), "job")
		if len(names) != 1 || names[0] != "a" {
			t.Fatalf("postings still list removed series: job values %v", names)
		}
	}
	// Per series, everything from the start of the chunk holding mint.
	kept := map[string][]sample{}
	for k, ss := range got {
		if first := ss[0].t; first > mint || first < mint-defaultChunkRange {
			t.Fatalf("%s: oldest sample after truncation %d, want the start of the chunk holding %d", k, first, mint)
		}
		kept[k] = after(want, ss[0].t)[k]
	}
	assertData(t, kept, got)
	// Old chunk files and WAL segments are gone, a checkpoint replaces them.
	if files := db.chunks.Files(); files[0] <= filesBefore[0] {
		t.Fatalf("chunk files %v after truncation, before %v", files, filesBefore)
	}
	firstAfter, _, _ := wlog.Segments(walDir)
	cp, cpIdx, err := wlog.LastCheckpoint(walDir)
	if err != nil || firstAfter != cpIdx+1 || firstAfter <= firstBefore {
		t.Fatalf("WAL after truncation: first segment %d (was %d..%d), checkpoint %s %d: %v", firstAfter, firstBefore, lastBefore, cp, cpIdx, err)
	}
	// Appends before mint are out of bounds; the same labels come back as
	// a new series.
	app := db.Appender(t.Context())
	if _, err := app.Append(0, up1, mint-1, 1); !errors.Is(err, storage.ErrOutOfBounds) {
		t.Fatalf("append before mint: %v, want ErrOutOfBounds", err)
	}
	app.Rollback()
	ts := int64(1000 * 15_000)
	commit(t, db, appendCase{up2, ts, 42})
	wantNow := kept
	wantNow[up2.String()] = []sample{{ts, 42}}
	assertData(t, wantNow, query(t, db, math.MinInt64, math.MaxInt64))

	// After a restart: the checkpoint, the chunks left and the rest of the
	// WAL give the same data, except what only the open chunk held before
	// mint, which the checkpoint dropped (as in Prometheus).
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, dir, opts)
	defer db.Close()
	got = query(t, db, math.MinInt64, math.MaxInt64)
	assertData(t, wantNow, got)
	if _, err := db.Appender(t.Context()).Append(0, rq1, mint-1, 1); !errors.Is(err, storage.ErrOutOfBounds) {
		t.Fatalf("append before the checkpoint's min valid time after restart: %v", err)
	}
	// A second truncation past everything empties the head.
	if err := db.truncateHead(math.MaxInt64 - 1); err != nil {
		t.Fatal(err)
	}
	if n := db.numSer.Load(); n != 0 {
		t.Fatalf("%d series left after truncating everything", n)
	}
	if files := db.chunks.Files(); len(files) != 0 {
		t.Fatalf("chunk files left after truncating everything: %v", files)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, headChunksDirName)); len(entries) != 0 {
		t.Fatalf("chunks_head not empty: %d entries", len(entries))
	}
}

// Appends racing with a truncation are not lost: a sample buffered for a
// series the truncation removes lands in the series recreated by labels.
func TestTruncateHeadDuringAppend(t *testing.T) {
	db := openDB(t, t.TempDir(), nil)
	defer db.Close()
	commit(t, db, appendCase{up1, 1000, 1})
	app := db.Appender(t.Context())
	if _, err := app.Append(0, up1, 5000, 5); err != nil {
		t.Fatal(err)
	}
	if err := db.truncateHead(2000); err != nil {
		t.Fatal(err)
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	assertData(t, map[string][]sample{up1.String(): {{5000, 5}}}, query(t, db, math.MinInt64, math.MaxInt64))
}

// Truncations while writers append and readers query: no race, no lost
// commit after the truncation point, no query error on data newer than it.
func TestTruncateHeadConcurrent(t *testing.T) {
	db := openDB(t, t.TempDir(), &Options{HeadChunkFileSize: 2048, WALSegmentSize: 32 * 1024})
	defer db.Close()
	ls := []labels.Labels{up1, up2, rq1, rq2}
	const rounds = 1500
	done := make(chan struct{})
	errc := make(chan error, 3)
	go func() {
		defer close(done)
		for i := range rounds {
			app := db.Appender(t.Context())
			for _, l := range ls {
				if _, err := app.Append(0, l, int64(i)*10_000, float64(i)); err != nil {
					errc <- err
					return
				}
			}
			if err := app.Commit(); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	// Truncation here bypasses the wait for readers that a block cut does,
	// so the reader publishes the oldest time it reads (under readMu) and
	// truncation stays behind it, however far a stalled reader lags.
	var readMu sync.Mutex
	readFloor := int64(math.MaxInt64)
	go func() {
		for {
			select {
			case <-done:
				errc <- nil
				return
			case <-time.After(time.Millisecond):
			}
			// Trail the writer by 50 rounds, as compaction trails ingestion,
			// once it has committed (maxT - 500_000 would wrap before).
			maxT := db.maxT.Load()
			if maxT == math.MinInt64 {
				continue
			}
			readMu.Lock()
			err := db.truncateHead(min(maxT-500_000, readFloor))
			readMu.Unlock()
			if err != nil {
				errc <- err
				return
			}
		}
	}()
	go func() {
		for {
			select {
			case <-done:
				errc <- nil
				return
			default:
			}
			readMu.Lock()
			mint := db.maxT.Load() - 1000
			readFloor = mint
			readMu.Unlock()
			q, err := db.Querier(mint, math.MaxInt64)
			if err != nil {
				errc <- err
				return
			}
			set := q.Select(t.Context(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "job", "a"))
			var it storage.Iterator
			for set.Next() {
				it = set.At().Iterator(it)
				for it.Next() != storage.ValNone {
				}
				if it.Err() != nil {
					errc <- it.Err()
					return
				}
			}
			q.Close()
			readMu.Lock()
			readFloor = math.MaxInt64
			readMu.Unlock()
		}
	}()
	for range 3 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	<-done
	got := query(t, db, (rounds-10)*10_000, math.MaxInt64)
	for _, l := range ls {
		if n := len(got[l.String()]); n != 10 {
			t.Fatalf("%s: %d of the last 10 samples", l, n)
		}
	}
}
