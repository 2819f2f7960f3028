// These tests open Argus's data directory with Prometheus's own tsdb package
// and the other way round. Upstream tsdb is a test-only dependency: it is
// the reference the on-disk format must match, never linked into argus.

package tsdb

import (
	"context"
	"math"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/util/compression"
)

// A data directory written by Argus opens in Prometheus with the same data,
// and the other way round: the WAL is the only thing either needs.
func TestUpstreamReadsArgusWAL(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir, &Options{OutOfOrderTimeWindow: 36_000_000})
	want := map[string][]sample{}
	for i := range 500 { // several chunks per series
		ts := int64(1_700_000_000_000 + i*15_000)
		v := float64(i) * 1.5
		if i == 250 {
			v = math.Float64frombits(value.StaleNaN)
		}
		commit(t, db, appendCase{up1, ts, v}, appendCase{rq1, ts, -v})
		want[up1.String()] = append(want[up1.String()], sample{ts, v})
		want[rq1.String()] = append(want[rq1.String()], sample{ts, -v})
	}
	// Out-of-order samples reach Prometheus through the WBL.
	base := int64(1_700_000_000_000)
	commit(t, db, appendCase{up2, base + 600_000, 6})
	commit(t, db, appendCase{up2, base + 300_000, 3}, appendCase{up2, base + 100_000, 1})
	want[up2.String()] = []sample{{base + 100_000, 1}, {base + 300_000, 3}, {base + 600_000, 6}}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	opts := tsdb.DefaultOptions()
	opts.OutOfOrderTimeWindow = 36_000_000
	udb, err := tsdb.Open(dir, nil, nil, opts, nil)
	if err != nil {
		t.Fatalf("upstream open of an Argus directory: %v", err)
	}
	defer udb.Close()
	q, err := udb.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	assertData(t, want, upstreamSamples(t, q))
}

func TestArgusReadsUpstreamWAL(t *testing.T) {
	for _, c := range []compression.Type{compression.None, compression.Snappy} {
		t.Run(string(c), func(t *testing.T) {
			dir := t.TempDir()
			opts := tsdb.DefaultOptions()
			opts.WALCompression = c
			udb, err := tsdb.Open(dir, nil, nil, opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string][]sample{}
			for i := range 300 {
				ts := int64(1_700_000_000_000 + i*10_000)
				app := udb.Appender(context.Background())
				for _, l := range []labels.Labels{up1, up2, rq2} {
					v := float64(i*len(l.String())) / 3
					if _, err := app.Append(0, l, ts, v); err != nil {
						t.Fatal(err)
					}
					want[l.String()] = append(want[l.String()], sample{ts, v})
				}
				if err := app.Commit(); err != nil {
					t.Fatal(err)
				}
			}
			if err := udb.Close(); err != nil {
				t.Fatal(err)
			}

			db := openDB(t, dir, nil)
			defer db.Close()
			assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
		})
	}
}

// upstreamKeepAll is Prometheus's default options without time retention,
// so that opening a test's directory deletes none of its old blocks.
func upstreamKeepAll() *tsdb.Options {
	opts := tsdb.DefaultOptions()
	opts.RetentionDuration = 0
	return opts
}

// upstreamOpenQuery opens dir with Prometheus's tsdb and reads every series.
func upstreamOpenQuery(t *testing.T, dir string, opts *tsdb.Options) map[string][]sample {
	t.Helper()
	udb, err := tsdb.Open(dir, nil, nil, opts, nil)
	if err != nil {
		t.Fatalf("upstream open of an Argus directory: %v", err)
	}
	defer udb.Close()
	return upstreamQuery(t, udb, math.MinInt64, math.MaxInt64)
}

// tenHoursStart begins 10 h of one sample a minute, 6 h-aligned: Argus
// cuts four 2 h blocks, merges three of them into a 6 h one and keeps the
// rest in the head.
const tenHoursStart = 1_700_006_400_000

func TestUpstreamReadsArgusBlocksAndHead(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir, nil)
	want := fillSeries(t, db, compatSeries, tenHoursStart, 60_000, 600)
	if err := db.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	blocks := db.Blocks()
	if len(blocks) != 2 || blocks[0].Compaction.Level != 2 || blocks[0].MaxTime != blocks[1].MinTime {
		t.Fatalf("blocks %+v, want a 6 h level-2 block and a 2 h one", blocks)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	assertData(t, want, upstreamOpenQuery(t, dir, upstreamKeepAll()))

	// And back: what Prometheus left (it may have compacted or truncated
	// on its own) still reads the same in Argus.
	db = openDB(t, dir, nil)
	defer db.Close()
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
}

func TestArgusReadsUpstreamBlocksAndHead(t *testing.T) {
	dir := t.TempDir()
	udb, err := tsdb.Open(dir, nil, nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]sample{}
	for i := range 600 {
		ts := int64(tenHoursStart + i*60_000)
		app := udb.Appender(context.Background())
		for j, l := range compatSeries {
			v := float64(i*(j+1)) / 4
			if _, err := app.Append(0, l, ts, v); err != nil {
				t.Fatal(err)
			}
			want[l.String()] = append(want[l.String()], sample{ts, v})
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if err := udb.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(udb.Blocks()); n < 2 {
		t.Fatalf("upstream cut %d blocks, want several", n)
	}
	if err := udb.Close(); err != nil {
		t.Fatal(err)
	}

	db := openDB(t, dir, nil)
	defer db.Close()
	if n := len(db.Blocks()); n < 2 {
		t.Fatalf("Argus loaded %d blocks", n)
	}
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
	// Argus carries on where Prometheus stopped: cutting the rest of the
	// head and compacting its blocks with Prometheus's.
	more := fillSeries(t, db, compatSeries, tenHoursStart+600*60_000, 60_000, 200)
	for k, v := range more {
		want[k] = append(want[k], v...)
	}
	if err := db.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))
}
