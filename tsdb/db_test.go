package tsdb

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/wlog"
)

var (
	up1 = labels.FromStrings("__name__", "up", "job", "a", "instance", "x")
	up2 = labels.FromStrings("__name__", "up", "job", "b")
	rq1 = labels.FromStrings("__name__", "requests_total", "job", "a", "code", "200")
	rq2 = labels.FromStrings("__name__", "requests_total", "job", "a", "code", "500")
)

func seedDB(t *testing.T, db *DB) {
	t.Helper()
	for ts := int64(0); ts < 10; ts++ {
		commit(t, db,
			appendCase{up1, ts * 1000, 1},
			appendCase{up2, ts * 1000, 0},
			appendCase{rq1, ts * 1000, float64(ts)},
			appendCase{rq2, ts*1000 + 500, float64(2 * ts)},
		)
	}
}

func TestSelectMatchers(t *testing.T) {
	db := openDB(t, t.TempDir(), nil)
	defer db.Close()
	seedDB(t, db)

	m := labels.MustNewMatcher
	tests := []struct {
		name string
		ms   []*labels.Matcher
		want []labels.Labels
	}{
		{"equal", []*labels.Matcher{m(labels.MatchEqual, "__name__", "up")}, []labels.Labels{up1, up2}},
		{"equal two", []*labels.Matcher{m(labels.MatchEqual, "__name__", "up"), m(labels.MatchEqual, "job", "b")}, []labels.Labels{up2}},
		{"not equal", []*labels.Matcher{m(labels.MatchEqual, "job", "a"), m(labels.MatchNotEqual, "code", "200")}, []labels.Labels{up1, rq2}},
		{"regexp", []*labels.Matcher{m(labels.MatchRegexp, "code", "2..|5..")}, []labels.Labels{rq1, rq2}},
		{"regexp set", []*labels.Matcher{m(labels.MatchRegexp, "code", "200|404")}, []labels.Labels{rq1}},
		{"not regexp", []*labels.Matcher{m(labels.MatchRegexp, "__name__", ".+"), m(labels.MatchNotRegexp, "job", "a")}, []labels.Labels{up2}},
		{"empty equal selects missing label", []*labels.Matcher{m(labels.MatchEqual, "__name__", "up"), m(labels.MatchEqual, "instance", "")}, []labels.Labels{up2}},
		{"regexp matching empty selects missing label", []*labels.Matcher{m(labels.MatchRegexp, "instance", "x|")}, []labels.Labels{up1, up2, rq1, rq2}},
		{"not equal empty needs label", []*labels.Matcher{m(labels.MatchNotEqual, "instance", "")}, []labels.Labels{up1}},
		{"not regexp only", []*labels.Matcher{m(labels.MatchNotRegexp, "code", "5..")}, []labels.Labels{up1, up2, rq1}},
		{"unknown label value", []*labels.Matcher{m(labels.MatchEqual, "job", "zzz")}, nil},
		{"unknown label name", []*labels.Matcher{m(labels.MatchEqual, "nope", "x")}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := query(t, db, math.MinInt64, math.MaxInt64, tc.ms...)
			var gotNames []string
			for k := range got {
				gotNames = append(gotNames, k)
			}
			var wantNames []string
			for _, l := range tc.want {
				wantNames = append(wantNames, l.String())
			}
			slices.Sort(gotNames)
			slices.Sort(wantNames)
			if !slices.Equal(gotNames, wantNames) {
				t.Fatalf("got %v, want %v", gotNames, wantNames)
			}
		})
	}
}

func TestSelectTimeRange(t *testing.T) {
	db := openDB(t, t.TempDir(), nil)
	defer db.Close()
	seedDB(t, db)
	m := labels.MustNewMatcher(labels.MatchEqual, "code", "500")

	got := query(t, db, 2000, 4500, m)
	assertData(t, map[string][]sample{rq2.String(): {{2500, 4}, {3500, 6}, {4500, 8}}}, got)

	if got := query(t, db, 20_000, 30_000, m); len(got) != 0 {
		t.Fatalf("series without samples in range selected: %v", got)
	}

	// SeekTo honours mint and never goes backwards.
	q, _ := db.Querier(2000, 6000)
	set := q.Select(context.Background(), false, nil, m)
	if !set.Next() {
		t.Fatal("no series")
	}
	it := set.At().Iterator(nil)
	if it.SeekTo(0) != storage.ValFloat || it.AtT() != 2500 {
		t.Fatalf("SeekTo(0) at %d, want 2500", it.AtT())
	}
	if it.SeekTo(4000) != storage.ValFloat || it.AtT() != 4500 {
		t.Fatalf("SeekTo(4000) at %d, want 4500", it.AtT())
	}
	if it.SeekTo(3000) != storage.ValFloat || it.AtT() != 4500 {
		t.Fatalf("SeekTo moved backwards to %d", it.AtT())
	}
	if it.SeekTo(6000) != storage.ValNone {
		t.Fatalf("SeekTo past maxt found %d", it.AtT())
	}
}

