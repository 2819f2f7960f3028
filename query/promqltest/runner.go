package promqltest

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/argusmon/argus/query"
)

// epsilon is the relative error allowed between expected and actual
// values, Prometheus's own tolerance.
const epsilon = 1e-6

// RunFiles runs every script matching the glob pattern as a subtest, each
// against a fresh storage and the engine newEngine returns.
func RunFiles(t *testing.T, pattern string, newEngine func() *query.Engine) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatalf("listing test scripts %q: %v", pattern, err)
	}
	if len(files) == 0 {
		t.Fatalf("no test scripts match %q", pattern)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatalf("reading %s: %v", f, err)
			}
			RunTest(t, filepath.Base(f), string(b), newEngine())
		})
	}
}

// RunTest parses and runs one script against a fresh in-memory storage,
// reporting each failed command as a test error.
func RunTest(t testing.TB, name, input string, eng *query.Engine) {
	t.Helper()
	script, err := Parse(name, input)
	if err != nil {
		t.Fatalf("parsing script: %v", err)
	}
	for _, err := range Execute(script, eng) {
		t.Error(err)
	}
}

// Execute runs a parsed script against a fresh in-memory storage and
// returns one error per failed command, each naming the script line.
func Execute(script *Script, eng *query.Engine) []error {
	var errs []error
	st := NewStorage()
	for _, c := range script.Commands {
		switch c := c.(type) {
		case *LoadCmd, *ClearCmd:
			if err := Load(st, c); err != nil {
				return append(errs, fmt.Errorf("%s:%d: %w", script.Name, c.line(), err))
			}
		case *EvalCmd:
			if err := runEval(eng, st, c); err != nil {
				errs = append(errs, fmt.Errorf("%s:%d: %s: %w", script.Name, c.Line, c.Expr, err))
			}
		}
	}
	return errs
}

// Load applies a load or clear command to st; it ignores eval commands.
func Load(st *Storage, cmd Command) error {
	switch c := cmd.(type) {
	case *ClearCmd:
		st.Clear()
		return nil
	case *LoadCmd:
		return load(st, c)
	}
	return nil
}

func load(st *Storage, c *LoadCmd) error {
	for _, s := range c.Series {
		for i, v := range s.Values {
			if v.Omitted {
				continue
			}
			if v.Histogram != nil {
				return fmt.Errorf("load: series %s: native histograms are not supported", s.Labels)
			}
			ts := int64(i) * s.Interval.Milliseconds()
			if err := st.Add(s.Labels, ts, v.Value); err != nil {
				return fmt.Errorf("load: series %s at %d: %w", s.Labels, ts, err)
			}
		}
	}
	return nil
}

func runEval(eng *query.Engine, st *Storage, c *EvalCmd) error {
	ctx := context.Background()
	var (
		q   query.Query
		err error
	)
	if c.Instant {
		q, err = eng.NewInstantQuery(ctx, st, c.Expr, c.Start)
	} else {
		q, err = eng.NewRangeQuery(ctx, st, c.Expr, c.Start, c.End, c.Step)
	}
	if err != nil {
		return checkFailure(c, err)
	}
	defer q.Close()
	res := q.Exec(ctx)
	if res.Err != nil {
		return checkFailure(c, res.Err)
	}
	if c.Fail {
		return fmt.Errorf("expected the query to fail, got result:\n%v", res.Value)
	}
	if err := checkAnnotations(c, res.Warnings, res.Infos); err != nil {
		return err
	}
	return compareResult(c, res.Value)
}

func checkFailure(c *EvalCmd, err error) error {
	if !c.Fail {
		return fmt.Errorf("unexpected error: %w", err)
	}
	if c.FailMessage != "" && err.Error() != c.FailMessage {
		return fmt.Errorf("expected error %q, got %q", c.FailMessage, err.Error())
	}
	if c.FailRegexp != nil && !c.FailRegexp.MatchString(err.Error()) {
		return fmt.Errorf("expected error matching %q, got %q", c.FailRegexp, err.Error())
	}
	return nil
}

func compareResult(c *EvalCmd, v parser.Value) error {
	switch v := v.(type) {
	case query.String:
		if c.ExpectedString == nil {
			return fmt.Errorf("got string %q but the script expects no string", v.V)
		}
		if v.V != *c.ExpectedString {
			return fmt.Errorf("expected string %q, got %q", *c.ExpectedString, v.V)
		}
		return nil
	case query.Scalar:
		if len(c.Expected) != 1 || !c.Expected[0].Labels.IsEmpty() || len(c.Expected[0].Values) != 1 {
			return fmt.Errorf("got scalar %v but the script expects %d series", v.V, len(c.Expected))
		}
		if !almostEqual(c.Expected[0].Values[0].Value, v.V) {
			return fmt.Errorf("expected scalar %v, got %v", c.Expected[0].Values[0].Value, v.V)
		}
		return nil
	case query.Vector:
		return compareVector(c, v)
	case query.Matrix:
		return compareMatrix(c, v)
	}
	return fmt.Errorf("unexpected result type %T", v)
}

