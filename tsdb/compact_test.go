package tsdb

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/block"
)

// testRange is the block range of these tests: 100 s, with a sample per
// second and series.
const testRange = 100_000

func manySeries(n int) []labels.Labels {
	ls := []labels.Labels{up1, up2, rq1}
	for i := range n {
		ls = append(ls, labels.FromStrings("__name__", "pad", "job", "b", "i", fmt.Sprint(i)))
	}
	return ls
}

// blockRanges returns the loaded blocks' [MinTime, MaxTime) ranges.
func blockRanges(db *DB) [][2]int64 {
	var out [][2]int64
	for _, m := range db.Blocks() {
		out = append(out, [2]int64{m.MinTime, m.MaxTime})
	}
	return out
}

func rangesOf(bounds ...int64) [][2]int64 {
	var out [][2]int64
	for i := 0; i+1 < len(bounds); i++ {
		out = append(out, [2]int64{bounds[i], bounds[i+1]})
	}
	return out
}

func TestCutBlocksAndRestart(t *testing.T) {
	dir := t.TempDir()
	// One level only: this test is about cutting, not merging.
	opts := &Options{MinBlockDuration: testRange, MaxBlockDuration: testRange}
	db := openDB(t, dir, opts)
	ls := manySeries(5)
	want := fillSeries(t, db, ls, 0, 1000, 450) // [0, 449 s]
	if err := db.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The head keeps at most 1.5 ranges: 449 s - 300 s.
	if got, w := blockRanges(db), rangesOf(0, 100_000, 200_000, 300_000); !slices.Equal(got, w) {
		t.Fatalf("blocks %v, want %v", got, w)
	}
	for _, m := range db.Blocks() {
		if m.Stats.NumSeries != uint64(len(ls)) || m.Stats.NumSamples != uint64(len(ls)*100) || m.Compaction.Level != 1 {
			t.Fatalf("block meta %+v", m)
		}
	}
	// The head gave up what the blocks hold.
	if _, found := db.headMinTime(); !found || db.minValid.Load() != 300_000 {
		t.Fatalf("head min valid %d, want 300000", db.minValid.Load())
	}
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
	// A range across a block boundary and into the head.
	sub := func(lo, hi int64) map[string][]sample {
		m := map[string][]sample{}
		for k, ss := range want {
			for _, s := range ss {
				if s.t >= lo && s.t <= hi {
					m[k] = append(m[k], s)
				}
			}
		}
		return m
	}
	assertData(t, sub(150_000, 320_000), query(t, db, 150_000, 320_000))
	if _, err := db.Appender(t.Context()).Append(0, labels.FromStrings("__name__", "new"), 299_000, 1); !errors.Is(err, storage.ErrOutOfBounds) {
		t.Fatalf("append into a cut block's range: %v, want ErrOutOfBounds", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = openDB(t, dir, opts)
	defer db.Close()
	if got := len(db.Blocks()); got != 3 {
		t.Fatalf("reopened with %d blocks, want 3", got)
	}
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
	assertData(t, sub(150_000, 320_000), query(t, db, 150_000, 320_000))
	q, _ := db.Querier(math.MinInt64, math.MaxInt64)
	defer q.Close()
	if names, _ := q.LabelValues(t.Context(), "__name__"); !slices.Equal(names, []string{"pad", "requests_total", "up"}) {
		t.Fatalf("metric names %v", names)
	}
	more := fillSeries(t, db, ls, 450_000, 1000, 10)
	for k, v := range more {
		want[k] = append(want[k], v...)
	}
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
}

func TestCompactThreeBlocks(t *testing.T) {
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	db := openDB(t, dir, &Options{MinBlockDuration: testRange, Registerer: reg})
	ls := manySeries(3)
	want := fillSeries(t, db, ls, 0, 1000, 550)
	if err := db.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Four blocks cut; the three of [0, 300 s) fill a level-2 range and are
	// merged, the newest is left alone.
	if got, w := blockRanges(db), rangesOf(0, 300_000, 400_000); !slices.Equal(got, w) {
		t.Fatalf("blocks %v, want %v", got, w)
	}
	merged := db.Blocks()[0]
	c := merged.Compaction
	if c.Level != 2 || len(c.Parents) != 3 || len(c.Sources) != 3 || !slices.IsSorted(c.Sources) ||
		merged.Stats.NumSamples != uint64(len(ls)*300) || merged.Stats.NumSeries != uint64(len(ls)) {
		t.Fatalf("merged block meta %+v", merged)
	}
	if got := gathered(t, reg, "argus_tsdb_compactions_total"); got != 5 {
		t.Fatalf("compactions_total %v, want 5 (4 cuts, 1 merge)", got)
	}
	if got := gathered(t, reg, "argus_tsdb_blocks_loaded"); got != 2 {
		t.Fatalf("blocks_loaded %v, want 2", got)
	}
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Parents {
		if _, err := os.Stat(filepath.Join(dir, p.ULID)); !os.IsNotExist(err) {
			t.Fatalf("parent block %s still on disk: %v", p.ULID, err)
		}
	}
	db = openDB(t, dir, nil)
	defer db.Close()
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
}

func TestQuerierSurvivesCompaction(t *testing.T) {
	dir := t.TempDir()
	// First only cut blocks, then reopen with levels to merge them.
	db := openDB(t, dir, &Options{MinBlockDuration: testRange, MaxBlockDuration: testRange})
	ls := manySeries(3)
	want := fillSeries(t, db, ls, 0, 1000, 550)
	if err := db.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, dir, &Options{MinBlockDuration: testRange})
	defer db.Close()
	before := db.Blocks()
	if len(before) != 4 {
		t.Fatalf("%d blocks, want 4", len(before))
	}

	q, err := db.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	set := q.Select(t.Context(), true, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+"))
	done := make(chan error, 1)
	go func() { done <- db.Compact(t.Context()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Compact blocked on an open querier")
	}
	if got := len(db.Blocks()); got != 2 {
		t.Fatalf("%d blocks after compaction, want 2", got)
	}
	// The old querier reads the replaced blocks, still on disk.
	got := map[string][]sample{}
	var it storage.Iterator
	for set.Next() {
		s := set.At()
		it = s.Iterator(it)
		for it.Next() == storage.ValFloat {
			ts, v := it.At()
			got[s.Labels().String()] = append(got[s.Labels().String()], sample{ts, v})
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := set.Err(); err != nil {
		t.Fatal(err)
	}
	assertData(t, want, got)
	if _, err := os.Stat(before[0].ULID); err == nil {
		t.Fatal("test bug: ULID is not a path")
	}
	if _, err := os.Stat(filepath.Join(dir, before[0].ULID)); err != nil {
		t.Fatalf("replaced block deleted under an open querier: %v", err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	db.deletions.Wait()
	if _, err := os.Stat(filepath.Join(dir, before[0].ULID)); !os.IsNotExist(err) {
		t.Fatalf("replaced block still on disk after its last querier closed: %v", err)
	}
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
}

func TestRetention(t *testing.T) {
	ls := manySeries(20)
	for _, tc := range []struct {
		name string
		// opts gets MaxBytes from the sizes of the head and the blocks of
		// an unlimited run.
		opts       func(head int64, blocks []int64) Options
		wantRanges [][2]int64
		metric     string
	}{
		{
			name:       "time",
			opts:       func(int64, []int64) Options { return Options{RetentionDuration: 250_000} },
			wantRanges: rangesOf(600_000, 700_000, 800_000, 900_000),
			metric:     "argus_tsdb_time_retentions_total",
		},
		{
			name: "size",
			opts: func(head int64, blocks []int64) Options {
				n := len(blocks)
				return Options{MaxBytes: head + blocks[n-1] + blocks[n-2] + blocks[n-3]/2}
			},
			wantRanges: rangesOf(700_000, 800_000, 900_000),
			metric:     "argus_tsdb_size_retentions_total",
		},
		{
			name:       "forever",
			opts:       func(int64, []int64) Options { return Options{RetentionDuration: -1} },
			wantRanges: rangesOf(0, 100_000, 200_000, 300_000, 400_000, 500_000, 600_000, 700_000, 800_000, 900_000),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			base := Options{MinBlockDuration: testRange, MaxBlockDuration: testRange, RetentionDuration: -1}
			db := openDB(t, dir, &base)
			want := fillSeries(t, db, ls, 0, 1000, 1000)
			if err := db.Compact(t.Context()); err != nil {
				t.Fatal(err)
			}
			var sizes []int64
			db.blocksMu.RLock()
			for _, b := range db.blocks {
				sizes = append(sizes, b.Size())
			}
			db.blocksMu.RUnlock()
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			// The head's files as the reopened DB will count them.
			probe := openDB(t, dir, &base)
			head := probe.headSize()
			probe.Close()

			opts := tc.opts(head, sizes)
			opts.MinBlockDuration, opts.MaxBlockDuration = testRange, testRange
			reg := prometheus.NewRegistry()
			opts.Registerer = reg
			db = openDB(t, dir, &opts)
			defer db.Close()
			if err := db.Compact(t.Context()); err != nil {
				t.Fatal(err)
			}
			if got := blockRanges(db); !slices.Equal(got, tc.wantRanges) {
				t.Fatalf("blocks %v, want %v", got, tc.wantRanges)
			}
			if tc.metric != "" && gathered(t, reg, tc.metric) != 1 {
				t.Fatalf("%s = %v, want 1", tc.metric, gathered(t, reg, tc.metric))
			}
			assertData(t, after(want, tc.wantRanges[0][0]), query(t, db, math.MinInt64, math.MaxInt64))
		})
	}
}

func TestOpenCleansUp(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir, &Options{MinBlockDuration: testRange, MaxBlockDuration: testRange})
	want := fillSeries(t, db, manySeries(2), 0, 1000, 350)
	if err := db.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	metas := db.Blocks()
	if len(metas) != 2 {
		t.Fatalf("%d blocks, want 2", len(metas))
	}
	db.Close()

	// A crash while writing a block, while deleting one, and after a
	// compaction wrote its block but before it deleted the parent: the
	// parent's data is in its child, which names it.
	for _, d := range []string{"01ARZ3NDEKTSV4RRFFQ69G5FAV.tmp", "01ARZ3NDEKTSV4RRFFQ69G5FAW.tmp-for-deletion"} {
		if err := os.MkdirAll(filepath.Join(dir, d, "chunks"), 0o777); err != nil {
			t.Fatal(err)
		}
	}
	parent := metas[0]
	child, err := block.ReadMeta(filepath.Join(dir, metas[1].ULID))
	if err != nil {
		t.Fatal(err)
	}
	child.Compaction.Parents = []block.Desc{{ULID: parent.ULID, MinTime: parent.MinTime, MaxTime: parent.MaxTime}}
	if err := block.WriteMeta(filepath.Join(dir, metas[1].ULID), child); err != nil {
		t.Fatal(err)
	}

	db = openDB(t, dir, nil)
	defer db.Close()
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{metas[1].ULID, headChunksDirName, walDirName, wblDirName}; !slices.Equal(names, want) {
		t.Fatalf("data directory holds %v, want %v", names, want)
	}
	assertData(t, after(want, 100_000), query(t, db, math.MinInt64, math.MaxInt64))
}

func TestOutOfBounds(t *testing.T) {
	const win = 50_000
	for _, tc := range []struct {
		name   string
		window int64
		t      int64
		want   error
	}{
		{"newest", 0, 449_000, storage.ErrDuplicateSampleForTimestamp},
		{"new series within half a range", 0, 400_000, nil},
		{"new series beyond half a range", 0, 398_000, storage.ErrOutOfBounds},
		{"in a cut block", 0, 250_000, storage.ErrOutOfBounds},
		{"out of order window, new series", win, 400_000, nil},
		// As in Prometheus, the window reaches into the blocks.
		{"out of order window reaching into a cut block", 1_000_000, 250_000, nil},
		{"cut block beyond the out of order window", 100_000, 250_000, storage.ErrTooOldSample},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t, t.TempDir(), &Options{MinBlockDuration: testRange, OutOfOrderTimeWindow: tc.window})
			defer db.Close()
			fillSeries(t, db, []labels.Labels{up1}, 0, 1000, 450)
			if err := db.Compact(t.Context()); err != nil {
				t.Fatal(err)
			}
			l := labels.FromStrings("__name__", "late")
			if tc.want == storage.ErrDuplicateSampleForTimestamp {
				l = up1
			}
			app := db.Appender(t.Context())
			_, err := app.Append(0, l, tc.t, 42)
			if !errors.Is(err, tc.want) {
				t.Fatalf("append at %d: %v, want %v", tc.t, err, tc.want)
			}
			if err := app.Commit(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestStats(t *testing.T) {
	db := openDB(t, t.TempDir(), nil)
	defer db.Close()
	commit(t, db,
		appendCase{up1, 1000, 1}, appendCase{up2, 2000, 1}, appendCase{rq1, 3000, 5},
		appendCase{labels.FromStrings("__name__", "up", "job", "c", "instance", "z"), 4000, 0})
	st := db.Stats(2)
	if st.NumSeries != 4 || st.ChunkCount != 4 || st.MinTime != 1000 || st.MaxTime != 4000 {
		t.Fatalf("head stats %+v", st)
	}
	if want := []Stat{{"up", 3}, {"requests_total", 1}}; !slices.Equal(st.SeriesCountByMetricName, want) {
		t.Fatalf("series by metric %v, want %v", st.SeriesCountByMetricName, want)
	}
	if want := []Stat{{"__name__=up", 3}, {"job=a", 2}}; !slices.Equal(st.SeriesCountByLabelValuePair, want) {
		t.Fatalf("series by pair %v, want %v", st.SeriesCountByLabelValuePair, want)
	}
	if len(st.LabelValueCountByLabelName) != 2 || st.LabelValueCountByLabelName[0].Count != 3 {
		t.Fatalf("values by name %v", st.LabelValueCountByLabelName)
	}
	if st.MemoryInBytesByLabelName[0] != (Stat{"__name__", 3*2 + 14}) {
		t.Fatalf("memory by name %v", st.MemoryInBytesByLabelName)
	}
	if st.NumLabelPairs == 0 {
		t.Fatal("no label pairs")
	}
}

func TestCompactionLoop(t *testing.T) {
	// Open, not openDB: the background loop is what is tested.
	db, err := Open(t.TempDir(), &Options{MinBlockDuration: testRange})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want := fillSeries(t, db, manySeries(1), 0, 1000, 300)
	deadline := time.Now().Add(10 * time.Second)
	for len(db.Blocks()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no block cut within 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
}

func TestHeadQuerierSurvivesBlockCut(t *testing.T) {
	db := openDB(t, t.TempDir(), &Options{MinBlockDuration: testRange, HeadChunkFileSize: 1024})
	defer db.Close()
	want := fillSeries(t, db, manySeries(3), 0, 1000, 450)
	q, err := db.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- db.Compact(t.Context()) }()
	// The first block appears, but the head keeps what the querier may read.
	deadline := time.Now().Add(10 * time.Second)
	for len(db.Blocks()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("Compact truncated the head under an open querier (err %v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	got := map[string][]sample{}
	set := q.Select(t.Context(), true, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+"))
	var it storage.Iterator
	for set.Next() {
		s := set.At()
		it = s.Iterator(it)
		for it.Next() == storage.ValFloat {
			ts, v := it.At()
			got[s.Labels().String()] = append(got[s.Labels().String()], sample{ts, v})
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
	}
	assertData(t, want, got)
	q.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if db.minValid.Load() != 300_000 {
		t.Fatalf("head truncated to %d, want 300000", db.minValid.Load())
	}
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
}

// TestSetRetention checks that a retention changed at run time, as a config
// reload does, applies at the next compaction without a restart.
func TestSetRetention(t *testing.T) {
	db := openDB(t, t.TempDir(), &Options{MinBlockDuration: testRange, MaxBlockDuration: testRange, RetentionDuration: -1})
	defer db.Close()
	want := fillSeries(t, db, manySeries(20), 0, 1000, 1000)
	if err := db.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := blockRanges(db); len(got) != 9 {
		t.Fatalf("blocks %v, want 9 before the change", got)
	}
	db.SetRetention(250_000, 0)
	if err := db.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	wantRanges := rangesOf(600_000, 700_000, 800_000, 900_000)
	if got := blockRanges(db); !slices.Equal(got, wantRanges) {
		t.Fatalf("blocks %v, want %v", got, wantRanges)
	}
	assertData(t, after(want, wantRanges[0][0]), query(t, db, math.MinInt64, math.MaxInt64))
}
