// Upstream tsdb is imported only here: it is the reference the block format
// must match, in both directions.

package block

import (
	"cmp"
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"
	upchunkenc "github.com/prometheus/prometheus/tsdb/chunkenc"
)

func TestUpstreamOpensArgusBlock(t *testing.T) {
	dir := t.TempDir()
	series := testData(200, 720)
	id := writeTestBlock(t, dir, series)

	b, err := tsdb.OpenBlock(nil, filepath.Join(dir, id), nil, nil)
	if err != nil {
		t.Fatalf("upstream OpenBlock of an Argus block: %v", err)
	}
	defer b.Close()
	if b.Meta().ULID.String() != id || b.Meta().Stats.NumSeries != 200 {
		t.Fatalf("upstream read meta %+v", b.Meta())
	}
	q, err := tsdb.NewBlockQuerier(b, math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	set := q.Select(context.Background(), true, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+"))
	got := map[string][]sample{}
	var it upchunkenc.Iterator
	for set.Next() {
		s := set.At()
		it = s.Iterator(it)
		var ss []sample
		for it.Next() == upchunkenc.ValFloat {
			ts, v := it.At()
			ss = append(ss, sample{ts, v})
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		got[s.Labels().String()] = ss
	}
	if err := set.Err(); err != nil {
		t.Fatal(err)
	}
	assertData(t, wantData(series, nil, math.MinInt64, math.MaxInt64), got)
}

func TestArgusOpensUpstreamBlock(t *testing.T) {
	dir := t.TempDir()
	series := testData(200, 720) // 3h of 15s samples
	opts := tsdb.DefaultOptions()
	db, err := tsdb.Open(dir, nil, nil, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Append in time order, as scrapes would: the head rejects samples far
	// behind its newest.
	type point struct {
		lset labels.Labels
		sample
	}
	var points []point
	for _, s := range series {
		for _, x := range s.samples {
			points = append(points, point{s.lset, x})
		}
	}
	slices.SortStableFunc(points, func(a, b point) int { return cmp.Compare(a.t, b.t) })
	for len(points) > 0 {
		n := min(len(points), 1000)
		app := db.Appender(context.Background())
		for _, p := range points[:n] {
			if _, err := app.Append(0, p.lset, p.t, p.v); err != nil {
				t.Fatal(err)
			}
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
		points = points[n:]
	}
	mint, maxt := db.Head().MinTime(), db.Head().MaxTime()
	if err := db.CompactHead(tsdb.NewRangeHead(db.Head(), mint, maxt)); err != nil {
		t.Fatal(err)
	}
	if len(db.Blocks()) != 1 {
		t.Fatalf("upstream wrote %d blocks, want 1", len(db.Blocks()))
	}
	id := db.Blocks()[0].Meta().ULID.String()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, id, "index")); err != nil {
		t.Fatal(err)
	}

	b, err := Open(filepath.Join(dir, id), nil)
	if err != nil {
		t.Fatalf("open upstream block: %v", err)
	}
	defer b.Close()
	if m := b.Meta(); m.ULID != id || m.Stats.NumSeries != 200 {
		t.Fatalf("meta %+v", m)
	}
	q, err := b.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	assertData(t, wantData(series, nil, math.MinInt64, math.MaxInt64), readAll(t, q))
}
