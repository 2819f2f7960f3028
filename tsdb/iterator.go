package tsdb

import (
	"math"
	"sort"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/chunkenc"
	"github.com/argusmon/argus/tsdb/headchunks"
	"github.com/argusmon/argus/tsdb/tombstones"
)

// chunkRef is a chunk the iterator will read: in memory (b, in encoding
// enc) or on disk (ref, read with its encoding when the iterator gets to
// it).
type chunkRef struct {
	b          []byte
	enc        chunkenc.Encoding
	ref        headchunks.Ref
	minT, maxT int64
}

// seriesIterator walks one series' samples in [mint, maxt], merging the
// in-order chunks with the out-of-order samples (the in-order sample wins a
// timestamp tie). It works on a snapshot taken by reset: full chunks are
// immutable (in memory, shared, or on disk, read through the mmap when the
// iterator gets to them), the open chunk and the out-of-order samples are
// copied, so appends after reset neither race with nor show in it. Chunks
// are decoded lazily, one at a time. A chunk whose file head truncation
// deleted meanwhile ends the iteration with an error.
type seriesIterator struct {
	mapper  *headchunks.Mapper
	chunks  []chunkRef
	headBuf []byte
	diskBuf []byte
	ooo     []sample
	// dels are the series' deleted intervals, whose samples are skipped.
	dels tombstones.Intervals
	mint int64
	maxt int64

	ci     int // chunk being decoded, -1 before the first
	active bool
	cit    chunkenc.XORIterator
	cOK    bool // ct, cv hold the next in-order sample
	ct     int64
	cv     float64
	oi     int // next out-of-order sample

	started, done      bool
	fromChunk, fromOOO bool
	t                  int64
	v                  float64
	err                error
}

func (it *seriesIterator) reset(s *memSeries, mapper *headchunks.Mapper, mint, maxt int64) {
	it.mapper = mapper
	it.dels = nil
	it.chunks = it.chunks[:0]
	it.ooo = it.ooo[:0]
	s.mu.Lock()
	for _, c := range s.chunks {
		if c.maxT >= mint && c.minT <= maxt {
			cr := chunkRef{ref: c.ref, minT: c.minT, maxT: c.maxT}
			if c.mem != nil {
				cr.b, cr.enc = c.mem.Bytes(), c.mem.Encoding()
			}
			it.chunks = append(it.chunks, cr)
		}
	}
	if s.hasHead && s.head.NumSamples() > 0 && s.lastT >= mint && s.headMinT <= maxt {
		it.headBuf = append(it.headBuf[:0], s.head.Bytes()...)
		it.chunks = append(it.chunks, chunkRef{b: it.headBuf, enc: s.head.Encoding(), minT: s.headMinT, maxT: s.lastT})
	}
	if ooo := s.oooList(); len(ooo) > 0 {
		lo := sort.Search(len(ooo), func(i int) bool { return ooo[i].t >= mint })
		hi := sort.Search(len(ooo), func(i int) bool { return ooo[i].t > maxt })
		if lo < hi {
			it.ooo = append(it.ooo, ooo[lo:hi]...)
		}
	}
	s.mu.Unlock()
	it.mint, it.maxt = mint, maxt
	it.ci, it.active, it.cOK, it.oi = -1, false, false, 0
	it.started, it.done, it.fromChunk, it.fromOOO = false, false, false, false
	it.err = nil
}

