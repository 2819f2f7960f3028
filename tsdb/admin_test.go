package tsdb

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/argusmon/argus/tsdb/block"
	"github.com/argusmon/argus/tsdb/tombstones"
	"github.com/argusmon/argus/tsdb/wlog"
)

// without returns want minus the samples of series whose labels match ms
// in [mint, maxt].
func without(want map[string][]sample, ls []labels.Labels, mint, maxt int64, ms ...*labels.Matcher) map[string][]sample {
	out := map[string][]sample{}
	for _, l := range ls {
		matched := true
		for _, m := range ms {
			matched = matched && m.Matches(l.Get(m.Name))
		}
		var kept []sample
		for _, s := range want[l.String()] {
			if !matched || s.t < mint || s.t > maxt {
				kept = append(kept, s)
			}
		}
		if len(kept) > 0 {
			out[l.String()] = kept
		}
	}
	return out
}

var isUp = labels.MustNewMatcher(labels.MatchEqual, "__name__", "up")

// blocksAndHead fills [0, 449 s] and cuts blocks [0, 100 s), [100 s, 200 s)
// and [200 s, 300 s); the rest stays in the head.
func blocksAndHead(t *testing.T, dir string) (*DB, *Options, []labels.Labels, map[string][]sample) {
	t.Helper()
	opts := &Options{MinBlockDuration: testRange, MaxBlockDuration: testRange}
	db := openDB(t, dir, opts)
	ls := manySeries(0)
	want := fillSeries(t, db, ls, 0, 1000, 450)
	if err := db.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(db.Blocks()); n != 3 {
		t.Fatalf("%d blocks, want 3", n)
	}
	return db, opts, ls, want
}

func TestDelete(t *testing.T) {
	for _, tc := range []struct {
		name       string
		mint, maxt int64
		ms         []*labels.Matcher
	}{
		{"blocks and head", 50_000, 350_000, []*labels.Matcher{isUp}},
		{"head only", 320_000, 330_500, []*labels.Matcher{isUp}},
		{"one block only", 110_000, 120_000, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "job", "a")}},
		{"whole series", math.MinInt64, math.MaxInt64, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "job", "b")}},
		{"nothing matches", 0, 400_000, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "job", "none")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			db, opts, ls, want := blocksAndHead(t, dir)
			if err := db.Delete(t.Context(), tc.mint, tc.maxt, tc.ms...); err != nil {
				t.Fatal(err)
			}
			want = without(want, ls, tc.mint, tc.maxt, tc.ms...)
			assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
			// A series whose samples in range are all deleted is not selected.
			for k, v := range query(t, db, max(tc.mint, 0), min(tc.maxt, 449_000), tc.ms...) {
				if len(v) == 0 {
					t.Fatalf("series %s selected without samples", k)
				}
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}

			// Block tombstones files and the WAL's tombstones records.
			db = openDB(t, dir, opts)
			assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
			// Cutting the head leaves the deleted samples out of the block.
			more := fillSeries(t, db, ls, 450_000, 1000, 100)
			for k, v := range more {
				want[k] = append(want[k], v...)
			}
			if err := db.Compact(t.Context()); err != nil {
				t.Fatal(err)
			}
			assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			// Prometheus reads the same from the tombstones files and WAL.
			uopts := upstreamKeepAll()
			uopts.MinBlockDuration = testRange
			uopts.MaxBlockDuration = testRange
			assertData(t, want, upstreamOpenQuery(t, dir, uopts))
		})
	}
}

func TestCleanTombstones(t *testing.T) {
	dir := t.TempDir()
	db, opts, ls, want := blocksAndHead(t, dir)
	before := db.Blocks()
	// Delete in the first block partly and in the second entirely.
	if err := db.Delete(t.Context(), 50_000, 199_999, isUp); err != nil {
		t.Fatal(err)
	}
	if err := db.Delete(t.Context(), 100_000, 199_999); err != nil {
		t.Fatal(err)
	}
	want = without(want, ls, 50_000, 199_999, isUp)
	want = without(want, ls, 100_000, 199_999)
	if m := db.Blocks()[0]; m.Stats.NumTombstones != 2 {
		t.Fatalf("first block has %d tombstones in its meta, want 2", m.Stats.NumTombstones)
	}
	if err := db.CleanTombstones(t.Context()); err != nil {
		t.Fatal(err)
	}
	db.deletions.Wait()
	after := db.Blocks()
	if len(after) != 2 {
		t.Fatalf("%d blocks after cleaning, want 2 (the emptied one dropped)", len(after))
	}
	if after[0].ULID == before[0].ULID || after[0].MinTime != 0 || after[0].MaxTime != 100_000 {
		t.Fatalf("first block %+v not rewritten in place of %+v", after[0], before[0])
	}
	if after[1].ULID != before[2].ULID {
		t.Fatalf("untouched block %s rewritten as %s", before[2].ULID, after[1].ULID)
	}
	// 50 s of 2 "up" series are gone from the first block's files.
	if got, w := after[0].Stats.NumSamples, uint64(3*100-2*50); got != w || after[0].Stats.NumTombstones != 0 {
		t.Fatalf("rewritten block has %d samples, %d tombstones; want %d, 0", got, after[0].Stats.NumTombstones, w)
	}
	for _, id := range []string{before[0].ULID, before[1].ULID} {
		if _, err := os.Stat(filepath.Join(dir, id)); !os.IsNotExist(err) {
			t.Fatalf("old block %s still on disk: %v", id, err)
		}
	}
	b, err := block.Open(filepath.Join(dir, after[0].ULID), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := b.NumTombstones(); n != 0 {
		t.Fatalf("rewritten block has %d tombstones", n)
	}
	b.Close()
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, dir, opts)
	defer db.Close()
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
}

