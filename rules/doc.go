// Package rules owns Prometheus-format rule files and their evaluation:
// parsing and validating rule groups, the Manager that runs each group on
// its own schedule, recording rules that write their results back through
// an Appendable, and alerting rules with their pending/firing/resolved
// state, ALERTS series, templated labels and annotations, and the restore
// of the alerts' `for` state from ALERTS_FOR_STATE after a restart. Alerts
// are handed to a Notifier; delivering them to Alertmanager is the job of
// package rules/notifier, not this one.
package rules
