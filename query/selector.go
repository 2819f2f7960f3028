package query

import (
	"errors"
	"fmt"
	"sort"

	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/argusmon/argus/storage"
)

// selectSeries fetches the series of a selector. rng is the range of an
// enclosing range selector (0 for an instant selector); fn names the
// function consuming it, as a hint for the storage.
func (ev *evaluator) selectSeries(vs *parser.VectorSelector, rng int64, fn string) ([]storage.Series, error) {
	if vs.Anchored || vs.Smoothed {
		return nil, errors.New("the anchored and smoothed modifiers are not supported yet")
	}
	start, end := ev.start, ev.end
	if vs.Timestamp != nil {
		start, end = *vs.Timestamp, *vs.Timestamp
	}
	off := vs.OriginalOffset.Milliseconds()
	start, end = start-off, end-off
	if rng > 0 {
		start -= rng - 1
	} else {
		start -= ev.lookback - 1
	}
	hints := &storage.SelectHints{Start: start, End: end, Range: rng, Func: fn}
	if !ev.instant {
		hints.Step = ev.interval
	}
	set := ev.querier.Select(ev.ctx, false, hints, vs.LabelMatchers...)
	var out []storage.Series
	for set.Next() {
		if err := ev.checkCtx(); err != nil {
			return nil, err
		}
		out = append(out, set.At())
	}
	ev.stats.series += int64(len(out))
	if err := set.Err(); err != nil {
		if cerr := ev.checkCtx(); cerr != nil {
			return nil, cerr
		}
		return nil, ErrStorage{Err: fmt.Errorf("selecting series for %s: %w", vs, err)}
	}
	return out, nil
}

// refTime returns the time a selector reads at for evaluation time ts.
func refTime(vs *parser.VectorSelector, ts int64) int64 {
	if vs.Timestamp != nil {
		ts = *vs.Timestamp
	}
	return ts - vs.OriginalOffset.Milliseconds()
}

// sampleReader walks one series' samples forward, seeking over samples no
// window will need.
type sampleReader struct {
	it      storage.Iterator
	started bool
	has     bool // t and f hold a sample not yet consumed
	t       int64
	f       float64
	err     error
}

func (r *sampleReader) load(vt storage.ValueType) {
	switch vt {
	case storage.ValFloat:
		r.has = true
		r.t, r.f = r.it.At()
	case storage.ValNone:
		r.has = false
		r.err = r.it.Err()
	default:
		// Anything but a float is a native histogram (or something newer):
		// fail the query rather than read it as a float.
		r.has = false
		r.err = fmt.Errorf("%w (sample type %d)", ErrNativeHistograms, vt)
	}
}

// skipTo positions the reader at the first sample after lo (exclusive) if
// it is not already past it.
func (r *sampleReader) skipTo(lo int64) {
	if !r.started {
		r.started = true
		r.load(r.it.SeekTo(lo + 1))
		return
	}
	if r.has && r.t <= lo {
		r.load(r.it.SeekTo(lo + 1))
	}
}

func (r *sampleReader) next() { r.load(r.it.Next()) }

// readWindow appends to buf the non-stale samples in (lo, hi] that follow
// what buf already holds.
func (r *sampleReader) readWindow(buf []FPoint, lo, hi int64) []FPoint {
	r.skipTo(lo)
	for r.has && r.t <= hi {
		if !value.IsStaleNaN(r.f) {
			buf = append(buf, FPoint{T: r.t, F: r.f})
		}
		r.next()
	}
	return buf
}

// dropBefore removes the points at or before lo from the front of buf.
func dropBefore(buf []FPoint, lo int64) []FPoint {
	n := sort.Search(len(buf), func(i int) bool { return buf[i].T > lo })
	if n == 0 {
		return buf
	}
	return append(buf[:0], buf[n:]...)
}

func (ev *evaluator) storageErr(s storage.Series, err error) error {
	if cerr := ev.checkCtx(); cerr != nil {
		return cerr
	}
	if errors.Is(err, ErrNativeHistograms) {
		// The query, not the storage, is at fault: not an ErrStorage, so
		// the API reports it as an execution error, not an internal one.
		return fmt.Errorf("reading series %s: %w", s.Labels(), err)
	}
	return ErrStorage{Err: fmt.Errorf("reading series %s: %w", s.Labels(), err)}
}

// vectorSelector evaluates an instant selector: at each step, the latest
// sample within the lookback delta, unless that sample is a stale marker.
func (ev *evaluator) vectorSelector(vs *parser.VectorSelector) (evalMatrix, error) {
	return ev.vectorSelectorTimestamps(vs, false)
}

