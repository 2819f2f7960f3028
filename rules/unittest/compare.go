package unittest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/argusmon/argus/query"
	"github.com/argusmon/argus/query/promqltest"
	"github.com/argusmon/argus/rules"
)

// alertView is what a test compares of an alert.
type alertView struct {
	Labels      labels.Labels
	Annotations labels.Labels
}

func compareAlertViews(a, b alertView) int {
	if c := labels.Compare(a.Labels, b.Labels); c != 0 {
		return c
	}
	return labels.Compare(a.Annotations, b.Annotations)
}

// checkAlerts compares the firing alerts of every alert test at evalTime
// with the expected ones. An alertname may be used by rules of several
// groups; their alerts are pooled.
func (r *groupRun) checkAlerts(groups []*rules.Group, evalTime time.Duration) []error {
	got := map[string][]alertView{}
	for _, g := range groups {
		for _, ar := range g.AlertingRules() {
			for _, a := range ar.ActiveAlerts() {
				// Pending alerts are not sent, so they are not what a
				// test is about.
				if a.State == rules.StateFiring {
					got[ar.Name()] = append(got[ar.Name()], alertView{Labels: a.Labels, Annotations: a.Annotations})
				}
			}
		}
	}
	var errs []error
	for _, tc := range r.tg.AlertRuleTests {
		if time.Duration(tc.EvalTime) != evalTime {
			continue
		}
		var exp []alertView
		for _, ea := range tc.ExpAlerts {
			// alertname is added by the rule, so tests leave it out.
			b := labels.NewBuilder(labels.FromMap(ea.ExpLabels))
			b.Set(labels.AlertName, tc.Alertname)
			exp = append(exp, alertView{Labels: b.Labels(), Annotations: labels.FromMap(ea.ExpAnnotations)})
		}
		act := slices.Clone(got[tc.Alertname])
		slices.SortFunc(exp, compareAlertViews)
		slices.SortFunc(act, compareAlertViews)
		if slices.EqualFunc(exp, act, func(a, b alertView) bool { return compareAlertViews(a, b) == 0 }) {
			continue
		}
		errs = append(errs, fmt.Errorf("    name: %s,\n    alertname: %s, time: %s, \n        exp:%s, \n        got:%s",
			r.label, tc.Alertname, tc.EvalTime,
			indentLines(alertViewsString(exp), "            "),
			indentLines(alertViewsString(act), "            ")))
	}
	return errs
}

func alertViewsString(as []alertView) string {
	if len(as) == 0 {
		return "[]"
	}
	var b strings.Builder
	b.WriteString("[")
	for i, a := range as {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n%d:", i)
		b.WriteString(indentLines("\nLabels:"+a.Labels.String()+"\nAnnotations:"+a.Annotations.String(), "  "))
	}
	b.WriteString("\n]")
	return b.String()
}

// indentLines prefixes every line but the first with indent, so a
// multi-line value lines up under the key it follows.
func indentLines(s, indent string) string {
	return strings.ReplaceAll(s, "\n", "\n"+indent)
}

// checkExpr evaluates one promql_expr_test and compares its samples,
// ignoring order, with the expected ones.
func (r *groupRun) checkExpr(ctx context.Context, p parser.Parser, eng *query.Engine, st *promqltest.Storage, tc promqlTestCase) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("    name: %s,\n    expr: %q, time: %s, "+format, append([]any{r.label, tc.Expr, tc.EvalTime}, args...)...)
	}
	got, err := rules.EngineQueryFunc(eng, st)(ctx, tc.Expr, epoch.Add(time.Duration(tc.EvalTime)))
	if err != nil {
		return fail("err: %w", err)
	}
	exp := make(query.Vector, 0, len(tc.ExpSamples))
	for _, s := range tc.ExpSamples {
		lset, err := p.ParseMetric(s.Labels)
		if err != nil {
			return fail("err: labels %q: %w", s.Labels, err)
		}
		exp = append(exp, query.Sample{Metric: lset, F: s.Value})
	}
	bySeries := func(a, b query.Sample) int { return labels.Compare(a.Metric, b.Metric) }
	slices.SortFunc(exp, bySeries)
	got = slices.Clone(got)
	slices.SortFunc(got, bySeries)
	if slices.EqualFunc(exp, got, sameSample) {
		return nil
	}
	return fail("\n        exp: %s\n        got: %s", samplesString(exp), samplesString(got))
}

// sameSample compares labels and values exactly; NaN equals NaN so that a
// test can expect one.
func sameSample(a, b query.Sample) bool {
	if !labels.Equal(a.Metric, b.Metric) {
		return false
	}
	return a.F == b.F || (math.IsNaN(a.F) && math.IsNaN(b.F))
}

func samplesString(v query.Vector) string {
	if len(v) == 0 {
		return "nil"
	}
	parts := make([]string, len(v))
	for i, s := range v {
		parts[i] = s.Metric.String() + " " + strconv.FormatFloat(s.F, 'E', -1, 64)
	}
	return strings.Join(parts, ", ")
}
