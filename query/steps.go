package query

import (
	"github.com/prometheus/prometheus/model/labels"
)

// stepSample is one input series' value at the step being combined.
type stepSample struct {
	series int // index of the series in its evalMatrix
	f      float64
}

// cursor walks an evalMatrix step by step, for operations that combine
// series (binary operators, aggregations).
type cursor struct {
	m   evalMatrix
	pos []int
	buf []stepSample
}

func newCursor(m evalMatrix) *cursor {
	return &cursor{m: m, pos: make([]int, len(m))}
}

// at returns the samples the matrix has at ts. Calls must come in
// increasing ts order. The returned slice is reused by the next call.
func (c *cursor) at(ts int64) []stepSample {
	c.buf = c.buf[:0]
	for i := range c.m {
		pts := c.m[i].points
		p := c.pos[i]
		if p < len(pts) && pts[p].T == ts {
			c.buf = append(c.buf, stepSample{series: i, f: pts[p].F})
			c.pos[i]++
		}
	}
	return c.buf
}

// outBuilder assembles a result step by step, one series per label set,
// rejecting two values for the same label set at the same step.
type outBuilder struct {
	ev    *evaluator
	out   evalMatrix
	index map[uint64]int
	// dense says output series mostly have a point at every step from
	// their first on, so each gets room for that at once rather than
	// growing by doubling.
	dense bool
	// from, if set, is an input whose points the result may overwrite:
	// see addFrom. owner holds, per output series, the input series whose
	// slice it writes over, or -1; owning marks those input series.
	from   evalMatrix
	owner  []int
	owning []bool
}

// overwrite lets the result take over the points of the input series
// that feed it, for an operator that reads each input series' point at a
// step before adding the output's point for that step.
func (b *outBuilder) overwrite(from evalMatrix) {
	b.from, b.owning = from, make([]bool, len(from))
}

// addFrom adds a point computed from input series src of the overwritable
// input. An output series first fed by src writes over src's slice: it
// never gains more points than src has, and it writes each after src's
// point at the same step was read. Should another input series feed it,
// it moves to a slice of its own.
func (b *outBuilder) addFrom(src int, metric labels.Labels, h uint64, dropName bool, t int64, f float64) error {
	i, ok := b.index[h]
	switch {
	case !ok && !b.owning[src]:
		i = len(b.out)
		b.index[h] = i
		b.out = append(b.out, evalSeries{metric: metric, dropName: dropName, points: b.from[src].points[:0]})
		b.owner = append(b.owner, src)
		b.owning[src] = true
	case !ok:
		b.owner = append(b.owner, -1)
	case b.owner[i] >= 0 && b.owner[i] != src:
		s := &b.out[i]
		own := append(b.ev.pool.get(len(s.points)+b.ev.steps-b.ev.stepIndex(t)), s.points...)
		b.owning[b.owner[i]] = false
		s.points, b.owner[i] = own, -1
	}
	return b.addHashed(metric, h, dropName, t, f)
}

// handOver takes the overwritten slices from the input, which must not
// give them back to the pool.
func (b *outBuilder) handOver() {
	for src, owned := range b.owning {
		if owned {
			b.from[src].points = nil
		}
	}
}

func newOutBuilder(ev *evaluator, sizeHint int) *outBuilder {
	return &outBuilder{ev: ev, out: make(evalMatrix, 0, sizeHint), index: make(map[uint64]int, sizeHint)}
}

func (b *outBuilder) add(metric labels.Labels, dropName bool, t int64, f float64) error {
	return b.addHashed(metric, metric.Hash(), dropName, t, f)
}

// addHashed is add for a caller that already has metric's hash h.
func (b *outBuilder) addHashed(metric labels.Labels, h uint64, dropName bool, t int64, f float64) error {
	i, ok := b.index[h]
	if !ok {
		i = len(b.out)
		b.index[h] = i
		s := evalSeries{metric: metric, dropName: dropName}
		if b.dense {
			s.points = b.ev.pool.get(b.ev.steps - b.ev.stepIndex(t))
		}
		b.out = append(b.out, s)
	}
	s := &b.out[i]
	if n := len(s.points); n > 0 && s.points[n-1].T == t {
		return errDuplicateLabelset
	}
	s.dropName = s.dropName || dropName
	s.points = append(s.points, FPoint{T: t, F: f})
	return b.ev.grow(1)
}
