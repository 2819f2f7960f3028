package tsdb

import (
	"cmp"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/chunkenc"
	"github.com/argusmon/argus/tsdb/headchunks"
)

// samplesPerChunk is the number of samples Prometheus aims for per chunk:
// about 120 samples compress well and keep decoding a chunk cheap.
const samplesPerChunk = 120

// maxBytesBeforeAppend is the chunk size past which a chunk is cut before
// the next sample, as Prometheus does, so that no XOR chunk exceeds 1 KiB
// even if the next sample takes the most bits one can (19 bytes).
const maxBytesBeforeAppend = 1024 - 19

type sample struct {
	t int64
	v float64
}

// memChunk is the open chunk with its time range.
type memChunk struct {
	c          *chunkenc.XORChunk
	minT, maxT int64
}

// headChunk is a full chunk: on disk in chunks_head (mem nil) or, if
// writing it there failed, still in memory.
type headChunk struct {
	minT, maxT int64
	ref        headchunks.Ref
	mem        *chunkenc.XORChunk
}

// chunkOpts tell a series where its full chunks go and when to cut them.
type chunkOpts struct {
	mapper *headchunks.Mapper
	// chunkRange is the width of the time ranges chunks do not cross
	// (Prometheus's head chunk range, its minimum block duration).
	chunkRange int64
	// writeFailed is told about a chunk kept in memory because writing it
	// to disk failed.
	writeFailed func(error)
	// enc is the chunkenc.Encoding of new chunks, EncXOR (or 0) or
	// EncXOR2; a config reload may change it.
	enc atomic.Uint32
}

// encoding returns the encoding of new chunks.
func (o *chunkOpts) encoding() chunkenc.Encoding {
	return cmp.Or(chunkenc.Encoding(o.enc.Load()), chunkenc.EncXOR)
}

