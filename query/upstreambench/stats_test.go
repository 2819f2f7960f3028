package upstreambench_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	utsdb "github.com/prometheus/prometheus/tsdb"
	ustats "github.com/prometheus/prometheus/util/stats"

	"github.com/argusmon/argus/query"
	"github.com/argusmon/argus/tsdb"
)

// The sample counts of stats=all match Prometheus's for the same data and
// queries (the peak differs by design: the engines hold different things
// in memory).
func TestStatsMatchUpstream(t *testing.T) {
	adb, err := tsdb.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer adb.Close()
	udb, err := utsdb.Open(t.TempDir(), nil, nil, utsdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer udb.Close()
	ctx := context.Background()
	var series []labels.Labels
	for i := range 6 {
		series = append(series, labels.FromStrings("__name__", "c_total", "job", []string{"a", "b"}[i%2], "i", string(rune('0'+i))))
	}
	const base = 1_700_000_000_000 - 1_700_000_000_000%3_600_000
	for n := 0; n <= 120; n++ { // 30 minutes at 15s
		aapp, uapp := adb.Appender(ctx), udb.Appender(ctx)
		for s, l := range series {
			if s == 5 && n > 60 {
				continue // one series stops half-way
			}
			v := float64(n * (s + 1))
			if _, err := aapp.Append(0, l, base+int64(n)*15_000, v); err != nil {
				t.Fatal(err)
			}
			if _, err := uapp.Append(0, l, base+int64(n)*15_000, v); err != nil {
				t.Fatal(err)
			}
		}
		if err := aapp.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := uapp.Commit(); err != nil {
			t.Fatal(err)
		}
	}

	aeng := query.NewEngine(query.EngineOpts{EnablePerStepStats: true})
	ueng := promql.NewEngine(promql.EngineOpts{MaxSamples: 1e6, Timeout: time.Minute, EnablePerStepStats: true})
	end := time.UnixMilli(base + 25*60_000)
	for _, tc := range []struct {
		expr string
		rng  time.Duration
		step time.Duration
	}{
		{"c_total", 0, 0},
		{"c_total[5m]", 0, 0},
		{"rate(c_total[5m])", 0, 0},
		{"c_total", 20 * time.Minute, time.Minute},
		{"sum by (job) (rate(c_total[5m]))", 20 * time.Minute, 30 * time.Second},
		{"count_over_time(c_total[2m])", 20 * time.Minute, time.Minute},
		{"max_over_time(rate(c_total[1m])[5m:1m])", 0, 0},
		{"max_over_time(rate(c_total[1m])[5m:1m])", 20 * time.Minute, time.Minute},
		{"c_total / on(i) c_total", 10 * time.Minute, 15 * time.Second},
	} {
		var (
			aq  query.Query
			uq  promql.Query
			err error
		)
		uopts := promql.NewPrometheusQueryOpts(true, 0, nil)
		actx := query.WithPerStepStats(ctx)
		if tc.rng == 0 {
			aq, err = aeng.NewInstantQuery(actx, adb, tc.expr, end)
			if err == nil {
				uq, err = ueng.NewInstantQuery(ctx, udb, uopts, tc.expr, end)
			}
		} else {
			aq, err = aeng.NewRangeQuery(actx, adb, tc.expr, end.Add(-tc.rng), end, tc.step)
			if err == nil {
				uq, err = ueng.NewRangeQuery(ctx, udb, uopts, tc.expr, end.Add(-tc.rng), end, tc.step)
			}
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if res := aq.Exec(ctx); res.Err != nil {
			t.Fatalf("%s: argus: %v", tc.expr, res.Err)
		}
		if res := uq.Exec(ctx); res.Err != nil {
			t.Fatalf("%s: upstream: %v", tc.expr, res.Err)
		}
		got := *aq.Stats().Samples
		want := *ustats.NewQueryStats(uq.Stats()).Builtin().Samples
		got.PeakSamples, want.PeakSamples = 0, 0
		gotJSON, _ := json.Marshal(got)
		wantJSON, _ := json.Marshal(want)
		if string(gotJSON) != string(wantJSON) {
			t.Errorf("%s over %v:\n got %s\nwant %s", tc.expr, tc.rng, gotJSON, wantJSON)
		}
	}
}
