package query_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	ustats "github.com/prometheus/prometheus/util/stats"

	"github.com/argusmon/argus/query"
)

// The sample counts a user sees in stats=all, over 2 series with a sample
// every 10s.
func TestQueryStatsSamples(t *testing.T) {
	st := loadStorage(t, 2, 20)
	eng := query.NewEngine(query.EngineOpts{EnablePerStepStats: true})
	perStep := query.WithPerStepStats(context.Background())
	at := time.UnixMilli(300_000)
	step := func(sec float64, v int64) query.StepStat { return query.StepStat{T: int64(sec * 1000), V: v} }

	tests := []struct {
		name      string
		ctx       context.Context
		expr      string
		rangeStep time.Duration // 0 for an instant query at 300s
		rangeEnd  time.Time
		want      query.SampleStats // PeakSamples is checked apart
	}{
		{
			name: "instant selector",
			ctx:  context.Background(),
			expr: "metric",
			want: query.SampleStats{TotalQueryableSamples: 2, SamplesRead: 2, SeriesTouched: 2},
		},
		{
			name: "instant selector, per step",
			ctx:  perStep,
			expr: "metric",
			want: query.SampleStats{
				TotalQueryableSamples: 2, SamplesRead: 2, SeriesTouched: 2,
				TotalQueryableSamplesPerStep: []query.StepStat{step(300, 2)},
				SamplesReadPerStep:           []query.StepStat{step(300, 2)},
			},
		},
		{
			// Each window (t-1m, t] holds 6 samples per series; the second
			// window reads 6 new ones per series.
			name:      "range query over a range function",
			ctx:       perStep,
			expr:      "rate(metric[1m])",
			rangeStep: time.Minute,
			rangeEnd:  time.UnixMilli(360_000),
			want: query.SampleStats{
				TotalQueryableSamples: 24, SamplesRead: 24, SeriesTouched: 2,
				TotalQueryableSamplesPerStep: []query.StepStat{step(300, 12), step(360, 12)},
				SamplesReadPerStep:           []query.StepStat{step(300, 12), step(360, 12)},
			},
		},
		{
			// Overlapping windows count the overlap again in the total but
			// not in the samples read.
			name:      "overlapping windows",
			ctx:       perStep,
			expr:      "sum(count_over_time(metric[1m]))",
			rangeStep: 30 * time.Second,
			rangeEnd:  time.UnixMilli(330_000),
			want: query.SampleStats{
				TotalQueryableSamples: 24, SamplesRead: 18, SeriesTouched: 2,
				TotalQueryableSamplesPerStep: []query.StepStat{step(300, 12), step(330, 12)},
				SamplesReadPerStep:           []query.StepStat{step(300, 12), step(330, 6)},
			},
		},
		{
			name:      "range query without per-step stats asked",
			ctx:       context.Background(),
			expr:      "metric",
			rangeStep: time.Minute,
			rangeEnd:  time.UnixMilli(420_000),
			want:      query.SampleStats{TotalQueryableSamples: 6, SamplesRead: 6, SeriesTouched: 2},
		},
		{
			// The subquery evaluates metric at 270s and 300s.
			name: "subquery",
			ctx:  perStep,
			expr: "max_over_time(metric[1m:30s])",
			want: query.SampleStats{
				TotalQueryableSamples: 4, SamplesRead: 4, SeriesTouched: 2,
				TotalQueryableSamplesPerStep: []query.StepStat{step(300, 4)},
				SamplesReadPerStep:           []query.StepStat{step(300, 4)},
			},
		},
		{
			// Outer steps at 300s and 330s see subquery steps {270, 300}
			// and {300, 330}: the one at 300s counts twice in the total,
			// once in the samples read.
			name:      "subquery in a range query",
			ctx:       perStep,
			expr:      "max_over_time(metric[1m:30s])",
			rangeStep: 30 * time.Second,
			rangeEnd:  time.UnixMilli(330_000),
			want: query.SampleStats{
				TotalQueryableSamples: 8, SamplesRead: 6, SeriesTouched: 2,
				TotalQueryableSamplesPerStep: []query.StepStat{step(300, 4), step(330, 4)},
				SamplesReadPerStep:           []query.StepStat{step(300, 4), step(330, 2)},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var (
				q   query.Query
				err error
			)
			if tc.rangeStep > 0 {
				q, err = eng.NewRangeQuery(tc.ctx, st, tc.expr, at, tc.rangeEnd, tc.rangeStep)
			} else {
				q, err = eng.NewInstantQuery(tc.ctx, st, tc.expr, at)
			}
			if err != nil {
				t.Fatal(err)
			}
			if res := q.Exec(context.Background()); res.Err != nil {
				t.Fatal(res.Err)
			}
			got := *q.Stats().Samples
			if got.PeakSamples <= 0 {
				t.Errorf("PeakSamples = %d, want it positive", got.PeakSamples)
			}
			got.PeakSamples = 0
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(tc.want)
			if string(gotJSON) != string(wantJSON) {
				t.Errorf("samples\n got %s\nwant %s", gotJSON, wantJSON)
			}
		})
	}
}

