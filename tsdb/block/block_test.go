package block

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/tombstones"
)

func TestWriteOpenQuery(t *testing.T) {
	dir := t.TempDir()
	series := testData(60, 720)
	id := writeTestBlock(t, dir, series)
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != id {
		t.Fatalf("directory holds %v, want only %s", entries, id)
	}
	b, err := Open(filepath.Join(dir, id), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	m := b.Meta()
	var samples uint64
	for _, s := range series {
		samples += uint64(len(s.samples))
	}
	if m.ULID != id || m.Stats.NumSeries != 60 || m.Stats.NumSamples != samples || m.Compaction.Level != 1 || !slices.Equal(m.Compaction.Sources, []string{id}) {
		t.Fatalf("meta: %+v", m)
	}

	ms := func(typ labels.MatchType, n, v string) *labels.Matcher { return labels.MustNewMatcher(typ, n, v) }
	for _, tc := range []struct {
		name       string
		ms         []*labels.Matcher
		keep       func(labels.Labels) bool
		mint, maxt int64
	}{
		{"all", nil, nil, math.MinInt64, math.MaxInt64},
		{"equal", []*labels.Matcher{ms(labels.MatchEqual, "job", "api")}, func(l labels.Labels) bool { return l.Get("job") == "api" }, math.MinInt64, math.MaxInt64},
		{"not equal", []*labels.Matcher{ms(labels.MatchEqual, "__name__", "up"), ms(labels.MatchNotEqual, "job", "api")},
			func(l labels.Labels) bool { return l.Get("__name__") == "up" && l.Get("job") != "api" }, math.MinInt64, math.MaxInt64},
		{"regexp set", []*labels.Matcher{ms(labels.MatchRegexp, "job", "api|db")}, func(l labels.Labels) bool { return l.Get("job") != "node" }, math.MinInt64, math.MaxInt64},
		{"regexp", []*labels.Matcher{ms(labels.MatchRegexp, "instance", "10\\.0\\.[12]\\..*")},
			func(l labels.Labels) bool {
				return strings.HasPrefix(l.Get("instance"), "10.0.1.") || strings.HasPrefix(l.Get("instance"), "10.0.2.")
			}, math.MinInt64, math.MaxInt64},
		{"not regexp only", []*labels.Matcher{ms(labels.MatchNotRegexp, "job", "node|db")}, func(l labels.Labels) bool { return l.Get("job") == "api" }, math.MinInt64, math.MaxInt64},
		{"missing label matches empty", []*labels.Matcher{ms(labels.MatchEqual, "job", "api"), ms(labels.MatchEqual, "nope", "")},
			func(l labels.Labels) bool { return l.Get("job") == "api" }, math.MinInt64, math.MaxInt64},
		{"no such value", []*labels.Matcher{ms(labels.MatchEqual, "job", "nope")}, func(labels.Labels) bool { return false }, math.MinInt64, math.MaxInt64},
		{"time range", []*labels.Matcher{ms(labels.MatchEqual, "__name__", "up")}, func(l labels.Labels) bool { return l.Get("__name__") == "up" }, baseT + 3_000_000, baseT + 5_000_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q, err := b.Querier(tc.mint, tc.maxt)
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			assertData(t, wantData(series, tc.keep, tc.mint, tc.maxt), readAll(t, q, tc.ms...))
		})
	}

	q, _ := b.Querier(math.MinInt64, math.MaxInt64)
	defer q.Close()
	ctx := context.Background()
	if names, _ := q.LabelNames(ctx); !slices.Equal(names, []string{"__name__", "instance", "job", "series"}) {
		t.Fatalf("label names: %v", names)
	}
	if vals, _ := q.LabelValues(ctx, "job", ms(labels.MatchEqual, "__name__", "up")); len(vals) != 3 {
		t.Fatalf("job values of up: %v", vals)
	}
}

