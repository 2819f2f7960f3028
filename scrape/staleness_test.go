package scrape

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/argusmon/argus/storage"
)

// mapTracker is the plain two-map model of staleTracker: cur and prev keyed
// by reference, swapped at the end of every iteration.
type mapTracker struct {
	cur, prev map[storage.SeriesRef]*cacheEntry
}

func (m *mapTracker) track(e *cacheEntry) {
	if e.ref != 0 {
		m.cur[e.ref] = e
	}
}

func (m *mapTracker) move(e *cacheEntry, ref storage.SeriesRef) {
	for _, s := range []map[storage.SeriesRef]*cacheEntry{m.prev, m.cur} {
		if s[e.ref] == e {
			delete(s, e.ref)
			s[ref] = e
		}
	}
}

func (m *mapTracker) stale() []string {
	var out []string
	for ref, e := range m.prev {
		if _, ok := m.cur[ref]; !ok {
			out = append(out, fmt.Sprintf("%p", e))
		}
	}
	slices.Sort(out)
	return out
}

// TestStaleTrackerMatchesMapModel drives staleTracker and the two-map model
// with the same random tracking, reference changes (including two entries
// sharing a reference), failed scrapes and iterations.
func TestStaleTrackerMatchesMapModel(t *testing.T) {
	nonEmpty := 0
	for seed := range uint64(200) {
		rnd := rand.New(rand.NewPCG(seed, 1))
		entries := make([]*cacheEntry, 8)
		refs := make([]storage.SeriesRef, len(entries)) // the model's view of e.ref
		for i := range entries {
			refs[i] = storage.SeriesRef(rnd.IntN(5) + 1)
			entries[i] = &cacheEntry{ref: refs[i]}
		}
		st := newStaleTracker()
		model := &mapTracker{cur: map[storage.SeriesRef]*cacheEntry{}, prev: map[storage.SeriesRef]*cacheEntry{}}
		iter := uint64(0)
		for step := range 300 {
			now := iter + 1
			i := rnd.IntN(len(entries))
			e := entries[i]
			switch op := rnd.IntN(10); {
			case op < 5:
				st.track(e, now)
				model.track(e)
			case op < 7:
				ref := storage.SeriesRef(rnd.IntN(6)) // 0 included: never tracked.
				if ref == e.ref {
					break
				}
				st.move(e, ref, now)
				model.move(e, ref)
				e.ref = ref
			case op < 8:
				st.forgetCurrent(now)
				clear(model.cur)
			default:
				var got []string
				if err := st.forEachStale(now, func(e *cacheEntry) error {
					got = append(got, fmt.Sprintf("%p", e))
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				slices.Sort(got)
				if want := model.stale(); !slices.Equal(got, want) {
					t.Fatalf("seed %d step %d: stale %v, want %v", seed, step, got, want)
				}
				if len(got) > 0 {
					nonEmpty++
				}
				iter++
				model.prev, model.cur = model.cur, model.prev
				clear(model.cur)
			}
		}
	}
	if nonEmpty < 1000 {
		t.Errorf("only %d checks saw stale series: the walk exercises too little", nonEmpty)
	}
}
