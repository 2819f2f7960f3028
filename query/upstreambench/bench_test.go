package upstreambench_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	ustorage "github.com/prometheus/prometheus/storage"
	utsdb "github.com/prometheus/prometheus/tsdb"

	"github.com/argusmon/argus/query"
	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb"
)

// The side-by-side benchmark data set: 10,000 series scraped every 15s.
// 8,000 are request counters (10 jobs × 400 instances × 2 codes), 2,000
// are histogram buckets (10 jobs × 20 instances × 10 le values).
const (
	sbJobs      = 10
	sbInstances = 400
	sbBucketIns = 20
	sbInterval  = 15_000
	sbBase      = 1_700_000_000_000 - 1_700_000_000_000%3_600_000
)

// sbSpan is how much data each series holds; see BenchmarkQueryVsUpstream.
var sbSpan = int64(24 * time.Hour / time.Millisecond)

var sbLe = []string{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf"}

// sbSeries returns the 10,000 label sets of the data set.
func sbSeries() []labels.Labels {
	var out []labels.Labels
	for j := range sbJobs {
		job := fmt.Sprintf("job-%d", j)
		for i := range sbInstances {
			inst := fmt.Sprintf("10.0.%d.%d:9100", i/256, i%256)
			for _, code := range []string{"200", "500"} {
				out = append(out, labels.FromStrings("__name__", "http_requests_total", "code", code, "instance", inst, "job", job))
			}
		}
		for i := range sbBucketIns {
			inst := fmt.Sprintf("10.1.%d.%d:9100", i/256, i%256)
			for _, le := range sbLe {
				out = append(out, labels.FromStrings("__name__", "http_request_duration_seconds_bucket", "instance", inst, "job", job, "le", le))
			}
		}
	}
	return out
}

// sbValue is series s's counter value at scrape n: increasing by a
// series-specific amount that varies a little per scrape, so chunks hold
// realistic XOR deltas rather than constants.
func sbValue(s, n int) float64 {
	return float64(n*(s%17+1)) + float64((n*7+s)%5)
}

// sbFixture holds the same data in Argus's and upstream's storage.
type sbFixture struct {
	argus    *tsdb.DB
	upstream *utsdb.DB
}

// sbDir is the fixture's directory, removed by TestMain once every test
// and benchmark of the process has run.
var sbDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if sbDir != "" {
		if fx, err := sbData(); err == nil {
			_ = fx.argus.Close()
			_ = fx.upstream.Close()
		}
		_ = os.RemoveAll(sbDir)
	}
	os.Exit(code)
}

// sbData is built once per benchmark process: generating and ingesting
// the data set twice takes far longer than any one query.
var sbData = sync.OnceValues(func() (*sbFixture, error) {
	series := sbSeries()
	dir, err := os.MkdirTemp("", "argus-query-bench-")
	if err != nil {
		return nil, err
	}
	sbDir = dir
	adb, err := tsdb.Open(dir+"/argus", nil)
	if err != nil {
		return nil, fmt.Errorf("opening argus tsdb: %w", err)
	}
	// Both databases keep Prometheus's default block layout, so that both
	// engines read a day as a running server holds it: in blocks of 2h and
	// larger, with the last hours in the head.
	udb, err := utsdb.Open(dir+"/upstream", nil, nil, utsdb.DefaultOptions(), nil)
	if err != nil {
		return nil, fmt.Errorf("opening upstream tsdb: %w", err)
	}
	udb.DisableCompactions()

	ctx := context.Background()
	arefs := make([]storage.SeriesRef, len(series))
	urefs := make([]ustorage.SeriesRef, len(series))
	for n := 0; int64(n)*sbInterval <= sbSpan; n++ {
		ts := sbBase + int64(n)*sbInterval
		aapp := adb.Appender(ctx)
		uapp := udb.Appender(ctx)
		for s, l := range series {
			v := sbValue(s, n)
			if arefs[s], err = aapp.Append(arefs[s], l, ts, v); err != nil {
				return nil, fmt.Errorf("argus append: %w", err)
			}
			if urefs[s], err = uapp.Append(urefs[s], l, ts, v); err != nil {
				return nil, fmt.Errorf("upstream append: %w", err)
			}
		}
		if err := aapp.Commit(); err != nil {
			return nil, fmt.Errorf("argus commit: %w", err)
		}
		if err := uapp.Commit(); err != nil {
			return nil, fmt.Errorf("upstream commit: %w", err)
		}
	}
	// Finish the compactions the ingestion started, as a running server
	// would have long before; left to the background loop they would run
	// during, and be charged to, the first benchmarks.
	if err := adb.Compact(ctx); err != nil {
		return nil, fmt.Errorf("argus compact: %w", err)
	}
	if err := udb.Compact(ctx); err != nil {
		return nil, fmt.Errorf("upstream compact: %w", err)
	}
	return &sbFixture{argus: adb, upstream: udb}, nil
})

