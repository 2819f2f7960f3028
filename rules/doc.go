// Package rules owns Prometheus-format rule files and their evaluation:
// parsing and validating rule groups, the Manager that runs each group on
// its own schedule, recording rules that write their results back through
// an Appendable, and alerting rules with their pending/firing/resolved
// state, ALERTS series and templated labels and annotations. Alerts are
// handed to a Notifier; delivering them to Alertmanager is the notifier's
// job, not this package's.
package rules
