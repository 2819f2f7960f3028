package tsdb

import (
	"context"
	"slices"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/headchunks"
	"github.com/argusmon/argus/tsdb/tombstones"
)

// querier reads the head over [mint, maxt].
type querier struct {
	db         *DB
	mint, maxt int64
	// tracked queriers are in db.readers until closed.
	tracked bool
}

// ctxCheckEvery is how many series are processed between checks for a
// cancelled query.
const ctxCheckEvery = 1024

// Select returns the series matching ms with at least one sample in the
// querier's range.
func (q *querier) Select(ctx context.Context, sortSeries bool, _ *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	series, err := q.matching(ctx, ms)
	if err != nil {
		return storage.ErrSeriesSet(err)
	}
	if sortSeries {
		slices.SortFunc(series, func(a, b *memSeries) int { return labels.Compare(a.lset, b.lset) })
	}
	return &seriesSet{series: series, mapper: q.db.chunks, tombs: q.db.headTombs, mint: q.mint, maxt: q.maxt, idx: -1}
}

// matching returns the series matching ms that have samples in range, in
// reference order.
func (q *querier) matching(ctx context.Context, ms []*labels.Matcher) ([]*memSeries, error) {
	refs := q.db.postings.forMatchers(ms)
	out := make([]*memSeries, 0, len(refs))
	for i, ref := range refs {
		if i%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		s := q.db.series.getByRef(ref)
		if s == nil {
			continue
		}
		s.mu.Lock()
		mint, maxt, ok := s.timeRange()
		s.mu.Unlock()
		if !ok || mint > q.maxt || maxt < q.mint {
			continue
		}
		// A series whose samples in range are all deleted is not selected,
		// as in Prometheus.
		live := tombstones.Interval{Mint: max(mint, q.mint), Maxt: min(maxt, q.maxt)}
		if live.IsSubrange(q.db.headTombs.Get(ref)) {
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

// LabelValues returns the values of name. Without matchers it answers from
// the index, over every head series; with matchers, over the matching
// series with samples in range.
func (q *querier) LabelValues(ctx context.Context, name string, ms ...*labels.Matcher) ([]string, error) {
	if !q.overlapsHead() {
		return nil, nil
	}
	if len(ms) == 0 {
		return q.db.postings.labelValues(name), nil
	}
	series, err := q.matching(ctx, ms)
	if err != nil {
		return nil, err
	}
	var values []string
	for _, s := range series {
		if v := s.lset.Get(name); v != "" {
			values = append(values, v)
		}
	}
	slices.Sort(values)
	return slices.Compact(values), nil
}

// LabelNames returns the label names, with the same scope as LabelValues.
func (q *querier) LabelNames(ctx context.Context, ms ...*labels.Matcher) ([]string, error) {
	if !q.overlapsHead() {
		return nil, nil
	}
	if len(ms) == 0 {
		return q.db.postings.labelNames(), nil
	}
	series, err := q.matching(ctx, ms)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range series {
		s.lset.Range(func(l labels.Label) { names = append(names, l.Name) })
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// Close lets a block cut waiting for this querier truncate the head.
func (q *querier) Close() error {
	if q.tracked {
		q.db.readersMu.Lock()
		delete(q.db.readers, q)
		q.db.readersMu.Unlock()
	}
	return nil
}

type seriesSet struct {
	series     []*memSeries
	mapper     *headchunks.Mapper
	tombs      *tombstones.MemTombstones
	mint, maxt int64
	idx        int
}

func (ss *seriesSet) Next() bool {
	if ss.idx+1 >= len(ss.series) {
		return false
	}
	ss.idx++
	return true
}

// At returns a fresh Series each time: callers may keep it past Next.
func (ss *seriesSet) At() storage.Series {
	s := ss.series[ss.idx]
	return &headSeries{s: s, mapper: ss.mapper, dels: ss.tombs.Get(s.ref), mint: ss.mint, maxt: ss.maxt}
}

func (ss *seriesSet) Err() error { return nil }

// headSeries is one selected series; its samples are read when Iterator is
// called.
type headSeries struct {
	s          *memSeries
	mapper     *headchunks.Mapper
	dels       tombstones.Intervals
	mint, maxt int64
}

func (hs *headSeries) Labels() labels.Labels { return hs.s.lset }

func (hs *headSeries) Iterator(reuse storage.Iterator) storage.Iterator {
	it, ok := reuse.(*seriesIterator)
	if !ok {
		it = &seriesIterator{}
	}
	it.reset(hs.s, hs.mapper, hs.mint, hs.maxt)
	it.dels = hs.dels
	return it
}

// overlapsHead reports whether the querier's range can hold head samples.
// Like Prometheus's head index reader, label names and values are answered
// for the whole head when the range overlaps it and not at all otherwise:
// filtering each series by time would cost a scan of every chunk.
func (q *querier) overlapsHead() bool {
	return q.mint <= q.db.maxT.Load() && q.maxt >= q.db.headReadFloor(q.db.minValid.Load())
}
