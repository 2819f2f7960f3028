package query

import (
	"fmt"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/parser/posrange"

	"github.com/argusmon/argus/storage"
)

// window is the input of a range function at one step: the samples in
// (start, end], the range, the step's evaluation time and the values of
// the function's scalar arguments at that step.
type window struct {
	points     []FPoint
	start, end int64
	rng        int64
	ts         int64
	p1, p2     float64
	// resetPrev holds, for each counter reset between successive points
	// in order, the value before the drop; set for the counter functions.
	resetPrev []float64
}

// rangeFunc computes a range function over one window; ok is false when
// the window yields no output sample.
type rangeFunc func(w window) (v float64, ok bool)

// rangeInput is the range-vector argument of a function, resolved to the
// series it yields and the window each step reads.
type rangeInput struct {
	rng    int64
	offset int64
	at     *int64
	// Exactly one of the two is set: series read from storage for a range
	// selector, or the evaluated points of a subquery.
	stored []storage.Series
	sub    evalMatrix
	// matchers are the range selector's, for absent_over_time's labels.
	matchers []*labels.Matcher
}

func (in *rangeInput) len() int {
	if in.stored != nil {
		return len(in.stored)
	}
	return len(in.sub)
}

// refTime returns the end of the window read for evaluation time ts.
func (in *rangeInput) refTime(ts int64) int64 {
	if in.at != nil {
		ts = *in.at
	}
	return ts - in.offset
}

// windower yields one series' successive windows; windows must be asked
// for in increasing time order.
type windower interface {
	window(lo, hi int64) []FPoint
	err() error
	// stored reports whether the windows come from storage, and so count
	// in the query's sample statistics (a subquery's points were counted
	// when it was evaluated); fresh is how many samples the last window
	// read that the one before did not hold.
	stored() bool
	fresh() int
	// base is the position of the last window's first point in the
	// sequence of points this windower has yielded, so that state kept
	// across windows can tell which points it has already seen.
	base() int
}

// storedWindower reads a stored series once, holding only the current
// window.
type storedWindower struct {
	r       sampleReader
	buf     []FPoint
	lastNew int
	dropped int
}

func (w *storedWindower) window(lo, hi int64) []FPoint {
	n := len(w.buf)
	w.buf = dropBefore(w.buf, lo)
	w.dropped += n - len(w.buf)
	held := len(w.buf)
	w.buf = w.r.readWindow(w.buf, lo, hi)
	w.lastNew = len(w.buf) - held
	return w.buf
}

func (w *storedWindower) err() error { return w.r.err }
func (*storedWindower) stored() bool { return true }
func (w *storedWindower) fresh() int { return w.lastNew }
func (w *storedWindower) base() int  { return w.dropped }

// pointsWindower slides over points already in memory, a subquery's.
type pointsWindower struct {
	pts    []FPoint
	lo, hi int // the current window is pts[lo:hi]
}

func (w *pointsWindower) window(lo, hi int64) []FPoint {
	for w.lo < len(w.pts) && w.pts[w.lo].T <= lo {
		w.lo++
	}
	if w.hi < w.lo {
		w.hi = w.lo
	}
	for w.hi < len(w.pts) && w.pts[w.hi].T <= hi {
		w.hi++
	}
	return w.pts[w.lo:w.hi]
}

func (*pointsWindower) err() error   { return nil }
func (*pointsWindower) stored() bool { return false }
func (*pointsWindower) fresh() int   { return 0 }
func (w *pointsWindower) base() int  { return w.lo }

// countWindow adds a window read at step i to the sample statistics.
func (ev *evaluator) countWindow(i int, w windower, n int) {
	if w.stored() {
		ev.stats.add(i, int64(n), int64(w.fresh()))
	}
}

