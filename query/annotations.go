package query

import (
	"fmt"
	"math"
	"time"

	"github.com/prometheus/prometheus/promql/parser/posrange"
)

// Annotation texts, worded as Prometheus words them because clients and
// test suites match on them.
const (
	warnPrefix = "PromQL warning: "
	infoPrefix = "PromQL info: "

	msgInvalidQuantile    = "quantile value should be between 0 and 1, got %g"
	msgInvalidRatio       = "ratio value should be between -1 and 1, got %g, capping to %g"
	msgBadBucketLabel     = `bucket label "le" is missing or has a malformed value of %q`
	msgSortInRangeQuery   = "sort is ineffective for range queries since results are always ordered by labels"
	msgPossibleNonCounter = "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: %q"
	msgForcedMonotonic    = "input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)"
)

// annotations collects the warnings and infos of one query, without
// duplicates and in the order first raised. Subquery evaluators share
// their parent's.
type annotations struct {
	query    string
	seen     map[string]bool
	warnings []string
	infos    []string
	// monotonicity merges histogram_quantile's monotonicity fixes per
	// metric and position into one info, as Prometheus does.
	monotonicity map[monotonicityKey]*monotonicityFix
	order        []monotonicityKey
}

type monotonicityKey struct {
	metric string
	pos    posrange.PositionRange
}

type monotonicityFix struct {
	minTs, maxTs                  int64
	minBucket, maxBucket, maxDiff float64
	count                         int
}

func newAnnotations(query string) *annotations {
	return &annotations{query: query, seen: map[string]bool{}, monotonicity: map[monotonicityKey]*monotonicityFix{}}
}

func (a *annotations) add(info bool, pos posrange.PositionRange, format string, args ...any) {
	prefix := warnPrefix
	if info {
		prefix = infoPrefix
	}
	msg := prefix + fmt.Sprintf(format, args...) + " (" + pos.StartPosInput(a.query, 0) + ")"
	if a.seen[msg] {
		return
	}
	a.seen[msg] = true
	if info {
		a.infos = append(a.infos, msg)
	} else {
		a.warnings = append(a.warnings, msg)
	}
}

func (a *annotations) warn(pos posrange.PositionRange, format string, args ...any) {
	a.add(false, pos, format, args...)
}

func (a *annotations) info(pos posrange.PositionRange, format string, args ...any) {
	a.add(true, pos, format, args...)
}

// invalidQuantile warns if q is outside [0, 1].
func (a *annotations) invalidQuantile(q float64, pos posrange.PositionRange) {
	if math.IsNaN(q) || q < 0 || q > 1 {
		a.warn(pos, msgInvalidQuantile, q)
	}
}

// invalidQuantiles warns about the quantile values outside [0, 1] among
// qs: NaN, the largest above 1 and the smallest below 0.
func (a *annotations) invalidQuantiles(qs []float64, pos posrange.PositionRange) {
	lo, hi, nan := math.Inf(1), math.Inf(-1), false
	for _, q := range qs {
		if math.IsNaN(q) {
			nan = true
			continue
		}
		lo, hi = math.Min(lo, q), math.Max(hi, q)
	}
	if nan {
		a.warn(pos, msgInvalidQuantile, math.NaN())
	}
	if hi > 1 {
		a.warn(pos, msgInvalidQuantile, hi)
	}
	if lo < 0 {
		a.warn(pos, msgInvalidQuantile, lo)
	}
}

// forcedMonotonicity records that histogram_quantile fixed the buckets of
// a histogram at ts.
func (a *annotations) forcedMonotonicity(metric string, pos posrange.PositionRange, ts int64, minBucket, maxBucket, maxDiff float64) {
	k := monotonicityKey{metric: metric, pos: pos}
	f, ok := a.monotonicity[k]
	if !ok {
		a.monotonicity[k] = &monotonicityFix{minTs: ts, maxTs: ts, minBucket: minBucket, maxBucket: maxBucket, maxDiff: maxDiff}
		a.order = append(a.order, k)
		return
	}
	f.minTs, f.maxTs = min(f.minTs, ts), max(f.maxTs, ts)
	f.minBucket, f.maxBucket = math.Min(f.minBucket, minBucket), math.Max(f.maxBucket, maxBucket)
	f.maxDiff = math.Max(f.maxDiff, maxDiff)
	f.count++
}

// result returns the warnings and infos for the query's Result.
func (a *annotations) result() (warnings, infos []string) {
	infos = a.infos
	for _, k := range a.order {
		f := a.monotonicity[k]
		msg := infoPrefix + msgForcedMonotonic
		if k.metric != "" {
			msg += fmt.Sprintf(" for metric name %q", k.metric)
		}
		infos = append(infos, fmt.Sprintf("%s, from buckets %g to %g, with a max diff of %.2g, over %d samples from %s to %s (%s)",
			msg, f.minBucket, f.maxBucket, f.maxDiff, f.count+1,
			time.Unix(f.minTs/1000, 0).UTC().Format(time.RFC3339), time.Unix(f.maxTs/1000, 0).UTC().Format(time.RFC3339),
			k.pos.StartPosInput(a.query, 0)))
	}
	return a.warnings, infos
}