// TestHeadTombstonesSurviveCheckpoint deletes head samples that stay in the
// head across a truncation whose WAL checkpoint drops the segment holding
// the tombstones record.
func TestHeadTombstonesSurviveCheckpoint(t *testing.T) {
	dir := t.TempDir()
	opts := &Options{MinBlockDuration: testRange, MaxBlockDuration: testRange, WALSegmentSize: 32 * 1024}
	db := openDB(t, dir, opts)
	ls := manySeries(20)
	want := fillSeries(t, db, ls, 0, 1000, 150)
	if err := db.Delete(t.Context(), 120_000, 130_000, isUp); err != nil {
		t.Fatal(err)
	}
	want = without(want, ls, 120_000, 130_000, isUp)
	more := fillSeries(t, db, ls, 150_000, 1000, 300)
	for k, v := range more {
		want[k] = append(want[k], v...)
	}
	// Cut [0, 100 s) and [100 s, 200 s), checkpointing the older segments.
	// Keep [100 s, 200 s) in the head by cutting only the first: the
	// truncation to 100 s keeps the deleted interval in the head.
	db.compactMu.Lock()
	err := db.cutHead(t.Context(), 0, 100_000)
	db.compactMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if _, idx, err := wlog.LastCheckpoint(filepath.Join(dir, walDirName)); err != nil || idx < 1 {
		t.Fatalf("no checkpoint after the truncation (%d, %v)", idx, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, dir, opts)
	defer db.Close()
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
}

func TestSnapshot(t *testing.T) {
	dir := t.TempDir()
	db, _, ls, want := blocksAndHead(t, dir)
	defer db.Close()
	if err := db.Delete(t.Context(), 50_000, 350_000, isUp); err != nil {
		t.Fatal(err)
	}
	want = without(want, ls, 50_000, 350_000, isUp)
	for _, tc := range []struct {
		name     string
		withHead bool
		blocks   int
		want     map[string][]sample
	}{
		{"with head", true, 4, want},
		{"without head", false, 3, without(want, ls, 300_000, math.MaxInt64)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			snap := filepath.Join(dir, "snapshots", tc.name)
			if err := db.Snapshot(snap, tc.withHead); err != nil {
				t.Fatal(err)
			}
			// Prometheus opens every block of the snapshot.
			entries, err := os.ReadDir(snap)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]sample{}
			for _, e := range entries {
				for k, v := range upstreamBlockQuery(t, filepath.Join(snap, e.Name())) {
					got[k] = append(got[k], v...)
				}
			}
			if len(entries) != tc.blocks {
				t.Fatalf("snapshot holds %d entries, want %d blocks", len(entries), tc.blocks)
			}
			assertData(t, tc.want, got)

			sdb := openDB(t, snap, nil)
			defer sdb.Close()
			assertData(t, tc.want, query(t, sdb, math.MinInt64, math.MaxInt64))
		})
	}
	// The database itself does not see the snapshots directory as a block.
	if !slices.Equal(blockRanges(db), rangesOf(0, 100_000, 200_000, 300_000)) {
		t.Fatalf("blocks %v", blockRanges(db))
	}
}

// upstreamBlockQuery reads every series of one block with Prometheus's
// tsdb.OpenBlock, tombstones applied.
func upstreamBlockQuery(t *testing.T, dir string) map[string][]sample {
	t.Helper()
	b, err := tsdb.OpenBlock(nil, dir, nil, nil)
	if err != nil {
		t.Fatalf("upstream OpenBlock of a snapshot block: %v", err)
	}
	defer b.Close()
	q, err := tsdb.NewBlockQuerier(b, math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	return upstreamSamples(t, q)
}

func TestTombstonesRecordRoundTrip(t *testing.T) {
	in := []stone{{1, tombstones.Interval{Mint: -5, Maxt: 10}}, {1 << 40, tombstones.Interval{Mint: math.MinInt64, Maxt: math.MaxInt64}}}
	rec := encodeTombstones(in, nil)
	got, err := decodeTombstones(rec, nil)
	if err != nil || !slices.Equal(got, in) {
		t.Fatalf("got %v, %v; want %v", got, err, in)
	}
	for _, bad := range [][]byte{rec[:len(rec)-1], rec[:5], {byte(recordTombstones), 0, 0, 0, 0, 0, 0, 0, 1}} {
		if _, err := decodeTombstones(bad, nil); err == nil {
			t.Fatalf("decoded truncated record %x without error", bad)
		}
	}
}
