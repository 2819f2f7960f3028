package tsdb

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/block"
)

// sliceSet is a label-sorted series set over samples in memory.
type sliceSet struct {
	series []*sliceSeries
	i      int
}

func newSliceSet(m map[string][]sample) *sliceSet {
	ss := &sliceSet{i: -1}
	for k, samples := range m {
		l, err := labelsFromString(k)
		if err != nil {
			panic(err)
		}
		ss.series = append(ss.series, &sliceSeries{lset: l, samples: samples})
	}
	slices.SortFunc(ss.series, func(a, b *sliceSeries) int { return labels.Compare(a.lset, b.lset) })
	return ss
}

func (s *sliceSet) Next() bool         { s.i++; return s.i < len(s.series) }
func (s *sliceSet) At() storage.Series { return s.series[s.i] }
func (s *sliceSet) Err() error         { return nil }

func labelsFromString(k string) (labels.Labels, error) {
	for _, l := range []labels.Labels{up1, up2, rq1, rq2, lateSeries} {
		if l.String() == k {
			return l, nil
		}
	}
	return labels.EmptyLabels(), fmt.Errorf("unknown test series %s", k)
}

type testBlock struct {
	mint, maxt int64
	data       map[string][]sample
}

// evenSamples makes samples every step over [from, to) with values from f.
func evenSamples(from, to, step int64, f func(t int64) float64) []sample {
	var out []sample
	for t := from; t < to; t += step {
		out = append(out, sample{t, f(t)})
	}
	return out
}

func mergedBlocks(blocks []testBlock) map[string][]sample {
	out := map[string][]sample{}
	for _, b := range blocks {
		for k, ss := range b.data {
			for _, s := range ss {
				i, found := slices.BinarySearchFunc(out[k], s.t, func(a sample, t int64) int { return cmp.Compare(a.t, t) })
				if !found {
					out[k] = slices.Insert(out[k], i, s)
				}
			}
		}
	}
	return out
}