// chunkSeek positions the in-order side at its first sample >= t.
func (it *seriesIterator) chunkSeek(t int64) {
	if it.cOK && it.ct >= t {
		return
	}
	it.cOK = false
	for {
		if !it.active {
			it.ci++
			if it.ci >= len(it.chunks) {
				return
			}
			if it.chunks[it.ci].maxT < t {
				continue
			}
			b, enc := it.chunks[it.ci].b, it.chunks[it.ci].enc
			if b == nil {
				var (
					e   uint8
					err error
				)
				if e, it.diskBuf, err = it.mapper.Chunk(it.chunks[it.ci].ref, it.diskBuf[:0]); err != nil {
					it.err = err
					return
				}
				b, enc = it.diskBuf, chunkenc.Encoding(e)
			}
			it.cit.Reset(enc, b)
			it.active = true
		}
		if it.cit.SeekTo(t) {
			it.ct, it.cv = it.cit.At()
			it.cOK = true
			return
		}
		if err := it.cit.Err(); err != nil {
			it.err = err
			return
		}
		it.active = false
	}
}

// pick makes the smaller of the two sides' next samples current.
func (it *seriesIterator) pick() storage.ValueType {
	if it.err != nil {
		it.done = true
		return storage.ValNone
	}
	cAvail := it.cOK && it.ct <= it.maxt
	oAvail := it.oi < len(it.ooo)
	switch {
	case !cAvail && !oAvail:
		it.done = true
		return storage.ValNone
	case cAvail && (!oAvail || it.ct <= it.ooo[it.oi].t):
		it.t, it.v = it.ct, it.cv
		it.fromChunk = true
		it.fromOOO = oAvail && it.ooo[it.oi].t == it.ct
	default:
		it.t, it.v = it.ooo[it.oi].t, it.ooo[it.oi].v
		it.fromChunk, it.fromOOO = false, true
	}
	return storage.ValFloat
}

// Next advances to the next sample that is not deleted.
func (it *seriesIterator) Next() storage.ValueType {
	// Most series have neither out-of-order samples nor deletions: then
	// the next sample is the open chunk's next one, with nothing to merge.
	if it.fromChunk && it.active && len(it.ooo) == 0 && len(it.dels) == 0 && it.cit.Next() {
		t, v := it.cit.At()
		if t > it.maxt {
			it.cOK, it.done = false, true
			return storage.ValNone
		}
		it.t, it.v, it.ct, it.cv = t, v, t, v
		return storage.ValFloat
	}
	return it.skipDeleted(it.next())
}

// SeekTo advances to the first sample at or after t that is not deleted;
// it never moves back.
func (it *seriesIterator) SeekTo(t int64) storage.ValueType {
	return it.skipDeleted(it.seekTo(t))
}

func (it *seriesIterator) skipDeleted(vt storage.ValueType) storage.ValueType {
	for vt == storage.ValFloat && len(it.dels) > 0 && it.dels.Covers(it.t) {
		vt = it.next()
	}
	return vt
}

func (it *seriesIterator) next() storage.ValueType {
	if it.done {
		return storage.ValNone
	}
	if !it.started {
		it.started = true
		it.chunkSeek(it.mint)
		return it.pick()
	}
	if it.fromChunk {
		switch {
		case it.t == math.MaxInt64:
			it.cOK = false
		case it.active && it.cit.Next():
			// The common step: the next sample of the open chunk, whose
			// timestamps strictly increase, is the one a seek would find.
			it.ct, it.cv = it.cit.At()
		default:
			it.chunkSeek(it.t + 1)
		}
	}
	if it.fromOOO {
		it.oi++
	}
	return it.pick()
}

func (it *seriesIterator) seekTo(t int64) storage.ValueType {
	if it.done {
		return storage.ValNone
	}
	if it.started && it.t >= t {
		return storage.ValFloat
	}
	it.started = true
	t = max(t, it.mint)
	it.chunkSeek(t)
	for it.oi < len(it.ooo) && it.ooo[it.oi].t < t {
		it.oi++
	}
	return it.pick()
}

// At returns the current sample.
func (it *seriesIterator) At() (int64, float64) { return it.t, it.v }

// AtT returns the current timestamp.
func (it *seriesIterator) AtT() int64 { return it.t }

// Err returns the chunk decoding error that ended the iteration, if any.
func (it *seriesIterator) Err() error { return it.err }
