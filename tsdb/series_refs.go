package tsdb

import (
	"sync"
	"sync/atomic"

	"github.com/argusmon/argus/storage"
)

// refPageBits sets the series per page of a refIndex: 4096 pointers, 32 KiB.
const refPageBits = 12

const refPageSize = 1 << refPageBits

// refIndex maps series references to series. References are handed out
// densely and in increasing order, so an array indexed by reference costs
// one pointer per series where a map costs several words, and reads need
// no lock. The array is split into pages, a page freed once all of its
// series are gone, so that churn does not keep dead ranges alive.
type refIndex struct {
	mu  sync.Mutex // serialises writers
	dir atomic.Pointer[[]*refPage]
}

type refPage struct {
	slots [refPageSize]atomic.Pointer[memSeries]
	live  int // series in the page; written with refIndex.mu held
}

func (x *refIndex) get(ref storage.SeriesRef) *memSeries {
	d := x.dir.Load()
	if d == nil {
		return nil
	}
	i := uint64(ref) >> refPageBits
	if i >= uint64(len(*d)) || (*d)[i] == nil {
		return nil
	}
	return (*d)[i].slots[ref&(refPageSize-1)].Load()
}

// set indexes s under its reference, replacing any series there.
func (x *refIndex) set(s *memSeries) {
	x.mu.Lock()
	defer x.mu.Unlock()
	i := int(uint64(s.ref) >> refPageBits)
	var d []*refPage
	if p := x.dir.Load(); p != nil {
		d = *p
	}
	if i >= len(d) || d[i] == nil {
		// Copy on write: readers keep the directory they loaded.
		nd := make([]*refPage, max(len(d), i+1))
		copy(nd, d)
		nd[i] = &refPage{}
		x.dir.Store(&nd)
		d = nd
	}
	slot := &d[i].slots[s.ref&(refPageSize-1)]
	if slot.Load() == nil {
		d[i].live++
	}
	slot.Store(s)
}

// remove drops the series with ref, freeing its page if it was the last.
func (x *refIndex) remove(ref storage.SeriesRef) {
	x.mu.Lock()
	defer x.mu.Unlock()
	p := x.dir.Load()
	i := int(uint64(ref) >> refPageBits)
	if p == nil || i >= len(*p) || (*p)[i] == nil {
		return
	}
	pg := (*p)[i]
	slot := &pg.slots[ref&(refPageSize-1)]
	if slot.Load() == nil {
		return
	}
	slot.Store(nil)
	if pg.live--; pg.live == 0 {
		nd := append([]*refPage(nil), *p...)
		nd[i] = nil
		x.dir.Store(&nd)
	}
}

// each calls f for every indexed series in reference order, stopping
// early if f returns false. Series added or removed meanwhile may or may
// not be seen.
func (x *refIndex) each(f func(*memSeries) bool) {
	p := x.dir.Load()
	if p == nil {
		return
	}
	for _, pg := range *p {
		if pg == nil {
			continue
		}
		for i := range pg.slots {
			if s := pg.slots[i].Load(); s != nil && !f(s) {
				return
			}
		}
	}
}
