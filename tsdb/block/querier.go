package block

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/index"
	"github.com/argusmon/argus/tsdb/tombstones"
)

// ctxCheckEvery is how many series are read between checks for a
// cancelled query.
const ctxCheckEvery = 1024

// querier reads one block over [mint, maxt].
type querier struct {
	b          *Block
	mint, maxt int64
	closed     bool
}

// Select returns the matching series with samples in range. They come in
// label order whether or not sortSeries asks for it: block series
// references follow label order.
func (q *querier) Select(ctx context.Context, _ bool, _ *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	p, err := postingsForMatchers(q.b.index, ms)
	if err != nil {
		return storage.ErrSeriesSet(fmt.Errorf("block %s: %w", q.b.meta.ULID, err))
	}
	return &seriesSet{ctx: ctx, q: q, p: p}
}

// LabelValues answers from the index without matchers; with matchers, over
// the matching series that have samples in range.
func (q *querier) LabelValues(ctx context.Context, name string, ms ...*labels.Matcher) ([]string, error) {
	if len(ms) == 0 {
		return q.b.index.LabelValues(name), nil
	}
	var values []string
	err := q.forMatching(ctx, ms, func(lset labels.Labels) {
		if v := lset.Get(name); v != "" {
			values = append(values, v)
		}
	})
	slices.Sort(values)
	return slices.Compact(values), err
}

// LabelNames has the scope of LabelValues.
func (q *querier) LabelNames(ctx context.Context, ms ...*labels.Matcher) ([]string, error) {
	if len(ms) == 0 {
		return q.b.index.LabelNames(), nil
	}
	var names []string
	err := q.forMatching(ctx, ms, func(lset labels.Labels) {
		lset.Range(func(l labels.Label) { names = append(names, l.Name) })
	})
	slices.Sort(names)
	return slices.Compact(names), err
}

func (q *querier) forMatching(ctx context.Context, ms []*labels.Matcher, f func(labels.Labels)) error {
	ss := q.Select(ctx, false, nil, ms...)
	for ss.Next() {
		f(ss.At().Labels())
	}
	return ss.Err()
}

// Close releases the block for closing.
func (q *querier) Close() error {
	if !q.closed {
		q.closed = true
		q.b.release()
	}
	return nil
}

type seriesSet struct {
	ctx     context.Context
	q       *querier
	p       index.Postings
	n       int
	builder labels.ScratchBuilder
	chks    []index.ChunkMeta
	cur     *blockSeries
	err     error
}

func (s *seriesSet) Next() bool {
	if s.err != nil {
		return false
	}
	for s.p.Next() {
		if s.n%ctxCheckEvery == 0 {
			if err := s.ctx.Err(); err != nil {
				s.err = err
				return false
			}
		}
		s.n++
		ref := s.p.At()
		lset, err := s.q.b.index.Series(ref, &s.builder, &s.chks)
		if err != nil {
			s.err = fmt.Errorf("block %s: %w", s.q.b.meta.ULID, err)
			return false
		}
		dels := s.q.b.tombstones.Get(ref)
		// Outside the query's range counts as deleted for dropping chunks,
		// as Prometheus does: a series with no live sample in range is not
		// selected.
		dropped := dels
		if len(dels) > 0 {
			if s.q.mint != math.MinInt64 {
				dropped = dropped.Add(tombstones.Interval{Mint: math.MinInt64, Maxt: s.q.mint - 1})
			}
			if s.q.maxt != math.MaxInt64 {
				dropped = dropped.Add(tombstones.Interval{Mint: s.q.maxt + 1, Maxt: math.MaxInt64})
			}
		}
		var kept []index.ChunkMeta
		for _, c := range s.chks {
			if c.MaxTime < s.q.mint || c.MinTime > s.q.maxt {
				continue
			}
			if (tombstones.Interval{Mint: c.MinTime, Maxt: c.MaxTime}).IsSubrange(dropped) {
				continue
			}
			kept = append(kept, c)
		}
		if len(kept) == 0 {
			continue
		}
		s.cur = &blockSeries{lset: lset, chunks: kept, dels: dels, q: s.q}
		return true
	}
	if err := s.p.Err(); err != nil {
		s.err = fmt.Errorf("block %s: postings: %w", s.q.b.meta.ULID, err)
	}
	return false
}

// At returns a fresh Series each time: callers may keep it past Next.
func (s *seriesSet) At() storage.Series { return s.cur }
func (s *seriesSet) Err() error         { return s.err }

type blockSeries struct {
	lset   labels.Labels
	chunks []index.ChunkMeta
	dels   tombstones.Intervals
	q      *querier
}

func (s *blockSeries) Labels() labels.Labels { return s.lset }

func (s *blockSeries) Iterator(reuse storage.Iterator) storage.Iterator {
	it, ok := reuse.(*chunkSeriesIterator)
	if !ok {
		it = &chunkSeriesIterator{}
	}
	it.reset(s.q.b.chunks, s.chunks, s.dels, s.q.mint, s.q.maxt)
	return it
}
