package tsdb

import (
	"slices"

	"github.com/argusmon/argus/storage"
)

// listTag marks a postingsEntry that indexes valuePostings.lists; without
// it the entry is the reference of the value's only series. Series
// references are handed out from 1 upwards and never reach it.
const listTag = 1 << 63

// postingsEntry is a label value's series: one reference inline, or a
// tagged index of a list of several.
type postingsEntry uint64

func (e postingsEntry) isList() bool { return e&listTag != 0 }

func (e postingsEntry) list() int { return int(e &^ listTag) }

// valuePostings are the postings of one label name by value. Many values
// (instance, pod and other identifiers) have a single series, so that case
// costs one word in the map rather than a slice header and an array.
type valuePostings struct {
	entries map[string]postingsEntry
	lists   [][]storage.SeriesRef // sorted, at least two references each
	free    []int                 // indexes of unused lists
}

func newValuePostings() *valuePostings {
	return &valuePostings{entries: map[string]postingsEntry{}}
}

// add indexes ref under value v.
func (vp *valuePostings) add(v string, ref storage.SeriesRef) {
	e, ok := vp.entries[v]
	switch {
	case !ok:
		vp.entries[v] = postingsEntry(ref)
	case !e.isList():
		l := insertSorted([]storage.SeriesRef{storage.SeriesRef(e)}, ref)
		vp.entries[v] = vp.newList(l)
	default:
		vp.lists[e.list()] = insertSorted(vp.lists[e.list()], ref)
	}
}

func (vp *valuePostings) newList(l []storage.SeriesRef) postingsEntry {
	if n := len(vp.free); n > 0 {
		i := vp.free[n-1]
		vp.free = vp.free[:n-1]
		vp.lists[i] = l
		return postingsEntry(i) | listTag
	}
	vp.lists = append(vp.lists, l)
	return postingsEntry(len(vp.lists)-1) | listTag
}

func (vp *valuePostings) freeList(i int) {
	vp.lists[i] = nil
	vp.free = append(vp.free, i)
}

// appendRefs appends the sorted references of the series with value v.
func (vp *valuePostings) appendRefs(out []storage.SeriesRef, v string) []storage.SeriesRef {
	e, ok := vp.entries[v]
	if !ok {
		return out
	}
	return vp.appendEntry(out, e)
}

func (vp *valuePostings) appendEntry(out []storage.SeriesRef, e postingsEntry) []storage.SeriesRef {
	if e.isList() {
		return append(out, vp.lists[e.list()]...)
	}
	return append(out, storage.SeriesRef(e))
}

// count returns how many series have the value of entry e.
func (vp *valuePostings) count(e postingsEntry) int {
	if e.isList() {
		return len(vp.lists[e.list()])
	}
	return 1
}

// deleteFunc removes the references of value v for which gone is true,
// and the value if none is left. Lists are filtered in place: readers only
// ever hold copies.
func (vp *valuePostings) deleteFunc(v string, gone func(storage.SeriesRef) bool) {
	e, ok := vp.entries[v]
	switch {
	case !ok:
	case !e.isList():
		if gone(storage.SeriesRef(e)) {
			delete(vp.entries, v)
		}
	default:
		i := e.list()
		l := slices.DeleteFunc(vp.lists[i], gone)
		switch len(l) {
		case 0:
			delete(vp.entries, v)
			vp.freeList(i)
		case 1:
			vp.entries[v] = postingsEntry(l[0])
			vp.freeList(i)
		default:
			vp.lists[i] = l
		}
	}
}