func TestIteratorSeek(t *testing.T) {
	dir := t.TempDir()
	series := testData(1, 500)
	id := writeTestBlock(t, dir, series)
	b, err := Open(filepath.Join(dir, id), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	q, _ := b.Querier(math.MinInt64, math.MaxInt64)
	defer q.Close()
	set := q.Select(context.Background(), false, nil)
	if !set.Next() {
		t.Fatal("no series")
	}
	it := set.At().Iterator(nil)
	ss := series[0].samples
	for _, i := range []int{0, 5, 119, 120, 121, 300, 499} {
		if it.SeekTo(ss[i].t) != storage.ValFloat || it.AtT() != ss[i].t {
			t.Fatalf("SeekTo(sample %d) at %d, want %d", i, it.AtT(), ss[i].t)
		}
	}
	if it.SeekTo(ss[0].t) != storage.ValFloat || it.AtT() != ss[499].t {
		t.Fatal("SeekTo moved backwards")
	}
	if it.SeekTo(math.MaxInt64) != storage.ValNone || it.Next() != storage.ValNone {
		t.Fatal("SeekTo past the end did not end the iteration")
	}
}

func TestTombstonesApplied(t *testing.T) {
	dir := t.TempDir()
	series := testData(3, 400)
	id := writeTestBlock(t, dir, series)
	bdir := filepath.Join(dir, id)

	// Delete part of the first series and all of the second.
	del := tombstones.Interval{Mint: series[0].samples[100].t, Maxt: series[0].samples[250].t}
	b, err := Open(bdir, nil)
	if err != nil {
		t.Fatal(err)
	}
	all, _ := b.index.AllPostings()
	var refs []storage.SeriesRef
	for all.Next() {
		refs = append(refs, all.At())
	}
	b.Close()
	ts := tombstones.NewMemTombstones()
	ts.AddInterval(refs[0], del)
	ts.AddInterval(refs[1], tombstones.Interval{Mint: math.MinInt64, Maxt: math.MaxInt64})
	if _, err := tombstones.WriteFile(bdir, ts); err != nil {
		t.Fatal(err)
	}

	b, err = Open(bdir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	q, _ := b.Querier(math.MinInt64, math.MaxInt64)
	defer q.Close()
	want := wantData(series, nil, math.MinInt64, math.MaxInt64)
	delete(want, series[1].lset.String())
	var kept []sample
	for _, x := range series[0].samples {
		if !del.InBounds(x.t) {
			kept = append(kept, x)
		}
	}
	want[series[0].lset.String()] = kept
	assertData(t, want, readAll(t, q))
}

func TestCloseWaitsForQueriers(t *testing.T) {
	dir := t.TempDir()
	id := writeTestBlock(t, dir, testData(2, 10))
	b, err := Open(filepath.Join(dir, id), nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := b.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	closed := make(chan error)
	go func() { closed <- b.Close() }()
	select {
	case <-closed:
		t.Fatal("Close returned with a querier open")
	case <-time.After(50 * time.Millisecond):
	}
	// The open querier still reads.
	if got := readAll(t, q); len(got) != 2 {
		t.Fatalf("querier read %d series during Close", len(got))
	}
	q.Close()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if _, err := b.Querier(0, 1); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("Querier after Close: %v", err)
	}
}

func TestWriteRejectsBadSource(t *testing.T) {
	series := testData(3, 10)
	for _, tc := range []struct {
		name       string
		series     []testSeries
		mint, maxt int64
	}{
		{"unsorted", []testSeries{series[1], series[0]}, baseT, baseT + 3600_000},
		{"chunk before range", series, baseT + 1, baseT + 3600_000},
		{"chunk at exclusive end", series, baseT, series[0].samples[9].t},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := Write(context.Background(), dir, tc.mint, tc.maxt, newSliceSource(tc.series), nil); err == nil {
				t.Fatal("no error")
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Fatalf("failed write left %v", entries)
			}
		})
	}
}

func TestMetaRoundTrip(t *testing.T) {
	dir := t.TempDir()
	id, _ := NewULID(time.Now())
	want := &Meta{ULID: id, MinTime: 1, MaxTime: 2, Stats: Stats{NumSamples: 3, NumSeries: 1, NumChunks: 1},
		Compaction: Compaction{Level: 2, Sources: []string{id}, Parents: []Desc{{ULID: id, MinTime: 1, MaxTime: 2}}}}
	if err := WriteMeta(dir, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadMeta(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(want)
	b, _ := json.Marshal(got)
	if string(a) != string(b) {
		t.Fatalf("got %s, want %s", b, a)
	}
	os.WriteFile(filepath.Join(dir, MetaFilename), []byte(`{"ulid":"bad","version":1}`), 0o666)
	if _, err := ReadMeta(dir); err == nil {
		t.Fatal("bad ULID accepted")
	}
}

func TestULID(t *testing.T) {
	a, _ := NewULID(time.UnixMilli(1_700_000_000_000))
	b, _ := NewULID(time.UnixMilli(1_700_000_000_001))
	if !validULID(a) || !validULID(b) || a >= b {
		t.Fatalf("ULIDs %s, %s: want valid and increasing", a, b)
	}
	if got := encodeULID([16]byte{0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00}); got[:10] != "01HF7YAT00" {
		t.Fatalf("timestamp part %s, want 01HF7YAT00", got[:10])
	}
}
