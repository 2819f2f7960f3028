package index

import (
	"container/heap"
	"encoding/binary"
	"sort"

	"github.com/argusmon/argus/storage"
)

// Postings iterates over a sorted list of series references.
type Postings interface {
	// Next advances to the next reference.
	Next() bool
	// SeekTo advances to the first reference >= v and reports whether there
	// is one. It never moves backwards.
	SeekTo(v storage.SeriesRef) bool
	// At returns the current reference.
	At() storage.SeriesRef
	// Err returns the error that ended the iteration, if any.
	Err() error
}

// ExpandPostings drains p into a slice.
func ExpandPostings(p Postings) ([]storage.SeriesRef, error) {
	var out []storage.SeriesRef
	for p.Next() {
		out = append(out, p.At())
	}
	return out, p.Err()
}

// EmptyPostings returns a Postings with no references.
func EmptyPostings() Postings { return errPostings{} }

// ErrPostings returns a Postings with no references that reports err.
func ErrPostings(err error) Postings { return errPostings{err} }

type errPostings struct{ err error }

func (errPostings) Next() bool                    { return false }
func (errPostings) SeekTo(storage.SeriesRef) bool { return false }
func (errPostings) At() storage.SeriesRef         { return 0 }
func (e errPostings) Err() error                  { return e.err }

// NewListPostings iterates over a sorted slice.
func NewListPostings(list []storage.SeriesRef) Postings { return &listPostings{list: list, i: -1} }

type listPostings struct {
	list []storage.SeriesRef
	i    int
}

func (p *listPostings) Next() bool {
	if p.i+1 >= len(p.list) {
		p.i = len(p.list)
		return false
	}
	p.i++
	return true
}

func (p *listPostings) SeekTo(v storage.SeriesRef) bool {
	if p.i >= 0 && p.i < len(p.list) && p.list[p.i] >= v {
		return true
	}
	start := max(p.i, 0)
	p.i = start + sort.Search(len(p.list)-start, func(j int) bool { return p.list[start+j] >= v })
	return p.i < len(p.list)
}

func (p *listPostings) At() storage.SeriesRef { return p.list[p.i] }
func (p *listPostings) Err() error            { return nil }

// bigEndianPostings iterates over the 4-byte references of an on-disk
// postings list without decoding it first.
type bigEndianPostings struct {
	b   []byte
	i   int // index of the current reference, -1 before the first
	cur uint32
}

func newBigEndianPostings(b []byte) *bigEndianPostings {
	return &bigEndianPostings{b: b[:len(b)/4*4], i: -1}
}

func (p *bigEndianPostings) n() int { return len(p.b) / 4 }

func (p *bigEndianPostings) Next() bool {
	if p.i+1 >= p.n() {
		p.i = p.n()
		return false
	}
	p.i++
	p.cur = binary.BigEndian.Uint32(p.b[p.i*4:])
	return true
}

func (p *bigEndianPostings) SeekTo(v storage.SeriesRef) bool {
	if p.i >= 0 && p.i < p.n() && storage.SeriesRef(p.cur) >= v {
		return true
	}
	start := max(p.i, 0)
	j := sort.Search(p.n()-start, func(j int) bool {
		return storage.SeriesRef(binary.BigEndian.Uint32(p.b[(start+j)*4:])) >= v
	})
	p.i = start + j
	if p.i >= p.n() {
		return false
	}
	p.cur = binary.BigEndian.Uint32(p.b[p.i*4:])
	return true
}

func (p *bigEndianPostings) At() storage.SeriesRef { return storage.SeriesRef(p.cur) }
func (p *bigEndianPostings) Err() error            { return nil }

// Intersect returns the references present in every one of its.
func Intersect(its ...Postings) Postings {
	switch len(its) {
	case 0:
		return EmptyPostings()
	case 1:
		return its[0]
	}
	return &intersectPostings{its: its}
}

type intersectPostings struct {
	its []Postings
	cur storage.SeriesRef
	err error
}

func (p *intersectPostings) At() storage.SeriesRef { return p.cur }
func (p *intersectPostings) Err() error            { return p.err }

// align seeks every iterator to the smallest value >= target they all hold.
func (p *intersectPostings) align(target storage.SeriesRef) bool {
	for {
		agreed := true
		for _, it := range p.its {
			if !it.SeekTo(target) {
				p.err = it.Err()
				return false
			}
			if v := it.At(); v > target {
				target, agreed = v, false
			}
		}
		if agreed {
			p.cur = target
			return true
		}
	}
}

