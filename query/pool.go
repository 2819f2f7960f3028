package query

import "sync"

// pointPool recycles the point slices of intermediate and final results
// between an engine's queries, so that a dashboard's queries repeated
// every few seconds do not allocate, and collect, their whole results each
// time. Only slices nothing refers to any more may be put back.
type pointPool struct {
	points sync.Pool // *[]FPoint
}

// get returns an empty slice with room for n points.
func (p *pointPool) get(n int) []FPoint {
	if v, ok := p.points.Get().(*[]FPoint); ok && cap(*v) >= n {
		return (*v)[:0]
	}
	// A slice too small for this query is left to the garbage collector:
	// the pool's slices are sized for the queries running now.
	return make([]FPoint, 0, n)
}

func (p *pointPool) put(s []FPoint) {
	if cap(s) == 0 {
		return
	}
	s = s[:0]
	p.points.Put(&s)
}

// putMatrix gives back the points of every series of m, which must not be
// used afterwards.
func (p *pointPool) putMatrix(m evalMatrix) {
	for i := range m {
		p.put(m[i].points)
		m[i].points = nil
	}
}
