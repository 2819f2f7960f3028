package tsdb

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/headchunks"
	"github.com/argusmon/argus/tsdb/record"
	"github.com/argusmon/argus/tsdb/wlog"
)

// Every sample reads back after a restart whatever the number of replay
// workers, from chunks spread over several chunks_head files, a WAL of
// several segments and, with a checkpoint, from both.
func TestReplayManyShards(t *testing.T) {
	for _, tc := range []struct {
		name       string
		procs      int
		checkpoint bool
	}{
		{"one worker", 1, false},
		{"eight workers", 8, false},
		{"eight workers with checkpoint", 8, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(tc.procs))
			dir := t.TempDir()
			opts := &Options{WALSegmentSize: 64 << 10, HeadChunkFileSize: 64 << 10}
			db := openDB(t, dir, opts)
			ls := benchLabels(100)
			// 400 samples at 15 s: three full chunks on disk, the rest only
			// in the WAL.
			want := fillSeries(t, db, ls, 0, 15_000, 400)
			if tc.checkpoint {
				if err := db.truncateHead(0); err != nil {
					t.Fatal(err)
				}
				if _, _, err := wlog.LastCheckpoint(filepath.Join(dir, walDirName)); err != nil {
					t.Fatalf("no checkpoint: %v", err)
				}
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			if files := len(mustReadDir(t, filepath.Join(dir, headChunksDirName))); files < 2 {
				t.Fatalf("%d chunks_head files, want several", files)
			}
			db = openDB(t, dir, opts)
			defer db.Close()
			assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
			if n := db.numSer.Load(); n != int64(len(ls)) {
				t.Fatalf("%d series after replay, want %d", n, len(ls))
			}
			// Appends carry on after the newest replayed sample.
			commit(t, db, appendCase{ls[0], 400 * 15_000, 1})
		})
	}
}