// resolveRangeArg evaluates the range-vector argument of a function: it
// selects a range selector's series or evaluates a subquery. The release
// function gives back the memory a subquery's result was charged for.
func (ev *evaluator) resolveRangeArg(arg parser.Expr, fn string) (*rangeInput, func(), error) {
	switch a := unwrapParens(arg).(type) {
	case *parser.MatrixSelector:
		vs, ok := a.VectorSelector.(*parser.VectorSelector)
		if !ok {
			return nil, nil, fmt.Errorf("unexpected range selector operand %T", a.VectorSelector)
		}
		rng := a.Range.Milliseconds()
		series, err := ev.selectSeries(vs, rng, fn)
		if err != nil {
			return nil, nil, err
		}
		if series == nil {
			series = []storage.Series{}
		}
		in := &rangeInput{rng: rng, offset: vs.OriginalOffset.Milliseconds(), at: vs.Timestamp, stored: series, matchers: vs.LabelMatchers}
		return in, func() {}, nil
	case *parser.SubqueryExpr:
		m, err := ev.subquery(a, subqueryUse{steps: ev.steps, rng: a.Range.Milliseconds(), offset: a.OriginalOffset.Milliseconds(), at: a.Timestamp})
		if err != nil {
			return nil, nil, err
		}
		if m == nil {
			m = evalMatrix{}
		}
		n := m.numPoints()
		in := &rangeInput{rng: a.Range.Milliseconds(), offset: a.OriginalOffset.Milliseconds(), at: a.Timestamp, sub: m}
		return in, func() { ev.release(n) }, nil
	}
	return nil, nil, fmt.Errorf("function %q expects a range vector, got %T", fn, arg)
}

// forEachSeries calls visit for every series of the range input with a
// windower over it.
func (ev *evaluator) forEachSeries(in *rangeInput, visit func(i int, metric labels.Labels, dropName bool, w windower) error) error {
	var (
		it storage.Iterator
		// One windower serves every series in turn, so its buffer is
		// allocated once per selector rather than once per series.
		w = &storedWindower{}
	)
	for i := 0; i < in.len(); i++ {
		if err := ev.checkCtx(); err != nil {
			return err
		}
		if in.stored != nil {
			s := in.stored[i]
			it = s.Iterator(it)
			*w = storedWindower{r: sampleReader{it: it}, buf: w.buf[:0]}
			if err := visit(i, s.Labels(), false, w); err != nil {
				return err
			}
			if w.err() != nil {
				return ev.storageErr(s, w.err())
			}
			continue
		}
		s := in.sub[i]
		if err := visit(i, s.metric, s.dropName, &pointsWindower{pts: s.points}); err != nil {
			return err
		}
	}
	return nil
}

// scalarArg evaluates a scalar argument to its value at every step.
func (ev *evaluator) scalarArg(e parser.Expr) ([]float64, error) {
	m, err := ev.eval(e)
	if err != nil {
		return nil, err
	}
	defer ev.release(m.numPoints())
	vals := make([]float64, ev.steps)
	if len(m) != 1 || len(m[0].points) != ev.steps {
		return nil, fmt.Errorf("scalar argument %q does not have a value at every step", e)
	}
	for i, p := range m[0].points {
		vals[i] = p.F
	}
	return vals, nil
}

// rangeCall describes how a function over a range vector is applied.
type rangeCall struct {
	name     string
	fn       rangeFunc
	keepName bool
	arg      parser.Expr // the range-vector argument
	p1, p2   []float64   // scalar arguments per step, if any
	// check validates the scalar arguments of a step whose window holds
	// samples, for functions that fail on bad arguments.
	check func(p1, p2 float64) error
	// pos is the range argument's position, for annotations.
	pos posrange.PositionRange
	// counter asks for each window's counter resets (window.resetPrev).
	counter bool
}

// evalRangeFunc applies a range function. It walks each series once across
// all steps, keeping only the current window in memory.
func (ev *evaluator) evalRangeFunc(c rangeCall) (evalMatrix, error) {
	in, release, err := ev.resolveRangeArg(c.arg, c.name)
	if err != nil {
		return nil, err
	}
	defer release()
	return ev.collectRangeFunc(c, in)
}