// A query that holds more in memory reports a higher peak, and the peak
// is what MaxSamples bounds.
func TestQueryStatsPeakSamples(t *testing.T) {
	st := loadStorage(t, 3, 20)
	eng := query.NewEngine(query.EngineOpts{})
	ctx := context.Background()
	peak := func(expr string) int {
		q, err := eng.NewRangeQuery(ctx, st, expr, time.UnixMilli(0), time.UnixMilli(600_000), time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if res := q.Exec(ctx); res.Err != nil {
			t.Fatal(res.Err)
		}
		return q.Stats().Samples.PeakSamples
	}
	// 3 series × 11 steps held, then the 11-point sum on top.
	if got := peak("sum(metric)"); got != 3*11+11 {
		t.Errorf("sum(metric) peak = %d, want %d", got, 3*11+11)
	}
	// Too small a MaxSamples for that peak fails the query.
	small := query.NewEngine(query.EngineOpts{MaxSamples: 3*11 + 10})
	q, err := small.NewRangeQuery(ctx, st, "sum(metric)", time.UnixMilli(0), time.UnixMilli(600_000), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if res := q.Exec(ctx); res.Err == nil {
		t.Error("query within a MaxSamples below its peak succeeded")
	}
}

// Timings are measured, nest as Prometheus's do, and are zero before Exec.
func TestQueryStatsTimings(t *testing.T) {
	st := loadStorage(t, 2, 20)
	eng := query.NewEngine(query.EngineOpts{})
	ctx := context.Background()
	q, err := eng.NewRangeQuery(ctx, st, "rate(metric[1m])", time.UnixMilli(0), time.UnixMilli(1_200_000), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := q.Stats().Timings; got != (query.Timings{}) {
		t.Errorf("timings before Exec = %+v, want zeros", got)
	}
	if res := q.Exec(ctx); res.Err != nil {
		t.Fatal(res.Err)
	}
	tm := q.Stats().Timings
	if tm.ExecTotalTime <= 0 || tm.EvalTotalTime <= 0 || tm.InnerEvalTime <= 0 {
		t.Errorf("timings %+v: exec, eval and inner eval must be measured", tm)
	}
	if tm.EvalTotalTime > tm.ExecTotalTime || tm.InnerEvalTime > tm.EvalTotalTime ||
		tm.QueryPreparationTime > tm.EvalTotalTime || tm.ResultSortTime > tm.EvalTotalTime ||
		tm.ExecQueueTime > tm.ExecTotalTime {
		t.Errorf("timings %+v do not nest", tm)
	}
}

// The stats object encodes exactly as Prometheus's API encodes its own.
func TestStatsJSONMatchesPrometheus(t *testing.T) {
	ours := &query.Stats{
		Samples: &query.SampleStats{
			TotalQueryableSamplesPerStep: []query.StepStat{{T: 1_700_000_000_000, V: 7}, {T: 1_700_000_015_500, V: 3}},
			TotalQueryableSamples:        10,
			SamplesReadPerStep:           []query.StepStat{{T: 1_700_000_000_000, V: 7}, {T: 1_700_000_015_500, V: 1}},
			SamplesRead:                  8,
			SeriesTouched:                4,
			PeakSamples:                  12,
		},
	}
	upstream := ustats.NewQueryStats(&ustats.Statistics{
		Timers: ustats.NewQueryTimers(),
		Samples: &ustats.QuerySamples{
			PeakSamples:         12,
			TotalSamples:        10,
			TotalSamplesPerStep: []int64{7, 3},
			SamplesRead:         8,
			SamplesReadPerStep:  []int64{7, 1},
			TotalSeries:         4,
			EnablePerStepStats:  true,
			StartTimestamp:      1_700_000_000_000,
			Interval:            15_500,
		},
	})
	got, err := json.Marshal(ours)
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(upstream)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("stats JSON\n got %s\nwant %s", got, want)
	}

	// Without per-step stats the per-step fields are absent, as upstream.
	ours.Samples.TotalQueryableSamplesPerStep, ours.Samples.SamplesReadPerStep = nil, nil
	upstream = ustats.NewQueryStats(&ustats.Statistics{
		Timers:  ustats.NewQueryTimers(),
		Samples: &ustats.QuerySamples{PeakSamples: 12, TotalSamples: 10, SamplesRead: 8, TotalSeries: 4},
	})
	got, _ = json.Marshal(ours)
	want, _ = json.Marshal(upstream)
	if string(got) != string(want) {
		t.Errorf("stats JSON without per-step\n got %s\nwant %s", got, want)
	}
	if b, _ := json.Marshal((*query.Stats)(nil)); string(b) != "null" {
		t.Errorf("nil stats encode as %s", b)
	}
}