// BenchmarkQueryVsUpstream runs the same queries through Argus's engine
// over Argus's tsdb and through Prometheus's engine over Prometheus's tsdb,
// both holding the same 10,000 series × 24h at a 15s interval.
// Instant queries run at the end of the data; range queries cover the last
// hour at a 15s step and the whole day at a 1m step, as dashboards do.
func BenchmarkQueryVsUpstream(b *testing.B) {
	if testing.Short() {
		b.Skip("builds a 57M-sample data set")
	}
	fx, err := sbData()
	if err != nil {
		b.Fatal(err)
	}
	queries := []struct{ name, expr string }{
		{"rate", `rate(http_requests_total{job="job-1"}[5m])`},
		{"sum_rate", `sum by (job) (rate(http_requests_total[5m]))`},
		{"hist_quantile", `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))`},
		{"topk", `topk(5, rate(http_requests_total[5m]))`},
		{"join", `sum by (job, instance) (rate(http_requests_total{code="500"}[5m])) / on(job, instance) sum by (job, instance) (rate(http_requests_total[5m]))`},
		{"subquery", `max_over_time(sum by (job) (rate(http_requests_total[5m]))[1h:1m])`},
	}
	end := time.UnixMilli(sbBase + sbSpan)
	shapes := []struct {
		name  string
		rng   time.Duration // 0 for an instant query
		step  time.Duration
		steps int
	}{
		{"instant", 0, 0, 1},
		{"range_1h_15s", time.Hour, 15 * time.Second, 241},
		{"range_24h_1m", 24 * time.Hour, time.Minute, 1441},
	}
	if sbSpan < int64(24*time.Hour/time.Millisecond) {
		shapes[2].name, shapes[2].rng, shapes[2].steps = "range_span_1m", time.Duration(sbSpan)*time.Millisecond, int(sbSpan/60000)+1
	}

	aeng := query.NewEngine(query.EngineOpts{MaxSamples: 500_000_000})
	ueng := promql.NewEngine(promql.EngineOpts{MaxSamples: 500_000_000, Timeout: time.Hour})
	ctx := context.Background()
	for _, sh := range shapes {
		for _, qc := range queries {
			b.Run(sh.name+"/"+qc.name, func(b *testing.B) {
				b.Run("argus", func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						var q query.Query
						var err error
						if sh.rng == 0 {
							q, err = aeng.NewInstantQuery(ctx, fx.argus, qc.expr, end)
						} else {
							q, err = aeng.NewRangeQuery(ctx, fx.argus, qc.expr, end.Add(-sh.rng), end, sh.step)
						}
						if err != nil {
							b.Fatal(err)
						}
						if res := q.Exec(ctx); res.Err != nil {
							b.Fatal(res.Err)
						}
						q.Close()
					}
				})
				b.Run("upstream", func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						var q promql.Query
						var err error
						if sh.rng == 0 {
							q, err = ueng.NewInstantQuery(ctx, fx.upstream, nil, qc.expr, end)
						} else {
							q, err = ueng.NewRangeQuery(ctx, fx.upstream, nil, qc.expr, end.Add(-sh.rng), end, sh.step)
						}
						if err != nil {
							b.Fatal(err)
						}
						if res := q.Exec(ctx); res.Err != nil {
							b.Fatal(res.Err)
						}
						q.Close()
					}
				})
			})
		}
	}
}