// collectRangeFunc applies a range function to a resolved input, holding
// every series' result.
func (ev *evaluator) collectRangeFunc(c rangeCall, in *rangeInput) (evalMatrix, error) {
	out := make(evalMatrix, 0, in.len())
	err := ev.streamRangeFunc(c, in, false, func(_ int, metric labels.Labels, dropName bool, pts []FPoint) error {
		if err := ev.grow(len(pts)); err != nil {
			return err
		}
		out = append(out, evalSeries{metric: metric, points: pts, dropName: dropName})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if c.keepName {
		return out, nil
	}
	return ev.dropNames(out)
}

// rangeSink receives a range function's result one series at a time, in
// the order of the input series, leaving out series without points. The
// metric is the input's, the i-th series of the range input: dropping the
// name is left to the caller.
type rangeSink func(i int, metric labels.Labels, dropName bool, pts []FPoint) error

// streamRangeFunc computes a range function series by series and hands
// each result to sink. With reuse, every series' points are built in the
// same buffer, which sink must not keep; otherwise each series gets its
// own slice.
func (ev *evaluator) streamRangeFunc(c rangeCall, in *rangeInput, reuse bool, sink rangeSink) error {
	var (
		pts    []FPoint
		resets resetTracker
	)
	return ev.forEachSeries(in, func(series int, metric labels.Labels, dropName bool, w windower) error {
		var firstLen int // the first window's size, which @ repeats
		if reuse {
			pts = pts[:0]
		} else {
			pts = nil
		}
		resets = resetTracker{pos: resets.pos[:0], prev: resets.prev[:0]}
		for i := 0; i < ev.steps; i++ {
			if i%256 == 255 {
				if err := ev.checkCtx(); err != nil {
					return err
				}
			}
			ts := ev.stepTime(i)
			if in.at != nil && i > 0 && c.p1 == nil {
				// @ pins the window: every step sees the first step's value
				// unless a scalar argument varies by step.
				if len(pts) > 0 {
					pts = append(pts, FPoint{T: ts, F: pts[0].F})
					if w.stored() {
						ev.stats.add(i, int64(firstLen), 0)
					}
				}
				continue
			}
			end := in.refTime(ts)
			start := end - in.rng
			win := w.window(start, end)
			if len(win) == 0 {
				continue
			}
			if i == 0 {
				firstLen = len(win)
			}
			ev.countWindow(i, w, len(win))
			wd := window{points: win, start: start, end: end, rng: in.rng, ts: ts}
			if c.p1 != nil {
				wd.p1 = c.p1[i]
			}
			if c.p2 != nil {
				wd.p2 = c.p2[i]
			}
			if c.check != nil {
				if err := c.check(wd.p1, wd.p2); err != nil {
					return err
				}
			}
			if c.counter {
				wd.resetPrev = resets.update(win, w.base())
			}
			// The window is held while the function runs.
			if err := ev.grow(len(win)); err != nil {
				return err
			}
			v, ok := c.fn(wd)
			ev.release(len(win))
			if ok {
				if pts == nil {
					// Series mostly have a value at every step from their
					// first on: size for that rather than grow by doubling.
					pts = ev.pool.get(ev.steps - i)
				}
				pts = append(pts, FPoint{T: ts, F: v})
			}
		}
		if len(pts) == 0 {
			return nil
		}
		if c.name == "rate" || c.name == "increase" {
			ev.checkCounterName(metric, c.pos)
		}
		return sink(series, metric, dropName, pts)
	})
}

// checkCounterName notes, as Prometheus does, when rate or increase is
// applied to a metric whose name does not look like a counter's.
func (ev *evaluator) checkCounterName(metric labels.Labels, pos posrange.PositionRange) {
	name := metric.Get(labels.MetricName)
	if name == "" {
		return
	}
	for _, suffix := range []string{"_total", "_sum", "_count", "_bucket"} {
		if strings.HasSuffix(name, suffix) {
			return
		}
	}
	ev.annos.info(pos, msgPossibleNonCounter, name)
}