func (p *intersectPostings) Next() bool {
	if !p.its[0].Next() {
		p.err = p.its[0].Err()
		return false
	}
	return p.align(p.its[0].At())
}

func (p *intersectPostings) SeekTo(v storage.SeriesRef) bool { return p.align(max(v, p.cur)) }

// Merge returns the sorted union of its, without duplicates.
func Merge(its ...Postings) Postings {
	switch len(its) {
	case 0:
		return EmptyPostings()
	case 1:
		return its[0]
	}
	return &mergePostings{its: its}
}

type postingsHeap []Postings

func (h postingsHeap) Len() int           { return len(h) }
func (h postingsHeap) Less(i, j int) bool { return h[i].At() < h[j].At() }
func (h postingsHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *postingsHeap) Push(x any)        { *h = append(*h, x.(Postings)) }
func (h *postingsHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

type mergePostings struct {
	its         []Postings
	h           postingsHeap
	initialized bool
	done        bool
	cur         storage.SeriesRef
	err         error
}

// init positions every iterator with SeekTo(v) (or Next when first) and
// builds the heap.
func (p *mergePostings) init(seek bool, v storage.SeriesRef) bool {
	p.initialized = true
	for _, it := range p.its {
		ok := false
		if seek {
			ok = it.SeekTo(v)
		} else {
			ok = it.Next()
		}
		if ok {
			p.h = append(p.h, it)
		} else if err := it.Err(); err != nil {
			p.err = err
			return false
		}
	}
	heap.Init(&p.h)
	return p.pop()
}

// pop makes the heap's smallest reference current and advances every
// iterator positioned on it.
func (p *mergePostings) pop() bool {
	if len(p.h) == 0 {
		p.done = true
		return false
	}
	p.cur = p.h[0].At()
	for len(p.h) > 0 && p.h[0].At() == p.cur {
		if p.h[0].Next() {
			heap.Fix(&p.h, 0)
			continue
		}
		if err := p.h[0].Err(); err != nil {
			p.err = err
			return false
		}
		heap.Pop(&p.h)
	}
	return true
}

func (p *mergePostings) Next() bool {
	if p.err != nil || p.done {
		return false
	}
	if !p.initialized {
		return p.init(false, 0)
	}
	return p.pop()
}

func (p *mergePostings) SeekTo(v storage.SeriesRef) bool {
	if p.err != nil || p.done {
		return false
	}
	if !p.initialized {
		return p.init(true, v)
	}
	if p.cur >= v {
		return true
	}
	for len(p.h) > 0 && p.h[0].At() < v {
		if p.h[0].SeekTo(v) {
			heap.Fix(&p.h, 0)
			continue
		}
		if err := p.h[0].Err(); err != nil {
			p.err = err
			return false
		}
		heap.Pop(&p.h)
	}
	return p.pop()
}

func (p *mergePostings) At() storage.SeriesRef { return p.cur }
func (p *mergePostings) Err() error            { return p.err }

// Without returns the references of full that are not in drop.
func Without(full, drop Postings) Postings {
	return &withoutPostings{full: full, drop: drop, dropOK: true}
}

type withoutPostings struct {
	full, drop  Postings
	dropOK      bool // drop may still hold references
	dropStarted bool
	cur         storage.SeriesRef
	err         error
}

// skipDropped advances full past references present in drop.
func (p *withoutPostings) skipDropped() bool {
	for {
		v := p.full.At()
		if p.dropOK {
			if !p.dropStarted || p.drop.At() < v {
				p.dropStarted = true
				p.dropOK = p.drop.SeekTo(v)
				if !p.dropOK {
					if err := p.drop.Err(); err != nil {
						p.err = err
						return false
					}
				}
			}
		}
		if p.dropOK && p.drop.At() == v {
			if !p.full.Next() {
				p.err = p.full.Err()
				return false
			}
			continue
		}
		p.cur = v
		return true
	}
}

func (p *withoutPostings) Next() bool {
	if p.err != nil || !p.full.Next() {
		if p.err == nil {
			p.err = p.full.Err()
		}
		return false
	}
	return p.skipDropped()
}

func (p *withoutPostings) SeekTo(v storage.SeriesRef) bool {
	if p.err != nil || !p.full.SeekTo(v) {
		if p.err == nil {
			p.err = p.full.Err()
		}
		return false
	}
	return p.skipDropped()
}

func (p *withoutPostings) At() storage.SeriesRef { return p.cur }
func (p *withoutPostings) Err() error            { return p.err }