func TestLabelNamesAndValues(t *testing.T) {
	db := openDB(t, t.TempDir(), nil)
	defer db.Close()
	seedDB(t, db)
	q, _ := db.Querier(math.MinInt64, math.MaxInt64)
	ctx := context.Background()

	tests := []struct {
		name string
		got  func() ([]string, error)
		want []string
	}{
		{"names", func() ([]string, error) { return q.LabelNames(ctx) }, []string{"__name__", "code", "instance", "job"}},
		{"names of up", func() ([]string, error) {
			return q.LabelNames(ctx, labels.MustNewMatcher(labels.MatchEqual, "__name__", "up"))
		}, []string{"__name__", "instance", "job"}},
		{"values of job", func() ([]string, error) { return q.LabelValues(ctx, "job") }, []string{"a", "b"}},
		{"values of code for job a", func() ([]string, error) {
			return q.LabelValues(ctx, "code", labels.MustNewMatcher(labels.MatchEqual, "job", "a"))
		}, []string{"200", "500"}},
		{"values of missing label", func() ([]string, error) { return q.LabelValues(ctx, "nope") }, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.got()
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) || (len(got) > 0 && !slices.Equal(got, tc.want)) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAppendRejections(t *testing.T) {
	stale := math.Float64frombits(value.StaleNaN)
	tests := []struct {
		name    string
		window  int64
		first   []appendCase // committed before
		append  appendCase
		wantErr error
		want    []sample // samples of up1 afterwards
	}{
		{"out of order without window", 0, []appendCase{{up1, 2000, 1}}, appendCase{up1, 1000, 2}, storage.ErrOutOfOrderSample, []sample{{2000, 1}}},
		{"duplicate timestamp new value", 0, []appendCase{{up1, 2000, 1}}, appendCase{up1, 2000, 2}, storage.ErrDuplicateSampleForTimestamp, []sample{{2000, 1}}},
		{"duplicate timestamp same value", 0, []appendCase{{up1, 2000, 1}}, appendCase{up1, 2000, 1}, nil, []sample{{2000, 1}}},
		{"stale marker repeated", 0, []appendCase{{up1, 2000, stale}}, appendCase{up1, 2000, stale}, nil, []sample{{2000, stale}}},
		{"stale marker after value", 0, []appendCase{{up1, 2000, 1}}, appendCase{up1, 2000, stale}, storage.ErrDuplicateSampleForTimestamp, []sample{{2000, 1}}},
		{"out of order within window", 5000, []appendCase{{up1, 1000, 1}, {up1, 9000, 9}}, appendCase{up1, 5000, 5}, nil, []sample{{1000, 1}, {5000, 5}, {9000, 9}}},
		{"out of order too old", 5000, []appendCase{{up1, 9000, 9}}, appendCase{up1, 3000, 3}, storage.ErrTooOldSample, []sample{{9000, 9}}},
		{"out of order duplicate", 5000, []appendCase{{up1, 9000, 9}, {up1, 6000, 6}}, appendCase{up1, 6000, 7}, storage.ErrDuplicateSampleForTimestamp, []sample{{6000, 6}, {9000, 9}}},
		{"window measured from the head's newest sample", 5000, []appendCase{{up1, 1000, 1}, {up2, 9000, 9}, {up1, 3000, 3}}, appendCase{up1, 2000, 2}, storage.ErrTooOldSample, []sample{{1000, 1}, {3000, 3}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t, t.TempDir(), &Options{OutOfOrderTimeWindow: tc.window})
			defer db.Close()
			for _, s := range tc.first {
				commit(t, db, s)
			}
			app := db.Appender(context.Background())
			if _, err := app.Append(0, tc.append.lset, tc.append.t, tc.append.v); !errors.Is(err, tc.wantErr) {
				t.Fatalf("Append = %v, want %v", err, tc.wantErr)
			}
			if err := app.Commit(); err != nil {
				t.Fatal(err)
			}
			got := query(t, db, math.MinInt64, math.MaxInt64, labels.MustNewMatcher(labels.MatchEqual, "instance", "x"))
			assertData(t, map[string][]sample{up1.String(): tc.want}, got)
		})
	}
}

// Conflicts inside one batch are settled at Commit: the first sample for a
// timestamp wins, and the batch's other samples still commit.
func TestCommitSettlesConflictsInBatch(t *testing.T) {
	reg := prometheus.NewRegistry()
	db := openDB(t, t.TempDir(), &Options{Registerer: reg})
	defer db.Close()
	app := db.Appender(context.Background())
	for _, s := range []appendCase{{up1, 1000, 1}, {up1, 2000, 2}, {up1, 2000, 3}, {up1, 1500, 4}, {up2, 1000, 5}} {
		if _, err := app.Append(0, s.lset, s.t, s.v); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	assertData(t, map[string][]sample{
		up1.String(): {{1000, 1}, {2000, 2}},
		up2.String(): {{1000, 5}},
	}, query(t, db, math.MinInt64, math.MaxInt64))
	if got := counterValue(db.metrics.samplesAppended); got != 3 {
		t.Fatalf("samples appended = %v, want 3", got)
	}
	if got := gathered(t, reg, "argus_tsdb_samples_rejected_total"); got != 2 {
		t.Fatalf("argus_tsdb_samples_rejected_total = %v, want 2 (one duplicate, one out of order)", got)
	}
}

func TestAppendInvalidLabels(t *testing.T) {
	db := openDB(t, t.TempDir(), nil)
	defer db.Close()
	tests := []struct {
		name string
		lset labels.Labels
	}{
		{"empty", labels.EmptyLabels()},
		{"duplicate name", labels.New(labels.Label{Name: "a", Value: "1"}, labels.Label{Name: "a", Value: "2"})},
		{"empty name", labels.FromStrings("", "x", "a", "1")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := db.Appender(context.Background())
			defer app.Rollback()
			if _, err := app.Append(0, tc.lset, 1, 1); !errors.Is(err, ErrInvalidLabels) {
				t.Fatalf("Append(%s) = %v, want ErrInvalidLabels", tc.lset, err)
			}
		})
	}
}

func TestRollbackDiscards(t *testing.T) {
	db := openDB(t, t.TempDir(), nil)
	defer db.Close()
	app := db.Appender(context.Background())
	app.Append(0, up1, 1000, 1)
	app.Rollback()
	if got := query(t, db, math.MinInt64, math.MaxInt64); len(got) != 0 {
		t.Fatalf("rolled back samples visible: %v", got)
	}
}

// Many samples cross chunk cuts; the ref returned by Append is reusable.
func TestManyChunksAndRefReuse(t *testing.T) {
	db := openDB(t, t.TempDir(), nil)
	defer db.Close()
	var ref storage.SeriesRef
	var want []sample
	for i := range 1000 {
		app := db.Appender(context.Background())
		var err error
		ts, v := int64(i)*15_000, float64(i%7)
		ref, err = app.Append(ref, up1, ts, v)
		if err != nil {
			t.Fatal(err)
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
		want = append(want, sample{ts, v})
	}
	assertData(t, map[string][]sample{up1.String(): want}, query(t, db, math.MinInt64, math.MaxInt64))
	assertData(t, map[string][]sample{up1.String(): want[400:601]}, query(t, db, want[400].t, want[600].t))
}

func TestPersistence(t *testing.T) {
	stale := math.Float64frombits(value.StaleNaN)
	fill := func(t *testing.T, db *DB) map[string][]sample {
		want := map[string][]sample{}
		for i := range 300 {
			ts := int64(i) * 1000
			v := float64(i)
			if i == 150 {
				v = stale
			}
			commit(t, db, appendCase{up1, ts, v}, appendCase{rq1, ts, -v})
			want[up1.String()] = append(want[up1.String()], sample{ts, v})
			want[rq1.String()] = append(want[rq1.String()], sample{ts, -v})
		}
		// Out-of-order samples, replayed from the WAL and WBL.
		commit(t, db, appendCase{up2, 500_000, 1}, appendCase{up2, 400_000, 2})
		commit(t, db, appendCase{up2, 450_000, 3})
		want[up2.String()] = []sample{{400_000, 2}, {450_000, 3}, {500_000, 1}}
		return want
	}

	t.Run("close and reopen", func(t *testing.T) {
		dir := t.TempDir()
		db := openDB(t, dir, &Options{OutOfOrderTimeWindow: 200_000})
		want := fill(t, db)
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		db = openDB(t, dir, nil) // window off: logged samples are still valid
		defer db.Close()
		assertData(t, want, query(t, db, math.MinInt64, math.MaxInt64))

		// New series get fresh references after replay.
		commit(t, db, appendCase{rq2, 1, 1})
		q, _ := db.Querier(math.MinInt64, math.MaxInt64)
		set := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchRegexp, "code", ".+"))
		var refs []storage.SeriesRef
		for set.Next() {
			refs = append(refs, set.At().(*headSeries).s.ref)
		}
		if len(refs) != 2 || refs[0] == refs[1] {
			t.Fatalf("references after replay: %v", refs)
		}
	})

	t.Run("abandoned without close", func(t *testing.T) {
		dir := t.TempDir()
		db := openDB(t, dir, &Options{OutOfOrderTimeWindow: 200_000})
		want := fill(t, db)
		// Simulate SIGKILL: no Close, no Sync; read a copy of what the OS has.
		copied := t.TempDir()
		copyDir(t, dir, copied)
		db2 := openDB(t, copied, nil)
		defer db2.Close()
		assertData(t, want, query(t, db2, math.MinInt64, math.MaxInt64))
		db.Close()
	})
}

