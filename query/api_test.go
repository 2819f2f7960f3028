package query_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/query"
	"github.com/argusmon/argus/query/promqltest"
	"github.com/argusmon/argus/storage"
)

// loadStorage returns a storage holding n series metric{i="0".."n-1"}
// with a sample every 10s for the first 'minutes' minutes.
func loadStorage(t testing.TB, n, minutes int) *promqltest.Storage {
	t.Helper()
	st := promqltest.NewStorage()
	for i := 0; i < n; i++ {
		l := labels.FromStrings("__name__", "metric", "i", string(rune('a'+i%26))+strings.Repeat("x", i/26))
		for ts := int64(0); ts <= int64(minutes)*60000; ts += 10000 {
			if err := st.Add(l, ts, float64(ts/1000)); err != nil {
				t.Fatal(err)
			}
		}
	}
	return st
}

func TestResultTypes(t *testing.T) {
	st := loadStorage(t, 2, 10)
	eng := query.NewEngine(query.EngineOpts{})
	ctx := context.Background()
	at := time.UnixMilli(5 * 60000)

	tests := []struct {
		expr string
		want string // parser.ValueType
	}{
		{"metric", "vector"},
		{"1 + 1", "scalar"},
		{`"s"`, "string"},
		{"metric[1m]", "matrix"},
	}
	for _, tc := range tests {
		q, err := eng.NewInstantQuery(ctx, st, tc.expr, at)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if q.Statement().String() != tc.expr {
			t.Errorf("Statement() = %q, want %q", q.Statement(), tc.expr)
		}
		res := q.Exec(ctx)
		q.Close()
		if res.Err != nil {
			t.Fatalf("%s: %v", tc.expr, res.Err)
		}
		if got := string(res.Value.Type()); got != tc.want {
			t.Errorf("%s: result type %s, want %s", tc.expr, got, tc.want)
		}
	}

	// A range query always returns a matrix, sorted by labels.
	q, err := eng.NewRangeQuery(ctx, st, "metric", time.UnixMilli(0), at, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	mat, err := q.Exec(ctx).Matrix()
	if err != nil {
		t.Fatal(err)
	}
	if len(mat) != 2 || len(mat[0].Floats) != 6 || labels.Compare(mat[0].Metric, mat[1].Metric) >= 0 {
		t.Errorf("range query result = %v", mat)
	}
	q, err = eng.NewRangeQuery(ctx, st, "time()", time.UnixMilli(0), at, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if mat, err := q.Exec(ctx).Matrix(); err != nil || len(mat) != 1 || !mat[0].Metric.IsEmpty() {
		t.Errorf("range query of a scalar = %v, %v; want one series without labels", mat, err)
	}
}

func TestQueryConstructionErrors(t *testing.T) {
	st := promqltest.NewStorage()
	eng := query.NewEngine(query.EngineOpts{})
	ctx := context.Background()
	now := time.UnixMilli(0)
	tests := []struct {
		name    string
		new     func() (query.Query, error)
		wantErr string
	}{
		{"parse error", func() (query.Query, error) { return eng.NewInstantQuery(ctx, st, "sum(", now) }, "parse error"},
		{"range selector in range query", func() (query.Query, error) {
			return eng.NewRangeQuery(ctx, st, "x[5m]", now, now.Add(time.Hour), time.Minute)
		}, `invalid expression type "range vector" for range query, must be Scalar or instant Vector`},
		{"string in range query", func() (query.Query, error) {
			return eng.NewRangeQuery(ctx, st, `"a"`, now, now.Add(time.Hour), time.Minute)
		}, `invalid expression type "string" for range query`},
		{"zero step", func() (query.Query, error) { return eng.NewRangeQuery(ctx, st, "x", now, now, 0) }, "step must be positive"},
		{"end before start", func() (query.Query, error) {
			return eng.NewRangeQuery(ctx, st, "x", now.Add(time.Hour), now, time.Minute)
		}, "end must not be before"},
		{"zero duration expression", func() (query.Query, error) {
			return eng.NewInstantQuery(ctx, st, "x[1m - 1m]", now)
		}, "duration must be greater than 0"},
		{"experimental function", func() (query.Query, error) {
			return eng.NewInstantQuery(ctx, st, "sort_by_label(x, \"a\")", now)
		}, "is not enabled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.new()
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}

	exp := query.NewEngine(query.EngineOpts{EnableExperimentalFunctions: true})
	if _, err := exp.NewInstantQuery(ctx, st, "sort_by_label(x, \"a\")", now); err != nil {
		t.Errorf("with experimental functions enabled: %v", err)
	}
}

func TestMaxSamples(t *testing.T) {
	st := loadStorage(t, 10, 10)
	ctx := context.Background()
	tests := []struct {
		expr       string
		instant    bool
		maxSamples int
		wantErr    bool
	}{
		{"metric", true, 10, false},
		{"metric", true, 9, true},
		{"sum(metric)", true, 11, false}, // the 10 inputs are held while the sum is built
		{"sum(metric)", true, 10, true},
		{"metric[1m]", true, 60, false}, // 10 series x 6 samples in (4m, 5m]
		{"metric[1m]", true, 59, true},
		{"rate(metric[1m])", true, 20, false},
		{"rate(metric[1m])", true, 5, true}, // one window of 6 does not fit
		{"metric", false, 60, false},        // 10 series x 6 steps
		{"metric", false, 59, true},
		{"metric + metric", false, 180, false}, // both operands and the result
		{"metric + metric", false, 179, true},
	}
	for _, tc := range tests {
		eng := query.NewEngine(query.EngineOpts{MaxSamples: tc.maxSamples})
		var q query.Query
		var err error
		if tc.instant {
			q, err = eng.NewInstantQuery(ctx, st, tc.expr, time.UnixMilli(5*60000))
		} else {
			q, err = eng.NewRangeQuery(ctx, st, tc.expr, time.UnixMilli(0), time.UnixMilli(5*60000), time.Minute)
		}
		if err != nil {
			t.Fatal(err)
		}
		res := q.Exec(ctx)
		var tooMany query.ErrTooManySamples
		if got := errors.As(res.Err, &tooMany); got != tc.wantErr {
			t.Errorf("%s with max %d: err = %v, want too many samples: %v", tc.expr, tc.maxSamples, res.Err, tc.wantErr)
		}
		if tc.wantErr && res.Err.Error() != "query processing would load too many samples into memory in query execution" {
			t.Errorf("message = %q", res.Err)
		}
	}
}

// blockingStorage is a Queryable whose Select waits until its context ends,
// like a storage stuck on slow disk or network.
type blockingStorage struct{ started chan struct{} }

func (b blockingStorage) Querier(int64, int64) (storage.Querier, error) {
	return blockingQuerier(b), nil
}

type blockingQuerier blockingStorage

func (b blockingQuerier) Select(ctx context.Context, _ bool, _ *storage.SelectHints, _ ...*labels.Matcher) storage.SeriesSet {
	if b.started != nil {
		close(b.started)
	}
	<-ctx.Done()
	return storage.ErrSeriesSet(ctx.Err())
}
func (blockingQuerier) LabelValues(context.Context, string, ...*labels.Matcher) ([]string, error) {
	return nil, nil
}
func (blockingQuerier) LabelNames(context.Context, ...*labels.Matcher) ([]string, error) {
	return nil, nil
}
func (blockingQuerier) Close() error { return nil }

func TestTimeoutAndCancel(t *testing.T) {
	ctx := context.Background()
	now := time.UnixMilli(0)

	eng := query.NewEngine(query.EngineOpts{Timeout: 20 * time.Millisecond})
	q, err := eng.NewInstantQuery(ctx, blockingStorage{}, "x", now)
	if err != nil {
		t.Fatal(err)
	}
	var timeout query.ErrQueryTimeout
	if res := q.Exec(ctx); !errors.As(res.Err, &timeout) || res.Err.Error() != "query timed out in expression evaluation" {
		t.Errorf("engine timeout: err = %v", res.Err)
	}

	// The caller's context deadline counts as a timeout too.
	eng = query.NewEngine(query.EngineOpts{})
	q, _ = eng.NewInstantQuery(ctx, blockingStorage{}, "x", now)
	dctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if res := q.Exec(dctx); !errors.As(res.Err, &timeout) {
		t.Errorf("context deadline: err = %v", res.Err)
	}

	// Cancel from another goroutine stops a running query.
	started := make(chan struct{})
	q, _ = eng.NewInstantQuery(ctx, blockingStorage{started: started}, "x", now)
	go func() { <-started; q.Cancel() }()
	var canceled query.ErrQueryCanceled
	if res := q.Exec(ctx); !errors.As(res.Err, &canceled) || res.Err.Error() != "query was canceled in expression evaluation" {
		t.Errorf("Cancel: err = %v", res.Err)
	}

	// A query canceled before Exec does not run.
	q, _ = eng.NewInstantQuery(ctx, blockingStorage{}, "x", now)
	q.Cancel()
	if res := q.Exec(ctx); !errors.As(res.Err, &canceled) {
		t.Errorf("Cancel before Exec: err = %v", res.Err)
	}

	// A long evaluation notices cancellation inside its loops.
	st := loadStorage(t, 50, 60)
	cctx, cancel2 := context.WithCancel(ctx)
	cancel2()
	q, _ = eng.NewRangeQuery(ctx, st, "sum(rate(metric[5m]))", now, now.Add(time.Hour), time.Second)
	if res := q.Exec(cctx); !errors.As(res.Err, &canceled) {
		t.Errorf("canceled context: err = %v", res.Err)
	}
}

func TestConcurrencyGate(t *testing.T) {
	reg := prometheus.NewRegistry()
	eng := query.NewEngine(query.EngineOpts{MaxConcurrent: 1, Registerer: reg})
	ctx := context.Background()
	now := time.UnixMilli(0)

	started := make(chan struct{})
	first, _ := eng.NewInstantQuery(ctx, blockingStorage{started: started}, "x", now)
	done := make(chan *query.Result)
	go func() { done <- first.Exec(ctx) }()
	<-started

	// The second query waits for the slot; its context ends first.
	second, _ := eng.NewInstantQuery(ctx, promqltest.NewStorage(), "1", now)
	wctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	var timeout query.ErrQueryTimeout
	if res := second.Exec(wctx); !errors.As(res.Err, &timeout) || res.Err.Error() != "query timed out in query queue" {
		t.Errorf("queued query: err = %v", res.Err)
	}
	if got := counterValue(t, reg, "argus_engine_queries_queued_total"); got != 1 {
		t.Errorf("queued counter = %v, want 1", got)
	}

	// Once the first query ends, the slot is free again.
	first.Cancel()
	<-done
	third, _ := eng.NewInstantQuery(ctx, promqltest.NewStorage(), "1", now)
	if s, err := third.Exec(ctx).Scalar(); err != nil || s.V != 1 {
		t.Errorf("after the slot freed: %v, %v", s, err)
	}
}

func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}

func TestStorageError(t *testing.T) {
	st := promqltest.NewStorage()
	st.SelectErr = errors.New("disk on fire")
	eng := query.NewEngine(query.EngineOpts{})
	q, _ := eng.NewInstantQuery(context.Background(), st, "sum(rate(x[5m]))", time.UnixMilli(0))
	res := q.Exec(context.Background())
	var se query.ErrStorage
	if !errors.As(res.Err, &se) || !errors.Is(res.Err, st.SelectErr) {
		t.Fatalf("err = %v, want ErrStorage wrapping the storage's error", res.Err)
	}
}

func TestDelayedNameRemoval(t *testing.T) {
	promqltest.RunTest(t, "delayed", `
load 1m
  a_total{job="x"} 0+1x10
  b_total{job="x"} 0+2x10

# Without the feature this fails: both rates are {job="x"} once the name
# goes. With it, the name goes only at the end, after the aggregation.
eval instant at 5m sum by (job) (rate({__name__=~".*_total"}[5m]))
  {job="x"} 0.05

# ... which also means grouping by the name still sees two groups, that
# collide at the end, as in Prometheus.
eval instant at 5m sum by (__name__) (rate({__name__=~".*_total"}[5m]))
  expect fail msg: vector cannot contain metrics with the same labelset

eval instant at 5m rate({__name__=~".*_total"}[5m])
  expect fail msg: vector cannot contain metrics with the same labelset

eval instant at 5m last_over_time(a_total[5m])
  a_total{job="x"} 5

eval instant at 5m a_total > bool 1
  {job="x"} 1
`, query.NewEngine(query.EngineOpts{EnableDelayedNameRemoval: true}))
}

// TestResultAnnotations checks that warnings and infos reach the Result
// separately, once each, and never turn into errors.
func TestResultAnnotations(t *testing.T) {
	st := loadStorage(t, 2, 10)
	eng := query.NewEngine(query.EngineOpts{})
	ctx := context.Background()
	tests := []struct {
		expr                    string
		instant                 bool
		wantWarnings, wantInfos int
	}{
		{expr: "rate(metric[1m])", instant: true, wantInfos: 1},
		{expr: "rate(metric[1m]) + rate(metric[1m])", instant: true, wantInfos: 2}, // two positions
		{expr: "sort(metric)", wantWarnings: 1},
		{expr: "quantile(2, metric) + quantile(-1, metric)", instant: true, wantWarnings: 2},
		{expr: "sum(metric)", instant: true},
	}
	for _, tc := range tests {
		var (
			q   query.Query
			err error
		)
		if tc.instant {
			q, err = eng.NewInstantQuery(ctx, st, tc.expr, time.UnixMilli(300_000))
		} else {
			q, err = eng.NewRangeQuery(ctx, st, tc.expr, time.UnixMilli(0), time.UnixMilli(300_000), time.Minute)
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		res := q.Exec(ctx)
		q.Close()
		if res.Err != nil {
			t.Fatalf("%s: %v", tc.expr, res.Err)
		}
		if len(res.Warnings) != tc.wantWarnings || len(res.Infos) != tc.wantInfos {
			t.Errorf("%s: warnings %q, infos %q; want %d and %d", tc.expr, res.Warnings, res.Infos, tc.wantWarnings, tc.wantInfos)
		}
	}
}

// TestWithLookbackDelta: a per-query lookback overrides the engine's, as
// the API's lookback_delta parameter needs.
func TestWithLookbackDelta(t *testing.T) {
	st := loadStorage(t, 1, 1) // samples from 0s to 60s
	eng := query.NewEngine(query.EngineOpts{LookbackDelta: 5 * time.Minute})
	at := time.UnixMilli(90_000) // 30s after the last sample
	for _, tc := range []struct {
		lookback time.Duration
		want     int
	}{
		{0, 1},                // the engine's 5m reaches back to 60s
		{20 * time.Second, 0}, // 20s does not
		{40 * time.Second, 1},
	} {
		ctx := query.WithLookbackDelta(context.Background(), tc.lookback)
		qry, err := eng.NewInstantQuery(ctx, st, "metric", at)
		if err != nil {
			t.Fatal(err)
		}
		res := qry.Exec(ctx)
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		if got := len(res.Value.(query.Vector)); got != tc.want {
			t.Errorf("lookback %s: %d series, want %d", tc.lookback, got, tc.want)
		}
	}
}
