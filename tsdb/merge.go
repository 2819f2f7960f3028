package tsdb

import (
	"context"
	"errors"
	"math"
	"slices"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
)

// mergeQuerier reads several queriers (blocks, then the head) as one: a
// series found in several of them is one series with their samples merged.
type mergeQuerier struct {
	qs []storage.Querier
}

// Select merges the children's label-sorted sets, so the result is sorted
// whether or not sortSeries asks for it.
func (m *mergeQuerier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	if len(m.qs) == 1 {
		return m.qs[0].Select(ctx, sortSeries, hints, ms...)
	}
	sets := make([]storage.SeriesSet, len(m.qs))
	for i, q := range m.qs {
		sets[i] = q.Select(ctx, true, hints, ms...)
	}
	return &mergeSeriesSet{sets: sets, has: make([]bool, len(sets))}
}

func (m *mergeQuerier) LabelValues(ctx context.Context, name string, ms ...*labels.Matcher) ([]string, error) {
	return m.mergeStrings(func(q storage.Querier) ([]string, error) { return q.LabelValues(ctx, name, ms...) })
}

func (m *mergeQuerier) LabelNames(ctx context.Context, ms ...*labels.Matcher) ([]string, error) {
	return m.mergeStrings(func(q storage.Querier) ([]string, error) { return q.LabelNames(ctx, ms...) })
}

// mergeStrings unions the sorted, distinct lists f returns for each child.
func (m *mergeQuerier) mergeStrings(f func(storage.Querier) ([]string, error)) ([]string, error) {
	var out []string
	for _, q := range m.qs {
		vs, err := f(q)
		if err != nil {
			return nil, err
		}
		out = append(out, vs...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// Close closes every child, releasing the blocks they hold.
func (m *mergeQuerier) Close() error {
	var errs []error
	for _, q := range m.qs {
		errs = append(errs, q.Close())
	}
	return errors.Join(errs...)
}

// mergeSeriesSet merges label-sorted series sets.
type mergeSeriesSet struct {
	sets    []storage.SeriesSet
	has     []bool // sets[i] is positioned on a series
	cur     []int  // the sets whose current series make up At
	started bool
	at      storage.Series
	err     error
}

func (m *mergeSeriesSet) Next() bool {
	if m.err != nil {
		return false
	}
	if !m.started {
		m.started = true
		for i, s := range m.sets {
			m.has[i] = s.Next()
		}
	} else {
		for _, i := range m.cur {
			m.has[i] = m.sets[i].Next()
		}
	}
	for i, s := range m.sets {
		if !m.has[i] {
			if err := s.Err(); err != nil {
				m.err = err
				return false
			}
		}
	}
	m.cur = m.cur[:0]
	var lowest labels.Labels
	for i, s := range m.sets {
		if !m.has[i] {
			continue
		}
		l := s.At().Labels()
		switch c := labels.Compare(l, lowest); {
		case len(m.cur) == 0 || c < 0:
			m.cur, lowest = append(m.cur[:0], i), l
		case c == 0:
			m.cur = append(m.cur, i)
		}
	}
	switch len(m.cur) {
	case 0:
		return false
	case 1:
		m.at = m.sets[m.cur[0]].At()
	default:
		ss := make([]storage.Series, len(m.cur))
		for j, i := range m.cur {
			ss[j] = m.sets[i].At()
		}
		m.at = &mergedSeries{lset: lowest, series: ss}
	}
	return true
}

func (m *mergeSeriesSet) At() storage.Series { return m.at }
func (m *mergeSeriesSet) Err() error         { return m.err }

// mergedSeries is one series found in several sources.
type mergedSeries struct {
	lset   labels.Labels
	series []storage.Series
}

func (s *mergedSeries) Labels() labels.Labels { return s.lset }

func (s *mergedSeries) Iterator(reuse storage.Iterator) storage.Iterator {
	it, ok := reuse.(*mergeIterator)
	if !ok || len(it.its) != len(s.series) {
		it = &mergeIterator{its: make([]storage.Iterator, len(s.series)), state: make([]iterState, len(s.series))}
	}
	for i, c := range s.series {
		it.its[i] = c.Iterator(it.its[i])
		it.state[i] = iterUnstarted
	}
	it.cur, it.err, it.done = -1, nil, false
	return it
}

type iterState uint8

const (
	iterUnstarted iterState = iota
	iterOn                  // positioned on a sample
	iterDone
)

// mergeIterator walks the union of its children's samples in time order.
// Where several have a sample at the same timestamp the first child's
// value is returned, once: the sources hold copies of the same data.
type mergeIterator struct {
	its   []storage.Iterator
	state []iterState
	cur   int // child holding the current sample; -1 before the first
	// next is the earliest timestamp among the other children, and tie
	// whether one of them is at the current sample's timestamp. While the
	// current child's next sample stays before next, it is the merge's
	// next sample: blocks rarely overlap, so this is the common step.
	next int64
	tie  bool
	done bool
	err  error
}

// move advances child i with f, noting where it ends up.
func (m *mergeIterator) move(i int, f func(storage.Iterator) storage.ValueType) {
	if f(m.its[i]) == storage.ValNone {
		m.state[i] = iterDone
		if err := m.its[i].Err(); err != nil && m.err == nil {
			m.err = err
		}
		return
	}
	m.state[i] = iterOn
}

// pick makes the child with the earliest sample current.
func (m *mergeIterator) pick() storage.ValueType {
	if m.err != nil {
		m.done = true
		return storage.ValNone
	}
	m.cur = -1
	m.next, m.tie = math.MaxInt64, false
	var curT int64
	for i, it := range m.its {
		if m.state[i] != iterOn {
			continue
		}
		switch t := it.AtT(); {
		case m.cur < 0:
			m.cur, curT = i, t
		case t < curT:
			m.next, m.tie = curT, false
			m.cur, curT = i, t
		case t == curT:
			m.next, m.tie = t, true
		case t < m.next:
			m.next = t
		}
	}
	if m.cur < 0 {
		m.done = true
		return storage.ValNone
	}
	return storage.ValFloat
}

func (m *mergeIterator) Next() storage.ValueType {
	if m.done {
		return storage.ValNone
	}
	if m.cur < 0 {
		for i := range m.its {
			if m.state[i] == iterUnstarted {
				m.move(i, storage.Iterator.Next)
			}
		}
		return m.pick()
	}
	if !m.tie {
		cur := m.its[m.cur]
		if cur.Next() != storage.ValNone {
			if cur.AtT() < m.next {
				return storage.ValFloat
			}
		} else {
			m.state[m.cur] = iterDone
			if err := cur.Err(); err != nil && m.err == nil {
				m.err = err
			}
		}
		return m.pick()
	}
	// Step past the current timestamp in every child that has it.
	t := m.its[m.cur].AtT()
	for i, it := range m.its {
		if m.state[i] == iterOn && it.AtT() == t {
			m.move(i, storage.Iterator.Next)
		}
	}
	return m.pick()
}

func (m *mergeIterator) SeekTo(t int64) storage.ValueType {
	if m.done {
		return storage.ValNone
	}
	if m.cur >= 0 && m.its[m.cur].AtT() >= t {
		return storage.ValFloat
	}
	for i := range m.its {
		if m.state[i] != iterDone {
			m.move(i, func(it storage.Iterator) storage.ValueType { return it.SeekTo(t) })
		}
	}
	return m.pick()
}

func (m *mergeIterator) At() (int64, float64) { return m.its[m.cur].At() }
func (m *mergeIterator) AtT() int64           { return m.its[m.cur].AtT() }
func (m *mergeIterator) Err() error           { return m.err }
