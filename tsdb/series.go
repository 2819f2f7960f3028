package tsdb

import (
	"math"
	"slices"
	"sync"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/chunkenc"
)

// samplesPerChunk is where the open chunk is cut, as in Prometheus: about
// 120 samples compress well and keep decoding a chunk cheap.
const samplesPerChunk = 120

type sample struct {
	t int64
	v float64
}

// memChunk is a chunk with its time range, so queries skip it without
// decoding.
type memChunk struct {
	c          *chunkenc.XORChunk
	minT, maxT int64
}

// memSeries is one series of the head.
type memSeries struct {
	ref  storage.SeriesRef
	lset labels.Labels

	mu    sync.Mutex // guards everything below except the commit fields
	full  []memChunk // cut chunks, immutable, oldest first
	head  *memChunk  // open chunk, nil until the first in-order sample
	app   *chunkenc.XORAppender
	lastT int64
	lastV float64
	ooo   []sample // out-of-order samples, sorted by timestamp, no duplicates

	// Commit bookkeeping, touched only with DB.commitMu held (or during
	// replay, before the DB is shared).
	logged  bool   // a Series record for it is in the WAL
	epoch   uint64 // commit that last initialised nextT/nextV
	nextT   int64  // newest timestamp once the commit in progress applies
	nextV   float64
	nextHas bool
}

func newMemSeries(ref storage.SeriesRef, lset labels.Labels) *memSeries {
	return &memSeries{ref: ref, lset: lset, lastT: math.MinInt64}
}

// hasInOrder reports whether the series has any in-order sample. Callers
// hold mu (or commitMu for the commit fields).
func (s *memSeries) hasInOrder() bool { return s.head != nil }

// appendInOrder appends a sample newer than lastT. Callers hold mu.
func (s *memSeries) appendInOrder(t int64, v float64) {
	if s.head == nil || s.head.c.NumSamples() >= samplesPerChunk {
		s.cutChunk(t)
	}
	// The chunk was cut below MaxSamples, so Append cannot fail.
	_ = s.app.Append(t, v)
	s.head.maxT = t
	s.lastT, s.lastV = t, v
}

func (s *memSeries) cutChunk(t int64) {
	if s.head != nil {
		s.head.c.Compact()
		s.full = append(s.full, *s.head)
	}
	c := chunkenc.NewXORChunk()
	app, _ := c.Appender() // an empty chunk never fails
	s.head = &memChunk{c: c, minT: t, maxT: t}
	s.app = app
}

// insertOOO adds an out-of-order sample and reports whether it was new: a
// sample already present at t is kept, so the first write wins, and
// inserted=false with dup=true tells a conflicting value apart from a
// repeat. Callers hold mu.
func (s *memSeries) insertOOO(t int64, v float64) (inserted, dup bool) {
	i, found := s.findOOO(t)
	if found {
		return false, math.Float64bits(s.ooo[i].v) != math.Float64bits(v)
	}
	s.ooo = slices.Insert(s.ooo, i, sample{t, v})
	return true, false
}

// timeRange returns the series' oldest and newest timestamps over in-order
// and out-of-order samples; ok is false for a series without samples.
// Callers hold mu.
func (s *memSeries) timeRange() (mint, maxt int64, ok bool) {
	mint, maxt = math.MaxInt64, math.MinInt64
	if s.head != nil {
		if len(s.full) > 0 {
			mint = s.full[0].minT
		} else {
			mint = s.head.minT
		}
		maxt = s.lastT
		ok = true
	}
	if n := len(s.ooo); n > 0 {
		mint = min(mint, s.ooo[0].t)
		maxt = max(maxt, s.ooo[n-1].t)
		ok = true
	}
	return mint, maxt, ok
}

// stripeCount must be a power of two. More stripes mean less contention
// between concurrent appenders and lookups at a fixed memory cost.
const stripeCount = 4096

type stripe struct {
	mu     sync.RWMutex
	byRef  map[storage.SeriesRef]*memSeries
	byHash map[uint64][]*memSeries // hash collisions share a slot
	_      [40]byte                // keep neighbouring locks off one cache line
}

// stripeSeries is the head's series set, striped by reference and by label
// hash so that lookups on different series rarely contend.
type stripeSeries struct {
	stripes [stripeCount]stripe
}

func newStripeSeries() *stripeSeries {
	ss := &stripeSeries{}
	for i := range ss.stripes {
		ss.stripes[i].byRef = map[storage.SeriesRef]*memSeries{}
		ss.stripes[i].byHash = map[uint64][]*memSeries{}
	}
	return ss
}

func (ss *stripeSeries) getByRef(ref storage.SeriesRef) *memSeries {
	st := &ss.stripes[uint64(ref)&(stripeCount-1)]
	st.mu.RLock()
	s := st.byRef[ref]
	st.mu.RUnlock()
	return s
}

func (ss *stripeSeries) getByHash(hash uint64, lset labels.Labels) *memSeries {
	st := &ss.stripes[hash&(stripeCount-1)]
	st.mu.RLock()
	defer st.mu.RUnlock()
	for _, s := range st.byHash[hash] {
		if labels.Equal(s.lset, lset) {
			return s
		}
	}
	return nil
}

// getOrCreate returns the series with lset, creating it with the reference
// newRef() returns if it does not exist yet.
func (ss *stripeSeries) getOrCreate(hash uint64, lset labels.Labels, newRef func() storage.SeriesRef) (s *memSeries, created bool) {
	if s := ss.getByHash(hash, lset); s != nil {
		return s, false
	}
	st := &ss.stripes[hash&(stripeCount-1)]
	st.mu.Lock()
	for _, s := range st.byHash[hash] {
		if labels.Equal(s.lset, lset) {
			st.mu.Unlock()
			return s, false
		}
	}
	s = newMemSeries(newRef(), lset)
	st.byHash[hash] = append(st.byHash[hash], s)
	st.mu.Unlock()
	// Taking the reference stripe only after releasing the hash stripe keeps
	// two creators from locking each other's stripes in opposite order. Until
	// the insert below, a lookup by this reference misses and callers fall
	// back to the labels, which they always pass.
	ss.setByRef(s)
	return s, true
}

func (ss *stripeSeries) setByRef(s *memSeries) {
	st := &ss.stripes[uint64(s.ref)&(stripeCount-1)]
	st.mu.Lock()
	st.byRef[s.ref] = s
	st.mu.Unlock()
}

// findOOO returns the index of the out-of-order sample at t, or where it
// would go. Callers hold mu.
func (s *memSeries) findOOO(t int64) (int, bool) {
	return slices.BinarySearchFunc(s.ooo, t, func(a sample, t int64) int {
		return cmpInt64(a.t, t)
	})
}

// oooValueIs reports whether the out-of-order sample at t has exactly v.
// Callers hold mu.
func (s *memSeries) oooValueIs(t int64, v float64) bool {
	i, found := s.findOOO(t)
	return found && math.Float64bits(s.ooo[i].v) == math.Float64bits(v)
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
