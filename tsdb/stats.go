package tsdb

import (
	"cmp"
	"math"
	"slices"

	"github.com/prometheus/prometheus/model/labels"
)

// Stats describe the head for /api/v1/status/tsdb, as Prometheus's head
// statistics do.
type Stats struct {
	NumSeries     uint64
	NumLabelPairs int
	ChunkCount    int64
	// MinTime and MaxTime bound the head's samples; with no samples MinTime
	// is math.MaxInt64 and MaxTime math.MinInt64.
	MinTime, MaxTime int64

	// The largest entries, at most limit of each, largest first.
	SeriesCountByMetricName     []Stat
	LabelValueCountByLabelName  []Stat
	MemoryInBytesByLabelName    []Stat
	SeriesCountByLabelValuePair []Stat
}

// Stat is one named count.
type Stat struct {
	Name  string
	Count uint64
}

// Stats returns the head's statistics with the top limit entries of each
// list.
func (db *DB) Stats(limit int) Stats {
	st := Stats{NumSeries: uint64(max(db.numSer.Load(), 0)), MinTime: math.MaxInt64, MaxTime: math.MinInt64}
	db.series.each(func(s *memSeries) bool {
		s.mu.Lock()
		st.ChunkCount += int64(len(s.chunks))
		if s.hasHead {
			st.ChunkCount++
		}
		if mint, maxt, ok := s.timeRange(); ok {
			st.MinTime, st.MaxTime = min(st.MinTime, mint), max(st.MaxTime, maxt)
		}
		s.mu.Unlock()
		return true
	})
	// What was truncated into blocks is not the head's any more.
	if mv := db.minValid.Load(); st.MinTime != math.MaxInt64 && st.MinTime < mv {
		st.MinTime = mv
	}

	var metrics, valueCounts, memory, pairs []Stat
	p := db.postings
	p.mu.RLock()
	for name, values := range p.m {
		valueCounts = append(valueCounts, Stat{Name: name, Count: uint64(len(values.entries))})
		var size uint64
		for v, e := range values.entries {
			n := uint64(values.count(e))
			if name == labels.MetricName {
				metrics = append(metrics, Stat{Name: v, Count: n})
			}
			pairs = append(pairs, Stat{Name: name + "=" + v, Count: n})
			size += uint64(len(v)) * n
		}
		memory = append(memory, Stat{Name: name, Count: size})
	}
	p.mu.RUnlock()
	st.NumLabelPairs = len(pairs)
	st.SeriesCountByMetricName = top(metrics, limit)
	st.LabelValueCountByLabelName = top(valueCounts, limit)
	st.MemoryInBytesByLabelName = top(memory, limit)
	st.SeriesCountByLabelValuePair = top(pairs, limit)
	return st
}

// top sorts by count, largest first (ties by name, for stable output), and
// keeps the first limit.
func top(s []Stat, limit int) []Stat {
	slices.SortFunc(s, func(a, b Stat) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	return s[:min(len(s), max(limit, 0))]
}
