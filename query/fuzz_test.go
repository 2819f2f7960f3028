package query_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/argusmon/argus/query"
	"github.com/argusmon/argus/query/promqltest"
)

const fuzzData = `
load 30s
  http_requests{job="api", instance="0"} 0+10x20
  http_requests{job="api", instance="1"} 0+20x10 stale 5+1x8
  http_requests{job="web", instance="0"} 1 _ 3 NaN Inf -Inf _ 8
  limits{job="api"} 100x20
  limits{job="web"} 200x20
`

// FuzzQuery checks that no PromQL string, however odd, panics the engine:
// every input either fails to parse, fails with an error, or returns a
// result, for instant and range queries alike.
func FuzzQuery(f *testing.F) {
	for _, s := range []string{
		`http_requests`, `rate(http_requests[1m])`, `sum by (job) (http_requests)`,
		`http_requests / on(job) group_left limits`, `http_requests > bool 5`,
		`http_requests @ 60 offset -30s`, `irate(http_requests[2m] offset 1m)`,
		`-scalar(vector(time()))`, `limits or http_requests unless limits`,
		`avg_over_time(http_requests[1m:10s])`, `count(http_requests == http_requests)`,
		`http_requests[5m]`, `"str"`, `1 % 0`, `abs(-http_requests) ^ 2`,
		`max_over_time(rate(http_requests[1m])[5m:30s] offset 1m)`, `http_requests[5m:1m] @ 120`,
		`topk by (job) (1, http_requests)`, `quantile(0.9, limits)`, `count_values("v", limits)`,
		`histogram_quantile(0.9, sum by (le) (rate(http_requests[5m])))`, `label_replace(limits, "x", "$1", "job", "(.*)")`,
		`sort_desc(predict_linear(http_requests[2m], 60))`, `absent_over_time(nothing[1m:10s])`,
		`clamp(http_requests, 1, 5) + round(limits, 3)`, `stddev without (instance) (http_requests)`,
	} {
		f.Add(s)
	}
	eng := query.NewEngine(query.EngineOpts{MaxSamples: 100000, Timeout: 5 * time.Second, EnableExperimentalFunctions: true})
	store := fuzzStorage(f)
	f.Fuzz(func(t *testing.T, qs string) {
		ctx := context.Background()
		check := func(q query.Query, err error) {
			if err != nil {
				return
			}
			defer q.Close()
			if res := q.Exec(ctx); res.Err != nil && strings.Contains(res.Err.Error(), "unexpected error") {
				t.Fatalf("query %q panicked: %v", qs, res.Err)
			}
		}
		check(eng.NewInstantQuery(ctx, store, qs, time.UnixMilli(300_000)))
		check(eng.NewRangeQuery(ctx, store, qs, time.UnixMilli(0), time.UnixMilli(600_000), 45*time.Second))
	})
}

// fuzzStorage loads fuzzData into a storage.
func fuzzStorage(tb testing.TB) *promqltest.Storage {
	tb.Helper()
	script, err := promqltest.Parse("fuzz", fuzzData)
	if err != nil {
		tb.Fatal(err)
	}
	st := promqltest.NewStorage()
	for _, c := range script.Commands {
		if err := promqltest.Load(st, c); err != nil {
			tb.Fatal(err)
		}
	}
	return st
}
