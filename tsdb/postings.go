package tsdb

import (
	"slices"
	"sync"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
)

// memPostings is the head's inverted index: for every label name and value
// the sorted references of the series carrying it, plus all references.
type memPostings struct {
	mu  sync.RWMutex
	m   map[string]*valuePostings
	all []storage.SeriesRef
}

func newMemPostings() *memPostings {
	return &memPostings{m: map[string]*valuePostings{}}
}

// add indexes a new series.
func (p *memPostings) add(ref storage.SeriesRef, lset labels.Labels) {
	p.mu.Lock()
	defer p.mu.Unlock()
	lset.Range(func(l labels.Label) {
		values := p.m[l.Name]
		if values == nil {
			values = newValuePostings()
			p.m[l.Name] = values
		}
		values.add(l.Value, ref)
	})
	p.all = insertSorted(p.all, ref)
}

// insertSorted appends ref, keeping list sorted. References are handed out
// in increasing order, so ref almost always belongs at the end; concurrent
// creators can index in a slightly different order.
func insertSorted(list []storage.SeriesRef, ref storage.SeriesRef) []storage.SeriesRef {
	i := len(list)
	for i > 0 && list[i-1] > ref {
		i--
	}
	return slices.Insert(list, i, ref)
}

// forMatchers returns the sorted references of the series matching every
// matcher, with Prometheus's semantics: a matcher that matches the empty
// string also selects series without the label.
func (p *memPostings) forMatchers(ms []*labels.Matcher) []storage.SeriesRef {
	p.mu.RLock()
	defer p.mu.RUnlock()

	var (
		result    []storage.SeriesRef
		have      bool
		negatives []*labels.Matcher
	)
	for _, m := range ms {
		if m.Matches("") {
			// Cheaper as a subtraction from whatever the positives select.
			negatives = append(negatives, m)
			continue
		}
		list := p.union(m.Name, m.Matches, m)
		if !have {
			result, have = list, true
		} else {
			result = intersect(result, list)
		}
		if len(result) == 0 {
			return nil
		}
	}
	if !have {
		result = slices.Clone(p.all)
	}
	for _, m := range negatives {
		// Series whose value for the label does not match are excluded;
		// those without the label have the empty value, which matches.
		excluded := p.union(m.Name, func(v string) bool { return !m.Matches(v) }, nil)
		result = subtract(result, excluded)
	}
	return result
}

// union returns a fresh sorted list of the series whose value of name
// satisfies match. exact, if not nil, is consulted for a cheaper lookup
// (equality and set-of-literals regexps). Callers hold p.mu.
func (p *memPostings) union(name string, match func(string) bool, exact *labels.Matcher) []storage.SeriesRef {
	values := p.m[name]
	if values == nil {
		return nil
	}
	var set []string
	if exact != nil && exact.Type == labels.MatchRegexp {
		set = exact.SetMatches()
	}
	var out []storage.SeriesRef
	merged := 0 // lists appended to out: past one, out needs sorting
	switch {
	case exact != nil && exact.Type == labels.MatchEqual:
		out = values.appendRefs(out, exact.Value)
	case len(set) > 0:
		for _, v := range set {
			n := len(out)
			if out = values.appendRefs(out, v); len(out) > n {
				merged++
			}
		}
	default:
		for v, e := range values.entries {
			if match(v) {
				out = values.appendEntry(out, e)
				merged++
			}
		}
	}
	if merged > 1 {
		// One label has one value per series: the lists are disjoint.
		slices.Sort(out)
	}
	return out
}

// intersect returns the elements of the sorted lists a and b present in
// both, reusing a's storage.
func intersect(a, b []storage.SeriesRef) []storage.SeriesRef {
	out := a[:0]
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// subtract returns the elements of sorted a not in sorted b, reusing a's
// storage.
func subtract(a, b []storage.SeriesRef) []storage.SeriesRef {
	if len(b) == 0 {
		return a
	}
	out := a[:0]
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j < len(b) && b[j] == x {
			continue
		}
		out = append(out, x)
	}
	return out
}

// labelNames returns the sorted label names in the index.
func (p *memPostings) labelNames() []string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	names := make([]string, 0, len(p.m))
	for n := range p.m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// labelValues returns the sorted values of name in the index.
func (p *memPostings) labelValues(name string) []string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	values := p.m[name]
	if values == nil {
		return []string{}
	}
	out := make([]string, 0, len(values.entries))
	for v := range values.entries {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// deleteSeries removes the series from the index.
func (p *memPostings) deleteSeries(dead []*memSeries) {
	if len(dead) == 0 {
		return
	}
	gone := make(map[storage.SeriesRef]struct{}, len(dead))
	pairs := map[labels.Label]struct{}{}
	for _, s := range dead {
		gone[s.ref] = struct{}{}
		s.lset.Range(func(l labels.Label) { pairs[l] = struct{}{} })
	}
	isGone := func(r storage.SeriesRef) bool { _, ok := gone[r]; return ok }
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range pairs {
		values := p.m[l.Name]
		if values == nil {
			continue
		}
		values.deleteFunc(l.Value, isGone)
		if len(values.entries) == 0 {
			delete(p.m, l.Name)
		}
	}
	p.all = slices.DeleteFunc(p.all, isGone)
}