func compareVector(c *EvalCmd, vec query.Vector) error {
	if c.ExpectedString != nil {
		return fmt.Errorf("expected string %q, got a vector", *c.ExpectedString)
	}
	if len(vec) != len(c.Expected) {
		return fmt.Errorf("expected %d samples, got %d:\n%v", len(c.Expected), len(vec), vec)
	}
	want := map[string]int{}
	for i, e := range c.Expected {
		if len(e.Values) != 1 {
			return fmt.Errorf("line %d: an instant query expects one value per series, got %d", e.Line, len(e.Values))
		}
		want[e.Labels.String()] = i
	}
	for pos, s := range vec {
		i, ok := want[s.Metric.String()]
		if !ok {
			return fmt.Errorf("unexpected sample %s\nexpected:\n%s", s, expectedString(c))
		}
		if c.Ordered && i != pos {
			return fmt.Errorf("sample %s at position %d, expected at %d", s.Metric, pos, i)
		}
		if s.T != c.Start.UnixMilli() {
			return fmt.Errorf("sample %s has timestamp %d, expected %d", s.Metric, s.T, c.Start.UnixMilli())
		}
		if exp := c.Expected[i].Values[0].Value; !almostEqual(exp, s.F) {
			return fmt.Errorf("sample %s: expected value %v, got %v", s.Metric, exp, s.F)
		}
	}
	return nil
}

func compareMatrix(c *EvalCmd, mat query.Matrix) error {
	if c.Ordered {
		return fmt.Errorf("expect ordered is only meaningful for instant vectors")
	}
	var start, step int64
	switch {
	case !c.Instant:
		start, step = c.Start.UnixMilli(), c.Step.Milliseconds()
	case c.RangeVector != nil:
		start, step = c.RangeVector.Start.Milliseconds(), c.RangeVector.Step.Milliseconds()
	default:
		return fmt.Errorf("instant query returned a range vector; add `expect range vector from <t> to <t> step <d>`:\n%v", mat)
	}
	got := map[string]query.Series{}
	for _, s := range mat {
		got[s.Metric.String()] = s
	}
	seen := 0
	for _, e := range c.Expected {
		var want []query.FPoint
		for i, v := range e.Values {
			if !v.Omitted {
				want = append(want, query.FPoint{T: start + int64(i)*step, F: v.Value})
			}
		}
		s, ok := got[e.Labels.String()]
		if !ok {
			if len(want) == 0 {
				continue
			}
			return fmt.Errorf("missing series %s\ngot:\n%v", e.Labels, mat)
		}
		seen++
		if err := comparePoints(e.Labels, want, s.Floats); err != nil {
			return err
		}
	}
	if seen != len(mat) {
		var extra []string
		for _, s := range mat {
			if !expects(c, s.Metric) {
				extra = append(extra, s.Metric.String())
			}
		}
		sort.Strings(extra)
		return fmt.Errorf("unexpected series: %s", strings.Join(extra, ", "))
	}
	return nil
}

func expects(c *EvalCmd, l labels.Labels) bool {
	for _, e := range c.Expected {
		if labels.Equal(e.Labels, l) {
			return true
		}
	}
	return false
}

func comparePoints(l labels.Labels, want, got []query.FPoint) error {
	if len(want) != len(got) {
		return fmt.Errorf("series %s: expected %d points %v, got %d %v", l, len(want), want, len(got), got)
	}
	for i := range want {
		if want[i].T != got[i].T || !almostEqual(want[i].F, got[i].F) {
			return fmt.Errorf("series %s: expected points %v, got %v", l, want, got)
		}
	}
	return nil
}

func expectedString(c *EvalCmd) string {
	var b strings.Builder
	for _, e := range c.Expected {
		fmt.Fprintf(&b, "%s %v\n", e.Labels, e.Values)
	}
	return b.String()
}

// almostEqual compares floats with a relative tolerance; NaNs are equal to
// each other only if both or neither are stale markers.
func almostEqual(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b) && value.IsStaleNaN(a) == value.IsStaleNaN(b)
	}
	if a == b {
		return true
	}
	const minNormal = 2.2250738585072014e-308
	diff := math.Abs(a - b)
	sum := math.Abs(a) + math.Abs(b)
	if a == 0 || b == 0 || sum < minNormal {
		return diff < epsilon*minNormal
	}
	return diff/math.Min(sum, math.MaxFloat64) < epsilon
}

// checkAnnotations checks the query's warnings and infos against the
// script's expectations, as Prometheus's runner does: every expectation
// of a kind must match one annotation of that kind, and every annotation
// of a kind with expectations must match one of them. Kinds the script
// says nothing about are not checked.
func checkAnnotations(c *EvalCmd, warnings, infos []string) error {
	byKind := map[string][]ExpectedAnnotation{}
	for _, a := range c.Annotations {
		byKind[a.Kind] = append(byKind[a.Kind], a)
	}
	for _, k := range []struct {
		kind string
		got  []string
	}{{"warn", warnings}, {"info", infos}} {
		if len(byKind["no_"+k.kind]) > 0 && len(k.got) > 0 {
			return fmt.Errorf("unexpected %s annotations: %q", k.kind, k.got)
		}
		want := byKind[k.kind]
		if len(want) == 0 {
			continue
		}
		if len(k.got) == 0 {
			return fmt.Errorf("expected %s annotations but got none", k.kind)
		}
		for _, w := range want {
			if !slices.ContainsFunc(k.got, w.matches) {
				return fmt.Errorf("expected a %s annotation matching %q/%v, got %q", k.kind, w.Msg, w.Regexp, k.got)
			}
		}
		for _, g := range k.got {
			if !slices.ContainsFunc(want, func(w ExpectedAnnotation) bool { return w.matches(g) }) {
				return fmt.Errorf("unexpected %s annotation %q", k.kind, g)
			}
		}
	}
	return nil
}
