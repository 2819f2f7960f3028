package promqltest

import (
	"context"
	"errors"
	"slices"
	"sort"
	"sync"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/query"
	"github.com/argusmon/argus/storage"
)

// Storage is a small in-memory storage for engine tests. It satisfies
// query.Queryable and behaves like a TSDB as far as the engine can tell:
// a Querier sees only samples within its [mint, maxt], series with no such
// sample are not returned, and series come sorted by labels.
type Storage struct {
	mu     sync.RWMutex
	series map[string]*memSeries // by labels.String()
	// SelectErr, when set, is returned by every SeriesSet, to test storage
	// failures.
	SelectErr error
}

type memSeries struct {
	lbls    labels.Labels
	samples []query.FPoint
}

// NewStorage returns an empty Storage.
func NewStorage() *Storage {
	return &Storage{series: map[string]*memSeries{}}
}

var _ query.Queryable = (*Storage)(nil)

// Add appends a sample. Samples of a series must be added in increasing
// time order; a sample at an existing time replaces it.
func (s *Storage) Add(l labels.Labels, t int64, v float64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := l.String()
	ms, ok := s.series[key]
	if !ok {
		ms = &memSeries{lbls: l}
		s.series[key] = ms
	}
	if n := len(ms.samples); n > 0 {
		switch last := ms.samples[n-1].T; {
		case t == last:
			ms.samples[n-1].F = v
			return nil
		case t < last:
			return storage.ErrOutOfOrderSample
		}
	}
	ms.samples = append(ms.samples, query.FPoint{T: t, F: v})
	return nil
}

// Clear removes all series.
func (s *Storage) Clear() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.series = map[string]*memSeries{}
}

// Querier implements query.Queryable.
func (s *Storage) Querier(mint, maxt int64) (storage.Querier, error) {
	if mint > maxt {
		return nil, errors.New("querier range is empty: mint after maxt")
	}
	return &memQuerier{s: s, mint: mint, maxt: maxt}, nil
}

type memQuerier struct {
	s          *Storage
	mint, maxt int64
}

func (q *memQuerier) matching(ms []*labels.Matcher) []storage.Series {
	q.s.mu.RLock()
	defer q.s.mu.RUnlock()
	var out []storage.Series
outer:
	for _, series := range q.s.series {
		for _, m := range ms {
			if !m.Matches(series.lbls.Get(m.Name)) {
				continue outer
			}
		}
		lo := sort.Search(len(series.samples), func(i int) bool { return series.samples[i].T >= q.mint })
		hi := sort.Search(len(series.samples), func(i int) bool { return series.samples[i].T > q.maxt })
		if lo >= hi {
			continue
		}
		out = append(out, &memView{lbls: series.lbls, samples: slices.Clone(series.samples[lo:hi])})
	}
	slices.SortFunc(out, func(a, b storage.Series) int { return labels.Compare(a.Labels(), b.Labels()) })
	return out
}

func (q *memQuerier) Select(_ context.Context, _ bool, _ *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	if q.s.SelectErr != nil {
		return storage.ErrSeriesSet(q.s.SelectErr)
	}
	return &memSet{series: q.matching(ms), i: -1}
}

func (q *memQuerier) LabelValues(_ context.Context, name string, ms ...*labels.Matcher) ([]string, error) {
	var vals []string
	for _, s := range q.matching(ms) {
		if v := s.Labels().Get(name); v != "" {
			vals = append(vals, v)
		}
	}
	slices.Sort(vals)
	return slices.Compact(vals), nil
}

func (q *memQuerier) LabelNames(_ context.Context, ms ...*labels.Matcher) ([]string, error) {
	var names []string
	for _, s := range q.matching(ms) {
		s.Labels().Range(func(l labels.Label) { names = append(names, l.Name) })
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

func (q *memQuerier) Close() error { return nil }

type memSet struct {
	series []storage.Series
	i      int
}

func (s *memSet) Next() bool         { s.i++; return s.i < len(s.series) }
func (s *memSet) At() storage.Series { return s.series[s.i] }
func (s *memSet) Err() error         { return nil }

type memView struct {
	lbls    labels.Labels
	samples []query.FPoint
}

func (v *memView) Labels() labels.Labels { return v.lbls }

func (v *memView) Iterator(storage.Iterator) storage.Iterator {
	return &memIterator{samples: v.samples, i: -1}
}

type memIterator struct {
	samples []query.FPoint
	i       int
}

func (it *memIterator) Next() storage.ValueType {
	if it.i < len(it.samples) {
		it.i++
	}
	if it.i >= len(it.samples) {
		return storage.ValNone
	}
	return storage.ValFloat
}

func (it *memIterator) SeekTo(t int64) storage.ValueType {
	if it.i < 0 {
		it.i = 0
	}
	if it.i >= len(it.samples) {
		return storage.ValNone
	}
	if it.samples[it.i].T < t {
		rest := it.samples[it.i:]
		it.i += sort.Search(len(rest), func(j int) bool { return rest[j].T >= t })
	}
	if it.i >= len(it.samples) {
		return storage.ValNone
	}
	return storage.ValFloat
}

func (it *memIterator) At() (int64, float64) {
	p := it.samples[it.i]
	return p.T, p.F
}

func (it *memIterator) AtT() int64 { return it.samples[it.i].T }

func (it *memIterator) Err() error { return nil }
