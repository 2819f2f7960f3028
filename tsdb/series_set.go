package tsdb

import (
	"math"
	"slices"
	"sync"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
)

// stripeCount must be a power of two. More stripes mean less contention
// between concurrent creators and lookups by labels at a fixed memory cost.
const stripeCount = 4096

type stripe struct {
	mu     sync.RWMutex
	byHash map[uint64]*memSeries
	// collisions holds the other series whose labels hash to a byHash key,
	// rare enough not to cost every series a slice.
	collisions map[uint64][]*memSeries
	_          [40]byte // keep neighbouring locks off one cache line
}

// stripeSeries is the head's series set: by reference in a lock-free
// array, by label hash in stripes so that lookups on different series
// rarely contend.
type stripeSeries struct {
	refs    refIndex
	stripes [stripeCount]stripe
}

func newStripeSeries() *stripeSeries {
	ss := &stripeSeries{}
	for i := range ss.stripes {
		ss.stripes[i].byHash = map[uint64]*memSeries{}
	}
	return ss
}

func (ss *stripeSeries) getByRef(ref storage.SeriesRef) *memSeries { return ss.refs.get(ref) }

// each calls f for every series in reference order until f returns false.
func (ss *stripeSeries) each(f func(*memSeries) bool) { ss.refs.each(f) }

func (ss *stripeSeries) getByHash(hash uint64, lset labels.Labels) *memSeries {
	st := &ss.stripes[hash&(stripeCount-1)]
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.lookup(hash, lset)
}

// lookup finds the series with lset. Callers hold mu.
func (st *stripe) lookup(hash uint64, lset labels.Labels) *memSeries {
	if s := st.byHash[hash]; s != nil && labels.Equal(s.lset, lset) {
		return s
	}
	for _, s := range st.collisions[hash] {
		if labels.Equal(s.lset, lset) {
			return s
		}
	}
	return nil
}

// removeHash removes s from the hash index. Callers hold mu.
func (st *stripe) removeHash(hash uint64, s *memSeries) {
	others := st.collisions[hash]
	if st.byHash[hash] == s {
		if len(others) == 0 {
			delete(st.byHash, hash)
			return
		}
		st.byHash[hash], others = others[0], others[1:]
	} else {
		others = slices.DeleteFunc(others, func(x *memSeries) bool { return x == s })
	}
	if len(others) == 0 {
		delete(st.collisions, hash)
	} else {
		st.collisions[hash] = others
	}
}

// getOrCreate returns the series with lset, creating it with the reference
// newRef() returns if it does not exist yet.
func (ss *stripeSeries) getOrCreate(hash uint64, lset labels.Labels, newRef func() storage.SeriesRef) (s *memSeries, created bool) {
	if s := ss.getByHash(hash, lset); s != nil {
		return s, false
	}
	st := &ss.stripes[hash&(stripeCount-1)]
	st.mu.Lock()
	if s := st.lookup(hash, lset); s != nil {
		st.mu.Unlock()
		return s, false
	}
	s = newMemSeries(newRef(), lset)
	if st.byHash[hash] == nil {
		st.byHash[hash] = s
	} else {
		if st.collisions == nil {
			st.collisions = map[uint64][]*memSeries{}
		}
		st.collisions[hash] = append(st.collisions[hash], s)
	}
	st.mu.Unlock()
	// Until the insert below, a lookup by this reference misses and callers
	// fall back to the labels, which they always pass.
	ss.refs.set(s)
	return s, true
}

// gc drops what is entirely older than mint from every series and removes
// the series left empty from the set, marking them deleted. It returns the
// removed series and the lowest head chunk file still referenced
// (math.MaxInt if none). Callers hold DB.commitMu, so no commit is applying
// samples meanwhile.
func (ss *stripeSeries) gc(mint int64) (dead []*memSeries, minFile int) {
	minFile = math.MaxInt
	ss.each(func(s *memSeries) bool {
		s.mu.Lock()
		if s.truncateBefore(mint) {
			s.deleted = true
			dead = append(dead, s)
		}
		for _, c := range s.chunks {
			if c.mem == nil {
				seq, _ := c.ref.Unpack()
				minFile = min(minFile, seq)
				break
			}
		}
		s.mu.Unlock()
		return true
	})
	for _, s := range dead {
		ss.refs.remove(s.ref)
		hash := s.lset.Hash()
		st := &ss.stripes[hash&(stripeCount-1)]
		st.mu.Lock()
		st.removeHash(hash, s)
		st.mu.Unlock()
	}
	return dead, minFile
}