// memSeries is one series of the head.
type memSeries struct {
	ref  storage.SeriesRef
	lset labels.Labels

	mu     sync.Mutex  // guards everything below except the commit fields
	chunks []headChunk // full chunks, oldest first
	head   memChunk    // open chunk; head.c is nil until the next in-order sample
	app    *chunkenc.XORAppender
	nextAt int64 // timestamp at which the open chunk is cut at the latest
	lastT  int64
	lastV  float64
	ooo    []sample // out-of-order samples, sorted by timestamp, no duplicates

	// Commit bookkeeping, touched only with DB.commitMu held (or during
	// replay, before the DB is shared).
	logged  bool   // a Series record for it is in the WAL
	deleted bool   // removed from the head by truncation
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
func (s *memSeries) hasInOrder() bool { return s.head.c != nil || len(s.chunks) > 0 }

// appendInOrder appends a sample newer than lastT, cutting the open chunk
// where Prometheus would: past 1 KiB, at the end of the chunk range, at a
// time predicted to spread the range's samples evenly over chunks of about
// samplesPerChunk, or at twice samplesPerChunk. Callers hold mu.
func (s *memSeries) appendInOrder(t int64, v float64, o *chunkOpts) {
	c := &s.head
	if c.c == nil || len(c.c.Bytes()) > maxBytesBeforeAppend {
		c = s.cutChunk(t, o)
	}
	n := c.c.NumSamples()
	if n == samplesPerChunk/4 {
		s.nextAt = computeChunkEndTime(c.minT, c.maxT, s.nextAt, 4)
	}
	if n > 0 && (t >= s.nextAt || n >= 2*samplesPerChunk) {
		c = s.cutChunk(t, o)
	}
	// Chunks are cut far below MaxSamples, so Append cannot fail.
	_ = s.app.Append(t, v)
	c.maxT = t
	s.lastT, s.lastV = t, v
}

// cutChunk moves the open chunk, if any, to disk and opens a new one
// starting at t. Callers hold mu.
func (s *memSeries) cutChunk(t int64, o *chunkOpts) *memChunk {
	if h := &s.head; h.c != nil && h.c.NumSamples() > 0 {
		ref, err := o.mapper.Write(uint64(s.ref), h.minT, h.maxT, uint8(h.c.Encoding()), h.c.Bytes())
		if err != nil {
			h.c.Compact()
			s.chunks = append(s.chunks, headChunk{minT: h.minT, maxT: h.maxT, mem: h.c})
			o.writeFailed(err)
		} else {
			s.chunks = append(s.chunks, headChunk{minT: h.minT, maxT: h.maxT, ref: ref})
		}
	}
	// A fresh chunk rather than the old one's buffer: that one grew past
	// what the first samples of a chunk need.
	c, err := chunkenc.NewFloatChunk(o.encoding())
	if err != nil {
		// Open accepts float encodings only; XOR rather than losing the
		// sample if that ever changes.
		c = chunkenc.NewXORChunk()
	}
	app, _ := c.Appender() // an empty chunk never fails
	s.head = memChunk{c: c, minT: t, maxT: t}
	s.app = app
	s.nextAt = rangeForTimestamp(t, o.chunkRange)
	return &s.head
}

// rangeForTimestamp returns the end of the chunk range holding t, as
// Prometheus computes it, saturating instead of overflowing.
func rangeForTimestamp(t, width int64) int64 {
	start := (t / width) * width
	if start > math.MaxInt64-width {
		return math.MaxInt64
	}
	return start + width
}

// computeChunkEndTime predicts when to cut a chunk that went from start to
// cur with 1/ratioToFull of its target samples, so that the rest of the
// range up to maxT splits into chunks of equal duration. This is
// Prometheus's formula; matching it keeps chunk boundaries identical.
func computeChunkEndTime(start, cur, maxT int64, ratioToFull float64) int64 {
	n := float64(maxT-start) / (float64(cur-start+1) * ratioToFull)
	if n <= 1 {
		return maxT
	}
	return int64(float64(start) + float64(maxT-start)/math.Floor(n))
}

// truncateBefore drops the chunks entirely older than mint and reports
// whether the series is left without samples. Out-of-order samples stay:
// compactOOO removes them once it has written them to a block.
// Callers hold mu.
func (s *memSeries) truncateBefore(mint int64) (empty bool) {
	i := 0
	for i < len(s.chunks) && s.chunks[i].maxT < mint {
		i++
	}
	if i > 0 {
		// Copy so that the dropped chunks' array is freed.
		s.chunks = append([]headChunk(nil), s.chunks[i:]...)
	}
	if s.head.c != nil && len(s.chunks) == 0 && s.head.maxT < mint {
		s.head, s.app = memChunk{}, nil
	}
	return !s.hasInOrder() && len(s.ooo) == 0
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
	if s.hasInOrder() {
		if len(s.chunks) > 0 {
			mint = s.chunks[0].minT
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
	byHash map[uint64]*memSeries
	// collisions holds the other series whose labels hash to a byHash key,
	// rare enough not to cost every series a slice.
	collisions map[uint64][]*memSeries
	_          [32]byte // keep neighbouring locks off one cache line
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
		ss.stripes[i].byHash = map[uint64]*memSeries{}
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

// gc drops what is entirely older than mint from every series and removes
// the series left empty from the set, marking them deleted. It returns the
// removed series and the lowest head chunk file still referenced
// (math.MaxInt if none). Callers hold DB.commitMu, so no commit is applying
// samples meanwhile.
func (ss *stripeSeries) gc(mint int64) (dead []*memSeries, minFile int) {
	minFile = math.MaxInt
	for i := range ss.stripes {
		st := &ss.stripes[i]
		st.mu.Lock()
		for ref, s := range st.byRef {
			s.mu.Lock()
			if s.truncateBefore(mint) {
				s.deleted = true
				delete(st.byRef, ref)
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
		}
		st.mu.Unlock()
	}
	for _, s := range dead {
		hash := s.lset.Hash()
		st := &ss.stripes[hash&(stripeCount-1)]
		st.mu.Lock()
		st.removeHash(hash, s)
		st.mu.Unlock()
	}
	return dead, minFile
}
