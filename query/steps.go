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
}

func newOutBuilder(ev *evaluator, sizeHint int) *outBuilder {
	return &outBuilder{ev: ev, out: make(evalMatrix, 0, sizeHint), index: make(map[uint64]int, sizeHint)}
}

func (b *outBuilder) add(metric labels.Labels, dropName bool, t int64, f float64) error {
	h := metric.Hash()
	i, ok := b.index[h]
	if !ok {
		i = len(b.out)
		b.index[h] = i
		b.out = append(b.out, evalSeries{metric: metric, dropName: dropName})
	}
	s := &b.out[i]
	if n := len(s.points); n > 0 && s.points[n-1].T == t {
		return errDuplicateLabelset
	}
	s.dropName = s.dropName || dropName
	s.points = append(s.points, FPoint{T: t, F: f})
	return b.ev.grow(1)
}
