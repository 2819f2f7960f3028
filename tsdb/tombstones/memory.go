package tombstones

import (
	"slices"
	"sync"

	"github.com/argusmon/argus/storage"
)

// Reader gives the deleted intervals of series.
type Reader interface {
	// Get returns the deleted intervals of ref, nil if none. The caller must
	// not modify them.
	Get(ref storage.SeriesRef) Intervals
	// Iter calls f for every series with tombstones, in reference order,
	// and stops at the first error.
	Iter(f func(storage.SeriesRef, Intervals) error) error
	// Total returns the number of intervals.
	Total() uint64
}

// MemTombstones holds tombstones in memory. It is safe for concurrent use.
type MemTombstones struct {
	mu sync.RWMutex
	m  map[storage.SeriesRef]Intervals
}

// NewMemTombstones returns an empty set.
func NewMemTombstones() *MemTombstones {
	return &MemTombstones{m: map[storage.SeriesRef]Intervals{}}
}

// AddInterval marks the intervals of ref deleted, merging them with those
// already there.
func (t *MemTombstones) AddInterval(ref storage.SeriesRef, ivs ...Interval) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.m[ref]
	for _, in := range ivs {
		cur = cur.Add(in)
	}
	if len(cur) > 0 {
		t.m[ref] = cur
	}
}

// Get implements Reader. Add replaces rather than edits a stored list, so
// the returned slice never changes under the caller.
func (t *MemTombstones) Get(ref storage.SeriesRef) Intervals {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.m[ref]
}

// Iter implements Reader.
func (t *MemTombstones) Iter(f func(storage.SeriesRef, Intervals) error) error {
	t.mu.RLock()
	refs := make([]storage.SeriesRef, 0, len(t.m))
	for ref := range t.m {
		refs = append(refs, ref)
	}
	t.mu.RUnlock()
	slices.Sort(refs)
	for _, ref := range refs {
		if err := f(ref, t.Get(ref)); err != nil {
			return err
		}
	}
	return nil
}

// Total implements Reader.
func (t *MemTombstones) Total() uint64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var n uint64
	for _, ivs := range t.m {
		n += uint64(len(ivs))
	}
	return n
}

// Filter keeps only the intervals for which keep returns true.
func (t *MemTombstones) Filter(keep func(storage.SeriesRef, Interval) bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for ref, ivs := range t.m {
		var kept Intervals
		for _, in := range ivs {
			if keep(ref, in) {
				kept = append(kept, in)
			}
		}
		if len(kept) == 0 {
			delete(t.m, ref)
		} else {
			t.m[ref] = kept
		}
	}
}