func mustReadDir(t *testing.T, dir string) []os.DirEntry {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// A Prometheus WAL may log a series twice, under its reference or, after a
// restart without a checkpoint, under a new one; samples of unknown
// references are dropped and counted.
func TestReplayDuplicateSeriesAndUnknownRefs(t *testing.T) {
	dir := t.TempDir()
	w, err := wlog.Open(filepath.Join(dir, walDirName), wlog.Options{Compress: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := up1, rq1
	recs := [][]byte{
		record.EncodeSeries([]record.RefSeries{{Ref: 1, Labels: a}, {Ref: 2, Labels: b}}, nil),
		record.EncodeSamples([]record.RefSample{{Ref: 1, T: 1000, V: 1}, {Ref: 2, T: 1000, V: 10}}, nil),
		// The same series again, under its reference and under a new one.
		record.EncodeSeries([]record.RefSeries{{Ref: 1, Labels: a}, {Ref: 7, Labels: a}}, nil),
		record.EncodeSamples([]record.RefSample{{Ref: 7, T: 2000, V: 2}, {Ref: 2, T: 2000, V: 20}, {Ref: 99, T: 2000, V: 99}}, nil),
		record.EncodeSamples([]record.RefSample{{Ref: 1, T: 3000, V: 3}, {Ref: 98, T: 3000, V: 98}}, nil),
	}
	for _, rec := range recs {
		if err := w.Log(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	db := openDB(t, dir, &Options{Logger: slogTo(&logs)})
	defer db.Close()
	assertData(t, map[string][]sample{
		a.String(): {{1000, 1}, {2000, 2}, {3000, 3}},
		b.String(): {{1000, 10}, {2000, 20}},
	}, query(t, db, math.MinInt64, math.MaxInt64))
	if n := db.numSer.Load(); n != 2 {
		t.Errorf("%d series, want 2", n)
	}
	if !strings.Contains(logs.String(), `msg="Dropped logged samples of unknown series" samples=2`) {
		t.Errorf("unknown references not reported:\n%s", logs.String())
	}
	// A new series gets a reference above every logged one.
	ref, err := db.Appender(context.Background()).Append(0, up2, 4000, 1)
	if err != nil || ref <= 7 {
		t.Errorf("new series got reference %d (%v), want above 7", ref, err)
	}
}

// When the WAL lost the samples after the newest full chunk, replay takes
// the newest sample, value included, from that chunk: a repeat of it is a
// no-op and a different value a duplicate.
func TestReplayNewestSampleFromChunk(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir, nil)
	want := fillSeries(t, db, []labels.Labels{up1}, 0, 15_000, 120)
	seg := wlog.SegmentName(filepath.Join(dir, walDirName), 0)
	fi, err := os.Stat(seg)
	if err != nil {
		t.Fatal(err)
	}
	// The next sample cuts the full chunk to chunks_head.
	commit(t, db, appendCase{up1, 120 * 15_000, 5})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(seg, fi.Size()); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, dir, nil)
	defer db.Close()
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
	last := want[up1.String()][119]
	for _, tc := range []struct {
		v    float64
		want error
	}{
		{last.v, nil},
		{last.v + 1, storage.ErrDuplicateSampleForTimestamp},
	} {
		app := db.Appender(context.Background())
		if _, err := app.Append(0, up1, last.t, tc.v); !errors.Is(err, tc.want) {
			t.Errorf("append of the newest sample's timestamp with value %v: got %v, want %v", tc.v, err, tc.want)
		}
		app.Rollback()
	}
}

// A last chunk whose checksum holds but whose samples contradict its
// header is dropped with the series' other chunks, and the WAL's copy of
// their samples replayed instead.
func TestReplayUnreadableLastChunk(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir, nil)
	want := fillSeries(t, db, []labels.Labels{up1, rq1}, 0, 15_000, 250)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Claim the last chunk of every series ends after all of its samples.
	name := filepath.Join(dir, headChunksDirName, "000001")
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	lastOf := map[uint64]int{}
	m, err := headchunks.Open(filepath.Join(dir, headChunksDirName), headchunks.Options{}, func(c headchunks.Chunk) error {
		_, off := c.Ref.Unpack()
		lastOf[c.SeriesRef] = off
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if len(lastOf) != 2 {
		t.Fatalf("chunks of %d series on disk, want 2", len(lastOf))
	}
	for _, off := range lastOf {
		binary.BigEndian.PutUint64(b[off+16:], 1<<40)
		n, w := binary.Uvarint(b[off+25:])
		end := off + 25 + w + int(n)
		binary.BigEndian.PutUint32(b[end:], crc32.Checksum(b[off:end], crc32.MakeTable(crc32.Castagnoli)))
	}
	if err := os.WriteFile(name, b, 0o666); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	db = openDB(t, dir, &Options{Logger: slogTo(&logs)})
	defer db.Close()
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
	if got := strings.Count(logs.String(), "Drop the head chunks of a series whose last chunk cannot be read"); got != 2 {
		t.Errorf("%d series reported with unreadable chunks, want 2:\n%s", got, logs.String())
	}
	// Appends carry on after the newest replayed sample.
	commit(t, db, appendCase{up1, 250 * 15_000, 1})
	want[up1.String()] = append(want[up1.String()], sample{250 * 15_000, 1})
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
}

// A Samples record cut short, though intact in the log, fails Open rather
// than replaying part of the head.
func TestReplayMalformedSamplesRecord(t *testing.T) {
	dir := t.TempDir()
	w, err := wlog.Open(filepath.Join(dir, walDirName), wlog.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	samples := record.EncodeSamples([]record.RefSample{{Ref: 1, T: 1000, V: 1}, {Ref: 1, T: 2000, V: 2}}, nil)
	for _, rec := range [][]byte{
		record.EncodeSeries([]record.RefSeries{{Ref: 1, Labels: up1}}, nil),
		samples[:len(samples)-3],
	} {
		if err := w.Log(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err := Open(dir, &Options{DisableCompaction: true}); err == nil {
		db.Close()
		t.Fatal("Open succeeded on a malformed Samples record")
	} else if !strings.Contains(err.Error(), "decode samples record") {
		t.Fatalf("Open = %v, want a decoding error", err)
	}
}
