package web

import (
	"errors"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
)

// mergedSeriesSet merges sorted series sets into one sorted set, yielding a
// series present in several of them once. The sets are few (one per match[]
// parameter), so a linear scan for the smallest head beats a heap.
type mergedSeriesSet struct {
	sets  []storage.SeriesSet
	heads []storage.Series // nil once a set is exhausted
	cur   storage.Series
	err   error
	begun bool
}

func newMergedSeriesSet(sets []storage.SeriesSet) *mergedSeriesSet {
	return &mergedSeriesSet{sets: sets, heads: make([]storage.Series, len(sets))}
}

func (m *mergedSeriesSet) advance(i int) {
	if m.sets[i].Next() {
		m.heads[i] = m.sets[i].At()
		return
	}
	m.heads[i] = nil
	if err := m.sets[i].Err(); err != nil {
		m.err = errors.Join(m.err, err)
	}
}

func (m *mergedSeriesSet) Next() bool {
	if !m.begun {
		m.begun = true
		for i := range m.sets {
			m.advance(i)
		}
	}
	if m.err != nil {
		return false
	}
	min := -1
	for i, s := range m.heads {
		if s != nil && (min < 0 || labels.Compare(s.Labels(), m.heads[min].Labels()) < 0) {
			min = i
		}
	}
	if min < 0 {
		return false
	}
	m.cur = m.heads[min]
	lset := m.cur.Labels()
	for i, s := range m.heads {
		if s != nil && labels.Equal(s.Labels(), lset) {
			m.advance(i)
		}
	}
	return m.err == nil
}

func (m *mergedSeriesSet) At() storage.Series { return m.cur }
func (m *mergedSeriesSet) Err() error         { return m.err }
