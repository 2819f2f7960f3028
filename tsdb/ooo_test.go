package tsdb

import (
	"cmp"
	"errors"
	"io/fs"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
)

var lateSeries = labels.FromStrings("__name__", "late", "job", "backfill")

// oooScenario fills up1 with a sample a second over [0, 450 s) and cuts it,
// leaving blocks up to 300 s and the head above; the newest sample is at
// 449 s.
func oooScenario(t *testing.T, dir string, window int64) (*DB, map[string][]sample) {
	t.Helper()
	db := openDB(t, dir, &Options{MinBlockDuration: testRange, OutOfOrderTimeWindow: window})
	want := fillSeries(t, db, []labels.Labels{up1}, 0, 1000, 450)
	if err := db.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	if floor := db.minValid.Load(); floor != 300_000 {
		t.Fatalf("head cut to %d, want 300000", floor)
	}
	return db, want
}

// addSample inserts s into want's series k, keeping it sorted.
func addSample(want map[string][]sample, k string, s sample) {
	ss := want[k]
	i, _ := slices.BinarySearchFunc(ss, s.t, func(a sample, t int64) int { return cmp.Compare(a.t, t) })
	want[k] = slices.Insert(ss, i, s)
}

func TestOutOfOrderOlderThanBlocks(t *testing.T) {
	tooOld := func(m *metrics) prometheus.Counter { return m.rejectedTooOld }
	outOfBounds := func(m *metrics) prometheus.Counter { return m.rejectedOutOfBounds }
	for _, tc := range []struct {
		name    string
		window  int64
		t       int64
		wantErr error
		counter func(*metrics) prometheus.Counter // counts wantErr
	}{
		{"within the window, in a block", 1_000_000, 150_500, nil, nil},
		{"within the window, in the oldest block", 1_000_000, 500, nil, nil},
		{"at the window's edge", 248_500, 200_500, nil, nil},
		{"just beyond the window", 248_499, 200_500, storage.ErrTooOldSample, tooOld},
		{"far beyond the window", 100_000, 150_500, storage.ErrTooOldSample, tooOld},
		{"no window", 0, 150_500, storage.ErrOutOfBounds, outOfBounds},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, want := oooScenario(t, t.TempDir(), tc.window)
			defer db.Close()
			var rejected float64
			if tc.counter != nil {
				rejected = counterValue(tc.counter(db.metrics))
			}

			app := db.Appender(t.Context())
			_, err1 := app.Append(0, up1, tc.t, -1)
			_, err2 := app.Append(0, lateSeries, tc.t, -2) // a new series
			if err := app.Commit(); err != nil {
				t.Fatal(err)
			}
			for _, err := range []error{err1, err2} {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("append at %d: %v, want %v", tc.t, err, tc.wantErr)
				}
			}
			if tc.wantErr == nil {
				addSample(want, up1.String(), sample{tc.t, -1})
				want[lateSeries.String()] = []sample{{tc.t, -2}}
			} else if got := counterValue(tc.counter(db.metrics)); got != rejected+2 {
				t.Fatalf("rejections counted %v, want 2 for this reason", got-rejected)
			}
			assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
			// A range entirely below the head sees them too.
			assertData(t, samplesIn(want, 0, 299_999), query(t, db, 0, 299_999))
		})
	}
}