// Overlapping blocks, as out-of-order compaction and Prometheus write them,
// read as one, a sample present in several once; compaction merges them
// into one block that Prometheus reads the same.
func TestOverlappingBlocks(t *testing.T) {
	val := func(t int64) float64 { return float64(t) / 1000 }
	for _, tc := range []struct {
		name   string
		blocks []testBlock
	}{
		{"interleaved samples", []testBlock{
			{0, 100_000, map[string][]sample{up1.String(): evenSamples(0, 100_000, 2000, val)}},
			{0, 100_000, map[string][]sample{up1.String(): evenSamples(1000, 100_000, 2000, val)}},
		}},
		{"identical copies", []testBlock{
			{0, 100_000, map[string][]sample{up1.String(): evenSamples(0, 100_000, 1000, val)}},
			{0, 100_000, map[string][]sample{up1.String(): evenSamples(0, 100_000, 1000, val)}},
		}},
		{"partial overlap, other series", []testBlock{
			{0, 200_000, map[string][]sample{up1.String(): evenSamples(0, 200_000, 1000, val)}},
			{100_000, 300_000, map[string][]sample{
				up1.String(): evenSamples(150_500, 300_000, 1000, val),
				up2.String(): evenSamples(100_000, 300_000, 5000, val),
			}},
		}},
		{"chain of three", []testBlock{
			{0, 100_000, map[string][]sample{rq1.String(): evenSamples(0, 100_000, 1000, val)}},
			{50_000, 150_000, map[string][]sample{rq1.String(): evenSamples(50_000, 150_000, 3000, val)}},
			{120_000, 250_000, map[string][]sample{rq1.String(): evenSamples(120_000, 250_000, 1000, val)}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, b := range tc.blocks {
				src := &chunkSource{set: newSliceSet(b.data)}
				if _, err := block.Write(context.Background(), dir, b.mint, b.maxt, src, nil); err != nil {
					t.Fatal(err)
				}
			}
			want := mergedBlocks(tc.blocks)

			db := openDB(t, dir, &Options{MinBlockDuration: testRange})
			assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
			assertData(t, samplesIn(want, 90_000, 160_000), query(t, db, 90_000, 160_000))
			if err := db.Compact(t.Context()); err != nil {
				t.Fatal(err)
			}
			if bs := db.Blocks(); len(bs) != 1 {
				t.Fatalf("blocks after compaction: %+v, want one", bs)
			}
			assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			assertData(t, want, upstreamOpenQuery(t, dir, upstreamKeepAll()))
		})
	}
}

// Argus reads, and compacts, the overlapping blocks Prometheus's
// out-of-order compaction writes.
func TestArgusReadsUpstreamOutOfOrderBlocks(t *testing.T) {
	dir := t.TempDir()
	opts := tsdb.DefaultOptions()
	opts.OutOfOrderTimeWindow = 8 * 60 * 60 * 1000
	// Leave the overlapping blocks for Argus to merge.
	opts.EnableOverlappingCompaction = false
	udb, err := tsdb.Open(dir, nil, nil, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]sample{}
	appendUp := func(ts int64, v float64) {
		app := udb.Appender(context.Background())
		if _, err := app.Append(0, up1, ts, v); err != nil {
			t.Fatalf("upstream append at %d: %v", ts, err)
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
		addSample(want, up1.String(), sample{ts, v})
	}
	for i := range 400 { // 6 h 40 min, a sample a minute
		appendUp(tenHoursStart+int64(i)*60_000, float64(i))
	}
	// Out of order, half a minute off, below and above where upstream cuts
	// its head (4 h): its out-of-order blocks overlap Argus's head.
	for i := range 180 {
		appendUp(tenHoursStart+int64(i)*120_000+30_000, -float64(i))
	}
	if err := udb.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	hinted := 0
	for _, b := range udb.Blocks() {
		if m := b.Meta(); m.Compaction.FromOutOfOrder() {
			hinted++
		}
	}
	if err := udb.Close(); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, dir, &Options{OutOfOrderTimeWindow: opts.OutOfOrderTimeWindow})
	defer db.Close()
	if hinted == 0 {
		t.Fatal("upstream wrote no block from out-of-order samples")
	}
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
	if err := db.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
	// Argus cuts its head over upstream's out-of-order block, then merges.
	for i := 400; i < 600; i++ {
		ts := tenHoursStart + int64(i)*60_000
		commit(t, db, appendCase{up1, ts, float64(i)})
		addSample(want, up1.String(), sample{ts, float64(i)})
	}
	if err := db.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	assertNoOverlap(t, db)
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
}

// Argus carries on with a directory holding Prometheus's out-of-order
// samples in its head, WAL and WBL: it cuts its head below some of them,
// truncates the WBL, and after a crash still has them all.
func TestArgusCompactsUpstreamOutOfOrderHead(t *testing.T) {
	const hour = 60 * 60 * 1000
	dir := t.TempDir()
	opts := tsdb.DefaultOptions()
	opts.OutOfOrderTimeWindow = 4 * hour
	udb, err := tsdb.Open(dir, nil, nil, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]sample{}
	appendUp := func(ts int64, v float64) {
		app := udb.Appender(context.Background())
		if _, err := app.Append(0, up1, ts, v); err != nil {
			t.Fatalf("upstream append at %d: %v", ts, err)
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
		addSample(want, up1.String(), sample{ts, v})
	}
	for ts := int64(0); ts < 160*60_000; ts += 60_000 {
		appendUp(tenHoursStart+ts, float64(ts))
	}
	for ts := int64(hour + 30_000); ts < 150*60_000; ts += 120_000 {
		appendUp(tenHoursStart+ts, -float64(ts))
	}
	if err := udb.Close(); err != nil {
		t.Fatal(err)
	}

	db := openDB(t, dir, &Options{OutOfOrderTimeWindow: opts.OutOfOrderTimeWindow})
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
	// The head is cut at 2 h; out-of-order samples after that are in the
	// replayed WBL only.
	for ts := int64(160 * 60_000); ts < 4*hour; ts += 60_000 {
		commit(t, db, appendCase{up1, tenHoursStart + ts, float64(ts)})
		addSample(want, up1.String(), sample{tenHoursStart + ts, float64(ts)})
	}
	if err := db.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	if floor := db.minValid.Load() - tenHoursStart; floor != 2*hour {
		t.Fatalf("head cut at %d ms, want 2 h", floor)
	}
	db.deletions.Wait()
	crashed := t.TempDir()
	copyDir(t, dir, crashed)
	db.Close()
	db = openDB(t, crashed, &Options{OutOfOrderTimeWindow: opts.OutOfOrderTimeWindow})
	defer db.Close()
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
}
