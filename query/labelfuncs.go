package query

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

func stringArg(e parser.Expr) (string, error) {
	if s, ok := unwrapParens(e).(*parser.StringLiteral); ok {
		return s.Val, nil
	}
	return "", fmt.Errorf("expected a string literal argument, got %q", e)
}

// funcLabelReplace sets dst to repl, expanded with the regex's groups,
// wherever the regex fully matches the src label's value.
func (ev *evaluator) funcLabelReplace(e *parser.Call) (evalMatrix, error) {
	var args [4]string
	for i := range args {
		s, err := stringArg(e.Args[i+1])
		if err != nil {
			return nil, err
		}
		args[i] = s
	}
	dst, repl, src, regexStr := args[0], args[1], args[2], args[3]
	re, err := regexp.Compile("^(?s:" + regexStr + ")$")
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression in label_replace(): %s", regexStr)
	}
	if !model.UTF8Validation.IsValidLabelName(dst) {
		return nil, fmt.Errorf("invalid destination label name in label_replace(): %s", dst)
	}
	m, err := ev.eval(e.Args[0])
	if err != nil {
		return nil, err
	}
	lb := labels.NewBuilder(labels.EmptyLabels())
	for i, s := range m {
		v := s.metric.Get(src)
		idx := re.FindStringSubmatchIndex(v)
		if idx == nil {
			continue
		}
		lb.Reset(s.metric)
		lb.Set(dst, string(re.ExpandString(nil, repl, v, idx)))
		m[i].metric = lb.Labels()
		if dst == labels.MetricName {
			m[i].dropName = false
		}
	}
	return mergeSameLabelset(m)
}

// funcLabelJoin sets dst to the values of the src labels joined by sep.
func (ev *evaluator) funcLabelJoin(e *parser.Call) (evalMatrix, error) {
	strs := make([]string, len(e.Args)-1)
	for i := range strs {
		s, err := stringArg(e.Args[i+1])
		if err != nil {
			return nil, err
		}
		strs[i] = s
	}
	dst, sep, srcs := strs[0], strs[1], strs[2:]
	for _, src := range srcs {
		if !model.UTF8Validation.IsValidLabelName(src) {
			return nil, fmt.Errorf("invalid source label name in label_join(): %s", src)
		}
	}
	if !model.UTF8Validation.IsValidLabelName(dst) {
		return nil, fmt.Errorf("invalid destination label name in label_join(): %s", dst)
	}
	m, err := ev.eval(e.Args[0])
	if err != nil {
		return nil, err
	}
	lb := labels.NewBuilder(labels.EmptyLabels())
	vals := make([]string, len(srcs))
	for i, s := range m {
		for j, src := range srcs {
			vals[j] = s.metric.Get(src)
		}
		lb.Reset(s.metric)
		lb.Set(dst, strings.Join(vals, sep))
		m[i].metric = lb.Labels()
		if dst == labels.MetricName {
			m[i].dropName = false
		}
	}
	return mergeSameLabelset(m)
}

// absentLabels returns the labels absent() and absent_over_time() report:
// those the selector pins with an equality matcher, unless pinned twice.
func absentLabels(ms []*labels.Matcher) labels.Labels {
	b := labels.NewBuilder(labels.EmptyLabels())
	has := make(map[string]bool, len(ms))
	for _, m := range ms {
		if isMetadataLabel(m.Name) {
			continue
		}
		if m.Type == labels.MatchEqual && !has[m.Name] {
			b.Set(m.Name, m.Value)
			has[m.Name] = true
		} else {
			b.Del(m.Name)
		}
	}
	return b.Labels()
}

// absentAt returns a one-series result with value 1 at the steps where
// present is false.
func (ev *evaluator) absentAt(present []bool, lbls labels.Labels) (evalMatrix, error) {
	var pts []FPoint
	for i, p := range present {
		if !p {
			pts = append(pts, FPoint{T: ev.stepTime(i), F: 1})
		}
	}
	if len(pts) == 0 {
		return evalMatrix{}, nil
	}
	if err := ev.grow(len(pts)); err != nil {
		return nil, err
	}
	return evalMatrix{{metric: lbls, points: pts}}, nil
}

func (ev *evaluator) funcAbsent(e *parser.Call) (evalMatrix, error) {
	m, err := ev.eval(e.Args[0])
	if err != nil {
		return nil, err
	}
	defer ev.release(m.numPoints())
	present := make([]bool, ev.steps)
	for _, s := range m {
		for _, p := range s.points {
			present[ev.stepIndex(p.T)] = true
		}
	}
	lbls := labels.EmptyLabels()
	if vs, ok := e.Args[0].(*parser.VectorSelector); ok {
		lbls = absentLabels(vs.LabelMatchers)
	}
	return ev.absentAt(present, lbls)
}

func (ev *evaluator) funcAbsentOverTime(e *parser.Call) (evalMatrix, error) {
	in, release, err := ev.resolveRangeArg(e.Args[0], e.Func.Name)
	if err != nil {
		return nil, err
	}
	defer release()
	present := make([]bool, ev.steps)
	err = ev.forEachSeries(in, func(_ int, _ labels.Labels, _ bool, w windower) error {
		for i := 0; i < ev.steps; i++ {
			if in.at != nil && i > 0 {
				present[i] = present[0]
				continue
			}
			end := in.refTime(ev.stepTime(i))
			if win := w.window(end-in.rng, end); len(win) > 0 {
				present[i] = true
				ev.countWindow(i, w, len(win))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	lbls := labels.EmptyLabels()
	if _, ok := e.Args[0].(*parser.MatrixSelector); ok {
		lbls = absentLabels(in.matchers)
	}
	return ev.absentAt(present, lbls)
}
