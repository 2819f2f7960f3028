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
const maxBytesBeforeAppend = 1024 - maxSampleBytes

// maxSampleBytes is the most bytes one XOR-encoded sample can take.
const maxSampleBytes = 19

type sample struct {
	t int64
	v float64
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

// memSeries is one series of the head. There is one per active series, so
// its size is most of the head's memory beside the samples: the open chunk
// and its encoder are held inline rather than behind pointers, and what few
// series need (out-of-order samples) hangs off a pointer.
type memSeries struct {
	ref  storage.SeriesRef
	lset labels.Labels

	mu       sync.Mutex  // guards everything below except the commit fields
	chunks   []headChunk // full chunks, oldest first
	head     chunkenc.XORChunk
	app      chunkenc.XORAppender // encoder of head, valid if hasHead
	headMinT int64                // oldest timestamp in head; its newest is lastT
	nextAt   int64                // timestamp at which the open chunk is cut at the latest
	lastT    int64
	lastV    float64
	ooo      *oooSamples // nil until the first out-of-order sample

	// nextT and nextHas are WAL replay's: the newest timestamp already in a
	// chunk on disk.
	nextT int64

	// The flags and pending share one word. hasHead (head holds the open
	// chunk) is guarded by mu like the chunk, and written only with
	// DB.commitMu also held, so that judging a commit may read it under
	// commitMu alone. pending, logged and deleted are commit bookkeeping,
	// touched only with commitMu held (or during replay, before the DB is
	// shared).
	pending uint32 // 1 + index of the series' state in the commit judging it, 0 if none
	hasHead bool
	nextHas bool
	logged  bool // a Series record for it is in the WAL
	deleted bool // removed from the head by truncation
}

// oooSamples are a series' out-of-order samples, sorted by timestamp,
// without duplicates.
type oooSamples struct{ s []sample }

func newMemSeries(ref storage.SeriesRef, lset labels.Labels) *memSeries {
	return &memSeries{ref: ref, lset: lset, lastT: math.MinInt64}
}

// hasInOrder reports whether the series has any in-order sample. Callers
// hold mu.
func (s *memSeries) hasInOrder() bool { return s.hasHead || len(s.chunks) > 0 }

// oooList returns the out-of-order samples. Callers hold mu.
func (s *memSeries) oooList() []sample {
	if s.ooo == nil {
		return nil
	}
	return s.ooo.s
}

// appendInOrder appends a sample newer than lastT, cutting the open chunk
// where Prometheus would: past 1 KiB, at the end of the chunk range, at a
// time predicted to spread the range's samples evenly over chunks of about
// samplesPerChunk, or at twice samplesPerChunk. Callers hold mu.
func (s *memSeries) appendInOrder(t int64, v float64, o *chunkOpts) {
	if !s.hasHead || len(s.head.Bytes()) > maxBytesBeforeAppend {
		s.cutChunk(t, o)
	}
	n := s.head.NumSamples()
	if n == samplesPerChunk/4 {
		s.nextAt = computeChunkEndTime(s.headMinT, s.lastT, s.nextAt, 4)
		// A quarter of the chunk predicts its size. Reserving three
		// quarters of that now saves most of the steps of growing it one
		// size class at a time, while a chunk that turns out smaller is
		// not left with room it never uses; the rest grows step by step.
		s.head.Reserve(min(3*len(s.head.Bytes()), maxBytesBeforeAppend+maxSampleBytes))
	}
	if n > 0 && (t >= s.nextAt || n >= 2*samplesPerChunk) {
		s.cutChunk(t, o)
	}
	// Chunks are cut far below MaxSamples, so Append cannot fail.
	_ = s.app.Append(t, v)
	s.lastT, s.lastV = t, v
}

// cutChunk moves the open chunk, if any, to disk and opens a new one
// starting at t. Callers hold mu.
func (s *memSeries) cutChunk(t int64, o *chunkOpts) {
	size := 0
	if s.hasHead && s.head.NumSamples() > 0 {
		size = len(s.head.Bytes())
		ref, err := o.mapper.Write(uint64(s.ref), s.headMinT, s.lastT, uint8(s.head.Encoding()), s.head.Bytes())
		if err != nil {
			kept := s.head
			kept.Compact()
			s.chunks = append(s.chunks, headChunk{minT: s.headMinT, maxT: s.lastT, mem: &kept})
			o.writeFailed(err)
		} else {
			s.chunks = append(s.chunks, headChunk{minT: s.headMinT, maxT: s.lastT, ref: ref})
		}
	}
	// A fresh chunk, sized like the last one, rather than the old one's
	// buffer, which a chunk kept in memory may still share. The encoder
	// is copied in so that the series holds it without a pointer of its
	// own; it writes to s.head.
	c, err := chunkenc.NewFloatChunkSized(o.encoding(), size)
	if err != nil {
		// Open accepts float encodings only; XOR rather than losing the
		// sample if that ever changes.
		c, _ = chunkenc.NewFloatChunkSized(chunkenc.EncXOR, size)
	}
	s.head = *c
	app, _ := s.head.Appender() // an empty chunk never fails
	s.app = *app
	s.hasHead = true
	s.headMinT = t
	s.nextAt = rangeForTimestamp(t, o.chunkRange)
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
	if s.hasHead && len(s.chunks) == 0 && s.lastT < mint {
		s.head, s.app, s.hasHead = chunkenc.XORChunk{}, chunkenc.XORAppender{}, false
	}
	return !s.hasInOrder() && s.ooo == nil
}

// insertOOO adds an out-of-order sample and reports whether it was new: a
// sample already present at t is kept, so the first write wins, and
// inserted=false with dup=true tells a conflicting value apart from a
// repeat. Callers hold mu.
func (s *memSeries) insertOOO(t int64, v float64) (inserted, dup bool) {
	i, found := s.findOOO(t)
	if found {
		return false, math.Float64bits(s.ooo.s[i].v) != math.Float64bits(v)
	}
	if s.ooo == nil {
		s.ooo = &oooSamples{}
	}
	s.ooo.s = slices.Insert(s.ooo.s, i, sample{t, v})
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
			mint = s.headMinT
		}
		maxt = s.lastT
		ok = true
	}
	if ooo := s.oooList(); len(ooo) > 0 {
		mint = min(mint, ooo[0].t)
		maxt = max(maxt, ooo[len(ooo)-1].t)
		ok = true
	}
	return mint, maxt, ok
}

// findOOO returns the index of the out-of-order sample at t, or where it
// would go. Callers hold mu.
func (s *memSeries) findOOO(t int64) (int, bool) {
	return slices.BinarySearchFunc(s.oooList(), t, func(a sample, t int64) int {
		return cmp.Compare(a.t, t)
	})
}

// oooValueIs reports whether the out-of-order sample at t has exactly v.
// Callers hold mu.
func (s *memSeries) oooValueIs(t int64, v float64) bool {
	i, found := s.findOOO(t)
	return found && math.Float64bits(s.ooo.s[i].v) == math.Float64bits(v)
}
