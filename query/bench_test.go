package query_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/query"
	"github.com/argusmon/argus/query/promqltest"
)

// BenchmarkRangeQuery measures range queries over 100 series scraped every
// 15s for 6h, evaluated at a 1m step, and reports input samples per second.
func BenchmarkRangeQuery(b *testing.B) {
	const (
		series   = 100
		interval = 15_000
		span     = 6 * 3600_000
	)
	st := promqltest.NewStorage()
	for i := 0; i < series; i++ {
		l := labels.FromStrings("__name__", "http_requests_total", "job", fmt.Sprintf("job%d", i%10), "instance", fmt.Sprint(i))
		for ts := int64(0); ts <= span; ts += interval {
			if err := st.Add(l, ts, float64(ts/1000*(int64(i)+1))); err != nil {
				b.Fatal(err)
			}
		}
	}
	eng := query.NewEngine(query.EngineOpts{})
	ctx := context.Background()
	for _, qs := range []string{
		"http_requests_total",
		"rate(http_requests_total[5m])",
		"sum by (job) (rate(http_requests_total[5m]))",
		"http_requests_total / on(instance) http_requests_total",
		"max_over_time(rate(http_requests_total[5m])[30m:1m])",
		"topk(3, http_requests_total)",
		"histogram_quantile(0.9, sum by (le) (rate(http_requests_total[5m])))",
	} {
		b.Run(qs, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				q, err := eng.NewRangeQuery(ctx, st, qs, time.UnixMilli(0), time.UnixMilli(span), time.Minute)
				if err != nil {
					b.Fatal(err)
				}
				if res := q.Exec(ctx); res.Err != nil {
					b.Fatal(res.Err)
				}
				q.Close()
			}
			b.ReportMetric(float64(series*(span/interval+1))*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
		})
	}
}
