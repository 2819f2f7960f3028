package unittest

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/argusmon/argus/query"
	"github.com/argusmon/argus/query/promqltest"
	"github.com/argusmon/argus/rules"
)

// groupRun runs one test group against fresh storage and rule manager.
type groupRun struct {
	tg           *testGroup
	label        string
	evalInterval time.Duration
	order        []string
	ruleFiles    []string
}

// epoch is time 0 of a test: input series start there and eval_time
// counts from it.
var epoch = time.Unix(0, 0).UTC()

func (r *groupRun) run(ctx context.Context) []error {
	tg := r.tg
	p := parser.NewParser(parser.Options{})
	st := promqltest.NewStorage()
	if err := loadSeries(p, st, tg); err != nil {
		return []error{fmt.Errorf("    name: %s, %w", r.label, err)}
	}
	for _, a := range tg.AlertRuleTests {
		if a.Alertname == "" {
			return []error{fmt.Errorf("an item under alert_rule_test misses required attribute alertname at eval_time %v (in test group %s)", a.EvalTime, r.label)}
		}
	}

	interval := r.evalInterval
	eng := query.NewEngine(query.EngineOpts{
		// A subquery without a step uses the evaluation interval, as
		// promtool's does.
		NoStepSubqueryIntervalFn: func(int64) int64 { return interval.Milliseconds() },
	})
	m := rules.NewManager(rules.ManagerOptions{
		QueryFunc:  rules.EngineQueryFunc(eng, st),
		Appendable: storageAppendable{st},
	})
	// The manager is never started: its groups are driven by hand below,
	// so no goroutine evaluates on the wall clock.
	defer m.Stop()
	if err := m.Update(interval, r.ruleFiles, labels.FromMap(tg.ExternalLabels), tg.ExternalURL, nil); err != nil {
		return []error{err}
	}
	groups := orderGroups(m.RuleGroups(), r.order)

	alertTimes := alertEvalTimes(tg.AlertRuleTests)
	next := 0
	var errs []error
	maxt := epoch.Add(tg.maxEvalTime())
	for ts := epoch; !ts.After(maxt); ts = ts.Add(interval) {
		if err := ctx.Err(); err != nil {
			return append(errs, fmt.Errorf("    name: %s, stopped at %s: %w", r.label, model.Duration(ts.Sub(epoch)), err))
		}
		var evalErrs []error
		for _, g := range groups {
			g.Eval(ctx, ts)
			for _, rule := range g.Rules() {
				if err := rule.LastError(); err != nil {
					evalErrs = append(evalErrs, fmt.Errorf("    rule: %s, time: %s, err: %w", rule.Name(), model.Duration(ts.Sub(epoch)), err))
				}
			}
		}
		// A rule that cannot be evaluated makes every later check moot.
		if len(evalErrs) > 0 {
			return append(errs, evalErrs...)
		}
		// Alerts are checked against the last evaluation at or before
		// their eval_time, the state a user would see then.
		for next < len(alertTimes) && alertTimes[next] < ts.Add(interval).Sub(epoch) {
			errs = append(errs, r.checkAlerts(groups, alertTimes[next])...)
			next++
		}
	}
	for _, tc := range tg.PromqlExprTests {
		if err := r.checkExpr(ctx, p, eng, st, tc); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// loadSeries adds the input series, the i-th value of each at
// i*interval; '_' values are skipped.
func loadSeries(p parser.Parser, st *promqltest.Storage, tg *testGroup) error {
	step := time.Duration(tg.Interval).Milliseconds()
	for _, in := range tg.InputSeries {
		lset, vals, err := p.ParseSeriesDesc(in.Series + " " + in.Values)
		if err != nil {
			return fmt.Errorf("input series %q with values %q: %w", in.Series, in.Values, err)
		}
		for i, v := range vals {
			if v.Omitted {
				continue
			}
			if v.Histogram != nil {
				return fmt.Errorf("input series %q: native histograms are not supported", in.Series)
			}
			if err := st.Add(lset, int64(i)*step, v.Value); err != nil {
				return fmt.Errorf("input series %q at %s: %w", in.Series, model.Duration(time.Duration(i)*time.Duration(tg.Interval)), err)
			}
		}
	}
	return nil
}

// orderGroups puts the groups named in order first, in that order, then
// the others in file and name order. (promtool leaves the relative order
// of unnamed groups unspecified; a fixed one keeps runs reproducible.)
func orderGroups(groups []*rules.Group, order []string) []*rules.Group {
	rank := func(g *rules.Group) int {
		if i := slices.Index(order, g.Name()); i >= 0 {
			return i
		}
		return len(order)
	}
	out := slices.Clone(groups)
	slices.SortStableFunc(out, func(a, b *rules.Group) int { return rank(a) - rank(b) })
	return out
}

// alertEvalTimes returns the distinct eval_time of the alert tests, sorted.
func alertEvalTimes(tests []alertTestCase) []time.Duration {
	var out []time.Duration
	for _, t := range tests {
		out = append(out, time.Duration(t.EvalTime))
	}
	slices.Sort(out)
	return slices.Compact(out)
}
