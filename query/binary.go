package query

import (
	"fmt"
	"math"
	"slices"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

func (ev *evaluator) binary(e *parser.BinaryExpr) (evalMatrix, error) {
	lhs, err := ev.eval(e.LHS)
	if err != nil {
		return nil, err
	}
	rhs, err := ev.eval(e.RHS)
	if err != nil {
		return nil, err
	}
	defer ev.release(lhs.numPoints() + rhs.numPoints())
	// The operators build their result in new slices or take over the
	// operands' (setting them nil): whatever the operands still hold is
	// free once it is done.
	defer ev.pool.putMatrix(rhs)
	defer ev.pool.putMatrix(lhs)
	lt, rt := e.LHS.Type(), e.RHS.Type()
	switch {
	case lt == parser.ValueTypeScalar && rt == parser.ValueTypeScalar:
		return ev.scalarScalar(e.Op, lhs, rhs)
	case lt == parser.ValueTypeVector && rt == parser.ValueTypeScalar:
		return ev.vectorScalar(e, lhs, rhs, false)
	case lt == parser.ValueTypeScalar && rt == parser.ValueTypeVector:
		return ev.vectorScalar(e, rhs, lhs, true)
	}
	if e.VectorMatching == nil {
		return nil, fmt.Errorf("binary expression %q between vectors has no vector matching", e)
	}
	switch e.Op {
	case parser.LAND, parser.LOR, parser.LUNLESS:
		return ev.setOp(e, lhs, rhs)
	}
	return ev.vectorVector(e, lhs, rhs)
}

// arithmetic applies op to two floats. For comparisons it returns the left
// value and whether the comparison holds; other operators always keep.
func arithmetic(op parser.ItemType, l, r float64) (v float64, keep bool, err error) {
	switch op {
	case parser.ADD:
		return l + r, true, nil
	case parser.SUB:
		return l - r, true, nil
	case parser.MUL:
		return l * r, true, nil
	case parser.DIV:
		return l / r, true, nil
	case parser.POW:
		return math.Pow(l, r), true, nil
	case parser.MOD:
		return math.Mod(l, r), true, nil
	case parser.ATAN2:
		return math.Atan2(l, r), true, nil
	case parser.EQLC:
		return l, l == r, nil
	case parser.NEQ:
		return l, l != r, nil
	case parser.GTR:
		return l, l > r, nil
	case parser.LSS:
		return l, l < r, nil
	case parser.GTE:
		return l, l >= r, nil
	case parser.LTE:
		return l, l <= r, nil
	}
	return 0, false, fmt.Errorf("binary operator %q is not supported yet", op)
}

// changesMetric reports whether op's result is no longer the input metric,
// so the metric name must go.
func changesMetric(op parser.ItemType) bool {
	switch op {
	case parser.ADD, parser.SUB, parser.MUL, parser.DIV, parser.POW, parser.MOD, parser.ATAN2:
		return true
	}
	return false
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// scalarScalar combines two scalars, which have a point at every step.
// Comparisons between scalars always take the bool form.
func (ev *evaluator) scalarScalar(op parser.ItemType, lhs, rhs evalMatrix) (evalMatrix, error) {
	if len(lhs) != 1 || len(rhs) != 1 || len(lhs[0].points) != len(rhs[0].points) {
		return nil, fmt.Errorf("scalar operands of %q do not cover every step", op)
	}
	pts := make([]FPoint, len(lhs[0].points))
	for i, lp := range lhs[0].points {
		v, keep, err := arithmetic(op, lp.F, rhs[0].points[i].F)
		if err != nil {
			return nil, err
		}
		if op.IsComparisonOperator() {
			v = boolValue(keep)
		}
		pts[i] = FPoint{T: lp.T, F: v}
	}
	if err := ev.grow(len(pts)); err != nil {
		return nil, err
	}
	return evalMatrix{{metric: labels.EmptyLabels(), points: pts}}, nil
}

// vectorScalar combines every element of vec with the scalar at the same
// step. swapped is true when the scalar is the left operand.
func (ev *evaluator) vectorScalar(e *parser.BinaryExpr, vec, scalar evalMatrix, swapped bool) (evalMatrix, error) {
	if len(scalar) != 1 {
		return nil, fmt.Errorf("scalar operand of %q has %d series", e.Op, len(scalar))
	}
	sv := scalar[0].points
	dropName := changesMetric(e.Op) || e.ReturnBool
	out := make(evalMatrix, 0, len(vec))
	for vi, s := range vec {
		if err := ev.checkCtx(); err != nil {
			return nil, err
		}
		// The result overwrites the operand's points, each written after
		// it was read: the operand gives its slice up to the result.
		pts := s.points[:0]
		vec[vi].points = nil
		for _, p := range s.points {
			l, r := p.F, sv[ev.stepIndex(p.T)].F
			if swapped {
				l, r = r, l
			}
			v, keep, err := arithmetic(e.Op, l, r)
			if err != nil {
				return nil, err
			}
			if e.Op.IsComparisonOperator() {
				// The vector element's value survives a filter even when
				// the scalar is on the left.
				v = p.F
			}
			if e.ReturnBool {
				v, keep = boolValue(keep), true
			}
			if keep {
				pts = append(pts, FPoint{T: p.T, F: v})
			}
		}
		if len(pts) == 0 {
			continue
		}
		if err := ev.grow(len(pts)); err != nil {
			return nil, err
		}
		out = append(out, evalSeries{metric: s.metric, points: pts, dropName: s.dropName})
	}
	if dropName {
		return ev.dropNames(out)
	}
	return out, nil
}

// signatures assigns every series of both operands the ordinal of its
// matching signature: the labels named by on(), or all but those named by
// ignoring() and the metric name.
func signatures(matching *parser.VectorMatching, lhs, rhs evalMatrix) (lsig, rsig []int, n int) {
	names := slices.Clone(matching.MatchingLabels)
	if !matching.On {
		// Like the name, the type and unit labels never take part in
		// matching.
		names = append(names, labels.MetricName, "__type__", "__unit__")
	}
	slices.Sort(names)
	var buf []byte
	ordinals := make(map[string]int)
	assign := func(m evalMatrix) []int {
		sig := make([]int, len(m))
		for i, s := range m {
			if matching.On {
				buf = s.metric.BytesWithLabels(buf, names...)
			} else {
				buf = s.metric.BytesWithoutLabels(buf, names...)
			}
			o, ok := ordinals[string(buf)]
			if !ok {
				o = len(ordinals)
				ordinals[string(buf)] = o
			}
			sig[i] = o
		}
		return sig
	}
	lsig = assign(lhs)
	rsig = assign(rhs)
	return lsig, rsig, len(ordinals)
}

// setOp evaluates and, or and unless, which match series by signature and
// never change labels or values.
func (ev *evaluator) setOp(e *parser.BinaryExpr, lhs, rhs evalMatrix) (evalMatrix, error) {
	lsig, rsig, n := signatures(e.VectorMatching, lhs, rhs)
	present := make([]bool, n)
	lc, rc := newCursor(lhs), newCursor(rhs)
	b := newOutBuilder(ev, len(lhs)+len(rhs))
	b.dense = true
	for step := 0; step < ev.steps; step++ {
		if err := ev.checkCtx(); err != nil {
			return nil, err
		}
		ts := ev.stepTime(step)
		ls, rs := lc.at(ts), rc.at(ts)
		clear(present)
		add := func(m evalMatrix, smp stepSample) error {
			return b.add(m[smp.series].metric, m[smp.series].dropName, ts, smp.f)
		}
		switch e.Op {
		case parser.LAND, parser.LUNLESS:
			for _, r := range rs {
				present[rsig[r.series]] = true
			}
			for _, l := range ls {
				if present[lsig[l.series]] == (e.Op == parser.LAND) {
					if err := add(lhs, l); err != nil {
						return nil, err
					}
				}
			}
		case parser.LOR:
			for _, l := range ls {
				present[lsig[l.series]] = true
				if err := add(lhs, l); err != nil {
					return nil, err
				}
			}
			for _, r := range rs {
				if !present[rsig[r.series]] {
					if err := add(rhs, r); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	return b.out, nil
}

// vectorVector evaluates arithmetic and comparison operators between two
// vectors, with one-to-one or group_left/group_right matching.
func (ev *evaluator) vectorVector(e *parser.BinaryExpr, lhs, rhs evalMatrix) (evalMatrix, error) {
	matching := e.VectorMatching
	if matching.Card == parser.CardManyToMany {
		return nil, fmt.Errorf("many-to-many matching is only allowed for set operators, not %q", e.Op)
	}
	lsig, rsig, n := signatures(matching, lhs, rhs)
	// Work as many-to-one: for group_right, the right side is the "many".
	many, one, manySig, oneSig := lhs, rhs, lsig, rsig
	swapped := matching.Card == parser.CardOneToMany
	if swapped {
		many, one, manySig, oneSig = rhs, lhs, rsig, lsig
	}
	var (
		oneAt       = make([]int, n) // series index of the "one" side per signature, -1 if none
		oneVals     = make([]float64, len(one))
		matchedOne  = make([]bool, n)
		matchedMany = make([]map[uint64]struct{}, n)
		metrics     = make(map[[2]int]pairMetric)
		// lastPair is, per "many" series, the result metric of the pair it
		// formed last: series pair with the same partner step after step,
		// so this spares a map lookup and a label hash per result point.
		lastPair = make([]pairMetric, len(many))
		lb       = labels.NewBuilder(labels.EmptyLabels())
		mc, oc   = newCursor(many), newCursor(one)
		b        = newOutBuilder(ev, len(many))
		dropName = changesMetric(e.Op) || (e.ReturnBool && !ev.delayedNameRemoval)
	)
	b.dense = true
	// One-to-one results are labelled by the left series alone, so each
	// result series can take over the points of the left series it comes
	// from.
	oneToOne := matching.Card == parser.CardOneToOne
	if oneToOne {
		b.overwrite(many)
		defer b.handOver()
	}
	for step := 0; step < ev.steps; step++ {
		if err := ev.checkCtx(); err != nil {
			return nil, err
		}
		ts := ev.stepTime(step)
		ms, os := mc.at(ts), oc.at(ts)
		if len(ms) == 0 || len(os) == 0 {
			continue
		}
		for i := range oneAt {
			oneAt[i] = -1
		}
		for _, o := range os {
			sig := oneSig[o.series]
			if prev := oneAt[sig]; prev >= 0 {
				return nil, duplicateMatchError(matching, one[o.series].metric, one[prev].metric, swapped)
			}
			oneAt[sig] = o.series
			oneVals[o.series] = o.f
		}
		clear(matchedOne)
		clear(matchedMany)
		for _, m := range ms {
			sig := manySig[m.series]
			oi := oneAt[sig]
			if oi < 0 {
				continue
			}
			l, r := m.f, oneVals[oi]
			if swapped {
				l, r = r, l
			}
			v, keep, err := arithmetic(e.Op, l, r)
			if err != nil {
				return nil, err
			}
			if e.ReturnBool {
				v, keep = boolValue(keep), true
			}
			pm := lastPair[m.series]
			if !pm.set || pm.one != oi {
				key := [2]int{m.series, oi}
				var ok bool
				if pm, ok = metrics[key]; !ok {
					l := resultMetric(lb, many[m.series].metric, one[oi].metric, matching, dropName)
					pm = pairMetric{metric: l, hash: l.Hash(), one: oi, set: true}
					metrics[key] = pm
				}
				lastPair[m.series] = pm
			}
			metric := pm.metric
			if matching.Card == parser.CardOneToOne {
				if matchedOne[sig] {
					return nil, fmt.Errorf("multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)")
				}
				matchedOne[sig] = true
			} else {
				h := pm.hash
				if matchedMany[sig] == nil {
					matchedMany[sig] = make(map[uint64]struct{})
				}
				if _, dup := matchedMany[sig][h]; dup {
					return nil, fmt.Errorf("multiple matches for labels: grouping labels must ensure unique matches")
				}
				matchedMany[sig][h] = struct{}{}
			}
			if !keep {
				continue
			}
			resDropName := e.ReturnBool || many[m.series].dropName
			if oneToOne {
				err = b.addFrom(m.series, metric, pm.hash, resDropName, ts, v)
			} else {
				err = b.addHashed(metric, pm.hash, resDropName, ts, v)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	return b.out, nil
}

// pairMetric is the result metric of a pair of matched series, with its
// hash; one is the "one" side's series.
type pairMetric struct {
	metric labels.Labels
	hash   uint64
	one    int
	set    bool
}

// resultMetric returns the labels of a vector-vector result: those of the
// "many" side (the left for one-to-one), restricted to the matching labels
// for one-to-one, plus group_left/group_right's extra labels from the
// "one" side.
func resultMetric(lb *labels.Builder, many, one labels.Labels, matching *parser.VectorMatching, dropName bool) labels.Labels {
	lb.Reset(many)
	if dropName {
		lb.Del(labels.MetricName, "__type__", "__unit__")
	}
	if matching.Card == parser.CardOneToOne {
		if matching.On {
			lb.Keep(matching.MatchingLabels...)
		} else {
			lb.Del(matching.MatchingLabels...)
		}
	}
	for _, name := range matching.Include {
		if v := one.Get(name); v != "" {
			lb.Set(name, v)
		} else {
			lb.Del(name)
		}
	}
	return lb.Labels()
}

func duplicateMatchError(matching *parser.VectorMatching, a, b labels.Labels, swapped bool) error {
	side := "right"
	if swapped {
		side = "left"
	}
	names := matching.MatchingLabels
	if !matching.On {
		names = append([]string{labels.MetricName}, names...)
	}
	group := a.MatchLabels(matching.On, names...)
	s1, s2 := a.String(), b.String()
	if s1 > s2 {
		s1, s2 = s2, s1
	}
	return fmt.Errorf("found duplicate series for the match group %s on the %s hand-side of the operation: [%s, %s]"+
		";many-to-many matching not allowed: matching labels must be unique on one side", group, side, s1, s2)
}