// vectorSelectorTimestamps evaluates an instant selector; with
// timestamps, each value is the time of the sample found, in seconds.
func (ev *evaluator) vectorSelectorTimestamps(vs *parser.VectorSelector, timestamps bool) (evalMatrix, error) {
	series, err := ev.selectSeries(vs, 0, "")
	if err != nil {
		return nil, err
	}
	out := make(evalMatrix, 0, len(series))
	var it storage.Iterator
	for _, s := range series {
		if err := ev.checkCtx(); err != nil {
			return nil, err
		}
		it = s.Iterator(it)
		r := sampleReader{it: it}
		var (
			pts      []FPoint
			last     FPoint
			haveLast bool
		)
		for i := 0; i < ev.steps; i++ {
			if i%1024 == 1023 {
				if err := ev.checkCtx(); err != nil {
					return nil, err
				}
			}
			ts := ev.stepTime(i)
			if vs.Timestamp != nil && i > 0 {
				// @ pins the read time: every step sees the first step's value.
				if len(pts) > 0 {
					pts = append(pts, FPoint{T: ts, F: pts[0].F})
					ev.stats.add(i, 1, 0)
				}
				continue
			}
			ref := refTime(vs, ts)
			lo := ref - ev.lookback
			r.skipTo(lo)
			if haveLast && last.T <= lo {
				haveLast = false
			}
			for r.has && r.t <= ref {
				last, haveLast = FPoint{T: r.t, F: r.f}, true
				r.next()
			}
			if haveLast && !value.IsStaleNaN(last.F) {
				v := last.F
				if timestamps {
					v = float64(last.T) / 1000
				}
				if pts == nil {
					// Series mostly have a value at every step from their
					// first on: size for that rather than grow by doubling.
					pts = ev.pool.get(ev.steps - i)
				}
				pts = append(pts, FPoint{T: ts, F: v})
				ev.stats.add(i, 1, 1)
			}
		}
		if r.err != nil {
			return nil, ev.storageErr(s, r.err)
		}
		if len(pts) == 0 {
			continue
		}
		if err := ev.grow(len(pts)); err != nil {
			return nil, err
		}
		out = append(out, evalSeries{metric: s.Labels(), points: pts})
	}
	return out, nil
}

// rangeSelectorTop evaluates a range selector or subquery as the whole
// query, which only an instant query may do: each series' samples, or
// subquery results, in (t-range, t].
func (ev *evaluator) rangeSelectorTop(expr parser.Expr) (parser.Value, error) {
	if !ev.instant {
		return nil, errors.New("cannot do range evaluation of matrix selector")
	}
	if sq, ok := expr.(*parser.SubqueryExpr); ok {
		m, err := ev.subquery(sq, subqueryUse{steps: 1})
		if err != nil {
			return nil, err
		}
		mat := make(Matrix, 0, len(m))
		for _, s := range m {
			if len(s.points) == 0 {
				continue
			}
			if s.dropName && ev.delayedNameRemoval {
				s.metric = s.metric.DropReserved(isMetadataLabel)
			}
			mat = append(mat, Series{Metric: s.metric, Floats: s.points})
		}
		return mat, nil
	}
	ms, ok := expr.(*parser.MatrixSelector)
	if !ok {
		return nil, fmt.Errorf("unexpected range vector expression %T", expr)
	}
	vs, ok := ms.VectorSelector.(*parser.VectorSelector)
	if !ok {
		return nil, fmt.Errorf("unexpected range selector operand %T", ms.VectorSelector)
	}
	rng := ms.Range.Milliseconds()
	series, err := ev.selectSeries(vs, rng, "")
	if err != nil {
		return nil, err
	}
	ref := refTime(vs, ev.start)
	mat := make(Matrix, 0, len(series))
	var it storage.Iterator
	for _, s := range series {
		if err := ev.checkCtx(); err != nil {
			return nil, err
		}
		it = s.Iterator(it)
		r := sampleReader{it: it}
		pts := r.readWindow(nil, ref-rng, ref)
		if r.err != nil {
			return nil, ev.storageErr(s, r.err)
		}
		ev.stats.add(0, int64(len(pts)), int64(len(pts)))
		if len(pts) == 0 {
			continue
		}
		if err := ev.grow(len(pts)); err != nil {
			return nil, err
		}
		mat = append(mat, Series{Metric: s.Labels(), Floats: pts})
	}
	return mat, nil
}
