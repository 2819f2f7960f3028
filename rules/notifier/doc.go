// Package notifier delivers the alerts of the rule manager to
// Alertmanagers through the Alertmanager API v2, as Prometheus's notifier
// does: external labels are added, alert_relabel_configs applied, alerts
// are queued, batched and posted to every Alertmanager of every
// configured set. A set's Alertmanagers come from static_configs and,
// while Run runs, from file_sd, http_sd and dns_sd through the
// scrape/discovery providers, rebuilt (relabel_configs applied) whenever
// discovery reports a change.
//
// One deliberate difference from Prometheus: Prometheus drops a batch that
// no Alertmanager accepted. Argus keeps each set's alerts in that set's
// queue until at least one of its Alertmanagers accepted them, retrying
// every RetryInterval, so an Alertmanager that is down for a while gets
// the alerts once it is back; only overflow of the bounded queue (oldest
// first, counted in argus_notifications_dropped_total) loses alerts.
package notifier
