package query

import (
	"context"
	"encoding/json"
	"time"
)

// Stats are one query's statistics, shaped as the "stats" object
// Prometheus's HTTP API returns for stats=true and stats=all, and as the
// "stats" field of its query log. Field names and JSON are Prometheus's.
type Stats struct {
	Timings Timings `json:"timings"`
	// Samples is always set for an executed query; it is a pointer only to
	// mirror Prometheus's type, where it may be absent.
	Samples *SampleStats `json:"samples,omitempty"`
}

// Timings are where a query spent its time, in seconds.
type Timings struct {
	// EvalTotalTime runs from the end of queueing to the end of Exec.
	EvalTotalTime float64 `json:"evalTotalTime"`
	// ResultSortTime is sorting a range query's series.
	ResultSortTime float64 `json:"resultSortTime"`
	// QueryPreparationTime is opening the storage querier.
	QueryPreparationTime float64 `json:"queryPreparationTime"`
	// InnerEvalTime is evaluating the expression.
	InnerEvalTime float64 `json:"innerEvalTime"`
	// ExecQueueTime is waiting for a concurrency slot.
	ExecQueueTime float64 `json:"execQueueTime"`
	// ExecTotalTime is the whole of Exec.
	ExecTotalTime float64 `json:"execTotalTime"`
}

// SampleStats count the samples a query worked through, with Prometheus's
// definitions.
type SampleStats struct {
	// TotalQueryableSamplesPerStep is TotalQueryableSamples step by step;
	// only set when per-step statistics were asked for (stats=all).
	TotalQueryableSamplesPerStep []StepStat `json:"totalQueryableSamplesPerStep,omitempty"`
	// TotalQueryableSamples counts, for every step, the samples that step
	// uses: one per selected series with a value for an instant selector,
	// the whole window for a range function (so overlapping windows count
	// a sample more than once). Subqueries count what their inner
	// expression read for the steps each outer window covers.
	TotalQueryableSamples int64 `json:"totalQueryableSamples"`
	// SamplesReadPerStep is SamplesRead step by step (stats=all only).
	SamplesReadPerStep []StepStat `json:"samplesReadPerStep,omitempty"`
	// SamplesRead counts samples read, each window counting only what the
	// previous step's window did not already hold.
	SamplesRead int64 `json:"samplesRead"`
	// SeriesTouched is the sum over selectors of the series each selected.
	SeriesTouched int64 `json:"seriesTouched"`
	// PeakSamples is the most samples held in memory at once, the figure
	// EngineOpts.MaxSamples bounds.
	PeakSamples int `json:"peakSamples"`
}

// StepStat is one step's count. It encodes as [seconds, count] like a
// Prometheus stepStat, the time a JSON number, the count an integer.
type StepStat struct {
	T int64 // milliseconds
	V int64
}

// MarshalJSON implements json.Marshaler.
func (s StepStat) MarshalJSON() ([]byte, error) {
	return json.Marshal([2]any{float64(s.T) / 1000, s.V})
}

// MarshalJSON renders the stats exactly as Prometheus's API does; the web
// layer embeds the result as the answer's "stats" field. It is defined on
// the pointer so a nil *Stats encodes as null.
func (s *Stats) MarshalJSON() ([]byte, error) {
	if s == nil {
		return []byte("null"), nil
	}
	type plain Stats // no methods: plain struct encoding, no recursion
	return json.Marshal((*plain)(s))
}

type perStepStatsKey struct{}

// WithPerStepStats returns a context that asks the engine to record
// per-step sample statistics for the queries created with it, as
// Prometheus's API does for stats=all. Pass it to NewInstantQuery or
// NewRangeQuery; it has no effect unless EngineOpts.EnablePerStepStats is
// set.
func WithPerStepStats(ctx context.Context) context.Context {
	return context.WithValue(ctx, perStepStatsKey{}, true)
}

func perStepStatsWanted(ctx context.Context) bool {
	v, _ := ctx.Value(perStepStatsKey{}).(bool)
	return v
}

// timings records the phases of one query's execution.
type timings struct {
	evalTotal, resultSort, preparation, innerEval, execQueue, execTotal time.Duration
}

func (t timings) public() Timings {
	return Timings{
		EvalTotalTime:        t.evalTotal.Seconds(),
		ResultSortTime:       t.resultSort.Seconds(),
		QueryPreparationTime: t.preparation.Seconds(),
		InnerEvalTime:        t.innerEval.Seconds(),
		ExecQueueTime:        t.execQueue.Seconds(),
		ExecTotalTime:        t.execTotal.Seconds(),
	}
}
