package tsdb

import (
	"context"
	"io"
	"log/slog"
	"math"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
)

type appendCase struct {
	lset labels.Labels
	t    int64
	v    float64
}

// openDB opens a DB without the background compaction loop, so that tests
// decide when blocks are cut (with Compact) and head tests see the head
// alone.
func openDB(t testing.TB, dir string, opts *Options) *DB {
	t.Helper()
	o := Options{}
	if opts != nil {
		o = *opts
	}
	o.DisableCompaction = true
	db, err := Open(dir, &o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return db
}

// commit appends samples in one batch and commits, failing on any error.
func commit(t testing.TB, db *DB, samples ...appendCase) {
	t.Helper()
	app := db.Appender(context.Background())
	for _, s := range samples {
		if _, err := app.Append(0, s.lset, s.t, s.v); err != nil {
			t.Fatalf("append %s @%d: %v", s.lset, s.t, err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

// query returns every series' samples in [mint, maxt], keyed by labels.
func query(t testing.TB, db *DB, mint, maxt int64, ms ...*labels.Matcher) map[string][]sample {
	t.Helper()
	q, err := db.Querier(mint, maxt)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if len(ms) == 0 {
		ms = []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+")}
	}
	set := q.Select(context.Background(), true, nil, ms...)
	out := map[string][]sample{}
	var prev labels.Labels
	var it storage.Iterator
	for set.Next() {
		s := set.At()
		if !prev.IsEmpty() && labels.Compare(prev, s.Labels()) >= 0 {
			t.Fatalf("series not sorted: %s after %s", s.Labels(), prev)
		}
		prev = s.Labels()
		it = s.Iterator(it)
		var samples []sample
		for it.Next() == storage.ValFloat {
			ts, v := it.At()
			samples = append(samples, sample{ts, v})
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		out[s.Labels().String()] = samples
	}
	if err := set.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func assertData(t testing.TB, want, got map[string][]sample) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("got %d series, want %d:\ngot  %v\nwant %v", len(got), len(want), keys(got), keys(want))
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Fatalf("series %s missing", k)
		}
		if len(g) != len(w) {
			t.Fatalf("series %s: got %d samples, want %d\ngot  %v\nwant %v", k, len(g), len(w), g, w)
		}
		for i := range w {
			if g[i].t != w[i].t || math.Float64bits(g[i].v) != math.Float64bits(w[i].v) {
				t.Fatalf("series %s sample %d: got %v, want %v", k, i, g[i], w[i])
			}
		}
	}
}

func keys(m map[string][]sample) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

// gathered sums the samples of the metric family name in reg.
func gathered(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}
