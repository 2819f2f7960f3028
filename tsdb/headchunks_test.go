package tsdb

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

// fillSeries commits n samples per series at step ms from start and returns
// what a query must return.
func fillSeries(t testing.TB, db *DB, ls []labels.Labels, start, step int64, n int) map[string][]sample {
	t.Helper()
	want := map[string][]sample{}
	for i := range n {
		ts := start + int64(i)*step
		batch := make([]appendCase, len(ls))
		for j, l := range ls {
			v := float64(i*(j+1)) / 4
			batch[j] = appendCase{l, ts, v}
			want[l.String()] = append(want[l.String()], sample{ts, v})
		}
		commit(t, db, batch...)
	}
	return want
}

// seriesChunks returns the full chunks of the series with labels l.
func seriesChunks(t *testing.T, db *DB, l labels.Labels) []headChunk {
	t.Helper()
	s := db.series.getByHash(l.Hash(), l)
	if s == nil {
		t.Fatalf("series %s not in the head", l)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]headChunk(nil), s.chunks...)
}

func TestFullChunksLeaveMemory(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir, &Options{HeadChunkFileSize: 4096})
	ls := []labels.Labels{up1, up2, rq1}
	want := fillSeries(t, db, ls, 0, 15_000, 1000) // ~4 h of 15 s samples
	for _, l := range ls {
		cs := seriesChunks(t, db, l)
		if len(cs) < 7 {
			t.Fatalf("%s: %d full chunks, want at least 7", l, len(cs))
		}
		for i, c := range cs {
			if c.mem != nil {
				t.Fatalf("%s: full chunk %d still in memory", l, i)
			}
			// Chunks do not cross the 2 h chunk range.
			if c.minT/defaultChunkRange != c.maxT/defaultChunkRange {
				t.Fatalf("%s: chunk %d [%d, %d] crosses a chunk range boundary", l, i, c.minT, c.maxT)
			}
		}
	}
	if files, _ := os.ReadDir(filepath.Join(dir, headChunksDirName)); len(files) < 2 {
		t.Fatalf("chunks_head holds %d files, want several (4 KiB each)", len(files))
	}
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
	// A range inside one chunk on disk, and across chunks.
	sub := func(lo, hi int) map[string][]sample {
		m := map[string][]sample{}
		for k, v := range want {
			m[k] = v[lo:hi]
		}
		return m
	}
	assertData(t, sub(10, 20), query(t, db, 10*15_000, 19*15_000))
	assertData(t, sub(100, 900), query(t, db, 100*15_000, 899*15_000))

	t.Run("reopen", func(t *testing.T) {
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		db := openDB(t, dir, &Options{HeadChunkFileSize: 4096})
		defer db.Close()
		assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
		if cs := seriesChunks(t, db, up1); len(cs) < 7 || cs[0].minT != 0 {
			t.Fatalf("chunks after reopen: %d, first %+v", len(cs), cs[0])
		}
		// Appends continue after the newest replayed sample.
		more := fillSeries(t, db, ls, 1000*15_000, 15_000, 10)
		for k, v := range more {
			want[k] = append(want[k], v...)
		}
		assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
		if _, err := db.Appender(t.Context()).Append(0, up1, 999*15_000, 1); err == nil {
			t.Fatal("append older than the replayed chunks accepted")
		}
	})
}

// Chunks still in the write buffer are lost by a crash: the WAL brings
// their samples back.
func TestCrashWithBufferedChunks(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir, nil)
	want := fillSeries(t, db, []labels.Labels{up1, rq1}, 0, 10_000, 700)
	copied := t.TempDir()
	copyDir(t, dir, copied) // what a SIGKILL leaves
	db.Close()
	db2 := openDB(t, copied, nil)
	defer db2.Close()
	assertData(t, want, query(t, db2, math.MinInt64, math.MaxInt64))
}

// A damaged chunks_head file is repaired at Open; the WAL still has the
// samples of the chunks lost.
func TestCorruptHeadChunksRecoverFromWAL(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir, nil)
	want := fillSeries(t, db, []labels.Labels{up1, rq1}, 0, 10_000, 700)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, headChunksDirName, "000001")
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(name, b, 0o666); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, dir, nil)
	defer db.Close()
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
}

// The cut points follow Prometheus: 120 samples per chunk for a steady
// rate, at most 240 when the rate rises, never across the chunk range.
func TestChunkCutting(t *testing.T) {
	tests := []struct {
		name    string
		samples func(i int) int64
		n       int
		check   func(t *testing.T, sizes []int)
	}{
		{"steady 15s", func(i int) int64 { return int64(i) * 15_000 }, 480, func(t *testing.T, sizes []int) {
			for _, n := range sizes[:len(sizes)-1] {
				if n != 120 {
					t.Fatalf("chunk sizes %v, want 120 each", sizes)
				}
			}
		}},
		{"rate rises tenfold", func(i int) int64 {
			if i < 40 {
				return int64(i) * 10_000
			}
			return 400_000 + int64(i-40)*1000
		}, 1000, func(t *testing.T, sizes []int) {
			if sizes[0] != 240 {
				t.Fatalf("first chunk has %d samples, want the 240 cap (sizes %v)", sizes[0], sizes)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t, t.TempDir(), nil)
			defer db.Close()
			for i := range tc.n {
				commit(t, db, appendCase{up1, tc.samples(i), 1})
			}
			var sizes []int
			for _, c := range seriesChunks(t, db, up1) {
				_, b, err := db.chunks.Chunk(c.ref, nil)
				if err != nil {
					t.Fatal(err)
				}
				sizes = append(sizes, int(b[0])<<8|int(b[1]))
			}
			tc.check(t, sizes)
		})
	}
}