func TestTornWALTailIsRepaired(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir, nil)
	for i := range 10 {
		commit(t, db, appendCase{up1, int64(i), float64(i)})
	}
	db.Close()
	seg := wlog.SegmentName(filepath.Join(dir, walDirName), 0)
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(seg, b[:len(b)-3], 0o666) // tear the last commit

	reg := prometheus.NewRegistry()
	var logs strings.Builder
	db = openDB(t, dir, &Options{Registerer: reg, Logger: slogTo(&logs)})
	defer db.Close()
	got := query(t, db, math.MinInt64, math.MaxInt64)
	if n := len(got[up1.String()]); n != 9 {
		t.Fatalf("after repair %d samples, want the 9 intact ones", n)
	}
	if v := counterValue(db.metrics.walCorruptions); v != 1 {
		t.Fatalf("corruptions metric = %v, want 1", v)
	}
	if !strings.Contains(logs.String(), "Repaired corrupt write log") {
		t.Fatalf("repair not logged: %s", logs.String())
	}
	commit(t, db, appendCase{up1, 100, 1})
}

func TestClosedDB(t *testing.T) {
	db := openDB(t, t.TempDir(), nil)
	app := db.Appender(context.Background())
	app.Append(0, up1, 1, 1)
	db.Close()
	if err := app.Commit(); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("Commit after Close = %v", err)
	}
	if _, err := db.Querier(0, 1); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("Querier after Close = %v", err)
	}
}

// Concurrent appenders and queriers; run with -race.
func TestConcurrentAppendAndQuery(t *testing.T) {
	db := openDB(t, t.TempDir(), &Options{OutOfOrderTimeWindow: 1 << 40})
	defer db.Close()
	const writers, series, rounds = 4, 50, 40
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			refs := make([]storage.SeriesRef, series)
			for r := range rounds {
				app := db.Appender(context.Background())
				for s := range series {
					// Writers share series, so commits race on them.
					l := labels.FromStrings("__name__", "m", "s", fmt.Sprint(s))
					refs[s], _ = app.Append(refs[s], l, int64(r*writers+w), float64(w))
				}
				if err := app.Commit(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range 20 {
			query(t, db, math.MinInt64, math.MaxInt64)
		}
	}()
	wg.Wait()
	got := query(t, db, math.MinInt64, math.MaxInt64)
	if len(got) != series {
		t.Fatalf("got %d series, want %d", len(got), series)
	}
	for k, samples := range got {
		if len(samples) != rounds*writers {
			t.Fatalf("series %s has %d samples, want %d", k, len(samples), rounds*writers)
		}
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o777)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), b, 0o666)
	})
	if err != nil {
		t.Fatal(err)
	}
}
