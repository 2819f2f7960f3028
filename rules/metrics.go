package rules

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the rule manager's self-metrics: Prometheus's
// prometheus_rule_* family under the argus_ prefix, labelled by group key
// (file;name) where Prometheus labels them.
type metrics struct {
	evalDuration        prometheus.Summary
	iterationDuration   prometheus.Summary
	iterationsMissed    *prometheus.CounterVec
	iterationsScheduled *prometheus.CounterVec
	evalTotal           *prometheus.CounterVec
	evalFailures        *prometheus.CounterVec
	groupInterval       *prometheus.GaugeVec
	groupLastEvalTime   *prometheus.GaugeVec
	groupLastDuration   *prometheus.GaugeVec
	groupLastRuleSum    *prometheus.GaugeVec
	groupRules          *prometheus.GaugeVec
	groupSamples        *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer, logger *slog.Logger) *metrics {
	groupVec := func(name, help string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, []string{"rule_group"})
	}
	counterVec := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, []string{"rule_group"})
	}
	m := &metrics{
		evalDuration: prometheus.NewSummary(prometheus.SummaryOpts{
			Name:       "argus_rule_evaluation_duration_seconds",
			Help:       "The duration for a rule to execute.",
			Objectives: map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001},
		}),
		iterationDuration: prometheus.NewSummary(prometheus.SummaryOpts{
			Name:       "argus_rule_group_duration_seconds",
			Help:       "The duration of rule group evaluations.",
			Objectives: map[float64]float64{0.01: 0.001, 0.05: 0.005, 0.5: 0.05, 0.90: 0.01, 0.99: 0.001},
		}),
		iterationsMissed:    counterVec("argus_rule_group_iterations_missed_total", "The total number of rule group evaluations missed due to slow rule group evaluation."),
		iterationsScheduled: counterVec("argus_rule_group_iterations_total", "The total number of scheduled rule group evaluations, whether executed or missed."),
		evalTotal:           counterVec("argus_rule_evaluations_total", "The total number of rule evaluations."),
		evalFailures:        counterVec("argus_rule_evaluation_failures_total", "The total number of rule evaluation failures."),
		groupInterval:       groupVec("argus_rule_group_interval_seconds", "The interval of a rule group."),
		groupLastEvalTime:   groupVec("argus_rule_group_last_evaluation_timestamp_seconds", "The timestamp of the last rule group evaluation in seconds."),
		groupLastDuration:   groupVec("argus_rule_group_last_duration_seconds", "The duration of the last rule group evaluation."),
		groupLastRuleSum:    groupVec("argus_rule_group_last_rule_duration_sum_seconds", "The sum of time in seconds it took to evaluate each rule in the group."),
		groupRules:          groupVec("argus_rule_group_rules", "The number of rules."),
		groupSamples:        groupVec("argus_rule_group_last_evaluation_samples", "The number of samples returned during the last rule group evaluation."),
	}
	if reg == nil {
		return m
	}
	for _, c := range []prometheus.Collector{
		m.evalDuration, m.iterationDuration, m.iterationsMissed, m.iterationsScheduled,
		m.evalTotal, m.evalFailures, m.groupInterval, m.groupLastEvalTime,
		m.groupLastDuration, m.groupLastRuleSum, m.groupRules, m.groupSamples,
	} {
		if err := reg.Register(c); err != nil {
			// A second manager on the same registry (tests) must not stop
			// the server; its metrics just go unexported.
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				logger.Warn("registering rule metric failed", "err", err)
			}
		}
	}
	return m
}

// forget drops a removed group's series.
func (m *metrics) forget(key string) {
	for _, v := range []interface{ DeleteLabelValues(...string) bool }{
		m.iterationsMissed, m.iterationsScheduled, m.evalTotal, m.evalFailures,
		m.groupInterval, m.groupLastEvalTime, m.groupLastDuration, m.groupLastRuleSum,
		m.groupRules, m.groupSamples,
	} {
		v.DeleteLabelValues(key)
	}
}