// A commit judges a sample below the head against the head as the batch
// leaves it: an in-order sample earlier in the batch moves the window.
func TestOutOfOrderWindowMovesWithinBatch(t *testing.T) {
	db, _ := oooScenario(t, t.TempDir(), 300_000)
	defer db.Close()
	app := db.Appender(t.Context())
	// Both pass Append against the committed head (newest 449 s).
	for _, ts := range []int64{600_000, 160_000} {
		if _, err := app.Append(0, up1, ts, 1); err != nil {
			t.Fatalf("append at %d: %v", ts, err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	got := query(t, db, 150_000, 170_000)[up1.String()]
	if slices.ContainsFunc(got, func(s sample) bool { return s.t == 160_000 && s.v == 1 }) {
		t.Fatal("sample 440 s behind the batch's newest one accepted with a 300 s window")
	}
	if v := counterValue(db.metrics.rejectedTooOld); v != 1 {
		t.Fatalf("too-old rejections = %v, want 1", v)
	}
}

func samplesIn(want map[string][]sample, mint, maxt int64) map[string][]sample {
	out := map[string][]sample{}
	for k, ss := range want {
		for _, s := range ss {
			if s.t >= mint && s.t <= maxt {
				out[k] = append(out[k], s)
			}
		}
	}
	return out
}

func dirSize(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		fi, err := e.Info()
		n += fi.Size()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Out-of-order samples older than the head survive a crash through the WBL,
// are written out as blocks when the head is next cut, which compaction
// merges with the blocks they overlap, and read the same in Prometheus.
func TestOutOfOrderOlderThanBlocksLifecycle(t *testing.T) {
	const window = 1_000_000
	dir := t.TempDir()
	db, want := oooScenario(t, dir, window)
	// Several samples per series and block range, one series only there.
	for ts := int64(10_500); ts < 300_000; ts += 7_000 {
		v := float64(ts) / 1000
		commit(t, db, appendCase{up1, ts, v}, appendCase{lateSeries, ts, -v})
		addSample(want, up1.String(), sample{ts, v})
		want[lateSeries.String()] = append(want[lateSeries.String()], sample{ts, -v})
	}
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))

	// A crash: reopen what the OS has, without Close.
	crashed := t.TempDir()
	copyDir(t, dir, crashed)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, crashed, &Options{MinBlockDuration: testRange, OutOfOrderTimeWindow: window})
	defer func() { db.Close() }()
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
	assertData(t, samplesIn(want, 0, 299_999), query(t, db, 0, 299_999))

	// Cutting the head compacts them out and empties the WBL.
	wblBefore := dirSize(t, filepath.Join(crashed, wblDirName))
	more := fillSeries(t, db, []labels.Labels{up1}, 450_000, 1000, 150)
	want[up1.String()] = append(want[up1.String()], more[up1.String()]...)
	if err := db.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	if wblAfter := dirSize(t, filepath.Join(crashed, wblDirName)); wblAfter >= wblBefore {
		t.Fatalf("WBL holds %d bytes after compaction, %d before", wblAfter, wblBefore)
	}
	if n := db.oooMinT.Load(); n != math.MaxInt64 {
		t.Fatalf("head still holds out-of-order samples from %d", n)
	}
	assertNoOverlap(t, db)
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
	assertData(t, samplesIn(want, 0, 299_999), query(t, db, 0, 299_999))

	// And after a restart, in Argus and in Prometheus.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, crashed, &Options{MinBlockDuration: testRange, OutOfOrderTimeWindow: window})
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	opts := upstreamKeepAll()
	opts.OutOfOrderTimeWindow = window
	assertData(t, want, upstreamOpenQuery(t, crashed, opts))
}

// Prometheus reads the out-of-order samples older than the head from the
// WBL of a directory Argus has not compacted them out of yet.
func TestUpstreamReadsOutOfOrderWBL(t *testing.T) {
	const window = 1_000_000
	dir := t.TempDir()
	db, want := oooScenario(t, dir, window)
	commit(t, db, appendCase{up1, 150_500, -1}, appendCase{lateSeries, 250_000, -2})
	addSample(want, up1.String(), sample{150_500, -1})
	want[lateSeries.String()] = []sample{{250_000, -2}}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	opts := upstreamKeepAll()
	opts.OutOfOrderTimeWindow = window
	assertData(t, want, upstreamOpenQuery(t, dir, opts))
}

func assertNoOverlap(t *testing.T, db *DB) {
	t.Helper()
	bs := db.Blocks()
	for i := 1; i < len(bs); i++ {
		if bs[i].MinTime < bs[i-1].MaxTime {
			t.Fatalf("blocks overlap after compaction: %+v", bs)
		}
	}
}

// Deleting out-of-order samples older than the head holds through the head
// cut and their compaction into blocks.
func TestDeleteOutOfOrderOlderThanBlocks(t *testing.T) {
	db, want := oooScenario(t, t.TempDir(), 1_000_000)
	defer db.Close()
	commit(t, db, appendCase{lateSeries, 150_500, 1}, appendCase{lateSeries, 250_500, 2}, appendCase{up1, 250_500, 3})
	addSample(want, up1.String(), sample{250_500, 3})
	want[lateSeries.String()] = []sample{{250_500, 2}}
	if err := db.Delete(t.Context(), 100_000, 200_000, labels.MustNewMatcher(labels.MatchEqual, "__name__", "late")); err != nil {
		t.Fatal(err)
	}
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
	more := fillSeries(t, db, []labels.Labels{up1}, 450_000, 1000, 150)
	want[up1.String()] = append(want[up1.String()], more[up1.String()]...)
	if err := db.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	assertNoOverlap(t, db)
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
}

// Samples appended below the head while it is cut and compacted are
// neither lost nor doubled.
func TestOutOfOrderOlderThanBlocksConcurrentCompaction(t *testing.T) {
	dir := t.TempDir()
	opts := &Options{MinBlockDuration: testRange, OutOfOrderTimeWindow: 1 << 40}
	db := openDB(t, dir, opts)
	want := map[string][]sample{}
	done := make(chan struct{})
	compacted := make(chan error, 1)
	go func() {
		var err error
		for {
			select {
			case <-done:
				compacted <- err
				return
			default:
			}
			if e := db.Compact(t.Context()); e != nil && err == nil {
				err = e
			}
		}
	}()
	for i := range 400 {
		batch := make([]appendCase, 0, 11)
		for j := range 10 {
			ts := int64(i*10+j) * 1000
			batch = append(batch, appendCase{up1, ts, float64(ts)})
		}
		// Lagging ever further behind, soon below the head.
		batch = append(batch, appendCase{lateSeries, int64(i)*1000 + 500, float64(i)})
		commit(t, db, batch...)
		for _, c := range batch {
			want[c.lset.String()] = append(want[c.lset.String()], sample{c.t, c.v})
		}
		if i%50 == 49 { // whatever the scheduler does with the loop above
			if err := db.Compact(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(done)
	if err := <-compacted; err != nil {
		t.Fatal(err)
	}
	if err := db.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(db.Blocks()) == 0 || counterValue(db.metrics.oooAppended) == 0 {
		t.Fatal("no block cut, or no sample appended below the head")
	}
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
	db.deletions.Wait() // a copy racing with block deletions would fail
	crashed := t.TempDir()
	copyDir(t, dir, crashed)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, crashed, opts)
	defer db.Close()
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
}

// A snapshot with the head holds the out-of-order samples older than it.
func TestSnapshotOutOfOrderOlderThanBlocks(t *testing.T) {
	db, want := oooScenario(t, t.TempDir(), 1_000_000)
	defer db.Close()
	commit(t, db, appendCase{lateSeries, 150_500, 1}, appendCase{up1, 250_500, 3})
	addSample(want, up1.String(), sample{250_500, 3})
	want[lateSeries.String()] = []sample{{150_500, 1}}
	snap := t.TempDir()
	if err := db.Snapshot(snap, true); err != nil {
		t.Fatal(err)
	}
	sdb := openDB(t, snap, &Options{MinBlockDuration: testRange})
	defer sdb.Close()
	assertData(t, want, query(t, sdb, math.MinInt64, math.MaxInt64))
}

// TestOutOfOrderInHeadSurvivesWBLTruncation checks that an out-of-order
// sample left in the head by a compaction (newer than the new floor, older
// than its series' last full chunk) survives a restart: WAL replay skips
// samples already in head chunks, so the WBL, truncated by the compaction,
// must still hold it.
func TestOutOfOrderInHeadSurvivesWBLTruncation(t *testing.T) {
	dir := t.TempDir()
	opts := &Options{MinBlockDuration: testRange, OutOfOrderTimeWindow: 200_000, DisableCompaction: true}
	db := openDB(t, dir, opts)
	want := fillSeries(t, db, []labels.Labels{up1}, 0, 1000, 650)
	commit(t, db, appendCase{up1, 550_500, 42})
	addSample(want, up1.String(), sample{550_500, 42})
	if err := db.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	if floor := db.minValid.Load(); floor > 550_500 {
		t.Fatalf("the cut went to %d, past the out-of-order sample", floor)
	}
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openDB(t, dir, opts)
	defer db.Close()
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
}
