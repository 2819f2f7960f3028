package scrape

import "github.com/argusmon/argus/storage"

// staleTracker remembers, per storage reference, which series the scrape in
// progress appended (cur) and which the previous scrape did (prev); the
// series of prev missing from cur get staleness markers. Keyed by reference
// rather than raw text so that one series exposed under two spellings is
// one series.
//
// Both sets live in one slot per reference, stamped with the iteration that
// filled them, so that a new iteration starts with an empty cur and the old
// cur as prev without touching any slot, and a series appended again costs
// no map write: its cache entry points at its slot.
type staleTracker struct {
	slots map[storage.SeriesRef]*trackSlot
	// inCur counts the slots with a cur member at iteration stamp inCurAt.
	// When every slot has one, nothing is stale and nothing is empty, and
	// forEachStale need not look.
	inCur   int
	inCurAt uint64
}

// trackSlot holds the cur and prev members for one reference. Stamps are
// iteration+1 so that zero means never. At iteration stamp now, the slot is
// in one of four states:
//
//	curAt == now-1:                    prev = curE
//	curAt == now, prevAt == now-1:     prev = prevE, cur = curE
//	curAt == now, otherwise:           cur = curE
//	otherwise:                         empty
type trackSlot struct {
	ref           storage.SeriesRef
	curE, prevE   *cacheEntry
	curAt, prevAt uint64
	gone          bool // deleted from the tracker; entries must look up again.
}

func newStaleTracker() staleTracker {
	return staleTracker{slots: map[storage.SeriesRef]*trackSlot{}}
}

func (s *trackSlot) prev(now uint64) *cacheEntry {
	last := now - 1
	switch {
	case last == 0:
		return nil
	case s.curAt == last:
		return s.curE
	case s.curAt == now && s.prevAt == last:
		return s.prevE
	}
	return nil
}

func (s *trackSlot) cur(now uint64) *cacheEntry {
	if s.curAt == now {
		return s.curE
	}
	return nil
}

func (s *trackSlot) setCur(e *cacheEntry, now uint64) {
	if s.curAt == now {
		s.curE = e
		return
	}
	if last := now - 1; last != 0 && s.curAt == last {
		s.prevE, s.prevAt = s.curE, last
	} else {
		s.prevE, s.prevAt = nil, 0
	}
	s.curE, s.curAt = e, now
}

func (s *trackSlot) delCur(now uint64) {
	if s.curAt != now {
		return
	}
	if last := now - 1; last != 0 && s.prevAt == last {
		s.curE, s.curAt = s.prevE, last
	} else {
		s.curE, s.curAt = nil, 0
	}
	s.prevE, s.prevAt = nil, 0
}

// setPrev is only called for a member moved from another slot's prev, so
// there is a previous iteration.
func (s *trackSlot) setPrev(e *cacheEntry, now uint64) {
	last := now - 1
	switch {
	case s.curAt == last:
		s.curE = e
	case s.curAt == now:
		s.prevE, s.prevAt = e, last
	default:
		s.curE, s.curAt = e, last
	}
}

func (s *trackSlot) delPrev(now uint64) {
	last := now - 1
	switch {
	case last == 0:
	case s.curAt == last:
		s.curE, s.curAt = nil, 0
	case s.curAt == now && s.prevAt == last:
		s.prevE, s.prevAt = nil, 0
	}
}

func (t *staleTracker) slot(ref storage.SeriesRef) *trackSlot {
	s, ok := t.slots[ref]
	if !ok {
		s = &trackSlot{ref: ref}
		t.slots[ref] = s
	}
	return s
}

// setCur puts e in s's cur, counting the slot.
func (t *staleTracker) setCur(s *trackSlot, e *cacheEntry, now uint64) {
	if t.inCurAt != now {
		t.inCur, t.inCurAt = 0, now
	}
	if s.curAt != now {
		t.inCur++
	}
	s.setCur(e, now)
}

// track puts e in cur at iteration stamp now.
func (t *staleTracker) track(e *cacheEntry, now uint64) {
	if e.ref == 0 {
		return
	}
	s := e.slot
	if s == nil || s.gone || s.ref != e.ref {
		s = t.slot(e.ref)
		e.slot = s
	}
	t.setCur(s, e, now)
}

// move re-keys e's membership of prev and of cur from e.ref to ref.
func (t *staleTracker) move(e *cacheEntry, ref storage.SeriesRef, now uint64) {
	old, ok := t.slots[e.ref]
	if !ok {
		return
	}
	if old.prev(now) == e {
		old.delPrev(now)
		t.slot(ref).setPrev(e, now)
	}
	if old.cur(now) == e {
		old.delCur(now)
		t.inCur--
		t.setCur(t.slot(ref), e, now)
	}
}

// forgetCurrent empties cur.
func (t *staleTracker) forgetCurrent(now uint64) {
	for _, s := range t.slots {
		s.delCur(now)
	}
	t.inCur = 0
}

// forEachStale calls f for every member of prev whose reference is not in
// cur, stopping at the first error. It drops the slots that are empty.
func (t *staleTracker) forEachStale(now uint64, f func(*cacheEntry) error) error {
	if t.inCurAt == now && t.inCur == len(t.slots) {
		return nil
	}
	for ref, s := range t.slots {
		p, c := s.prev(now), s.cur(now)
		switch {
		case p == nil && c == nil:
			delete(t.slots, ref)
			s.gone = true
		case p != nil && c == nil:
			if err := f(p); err != nil {
				return err
			}
		}
	}
	return nil
}
