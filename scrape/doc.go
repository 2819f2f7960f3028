// Package scrape owns Argus's pull path: it turns the scrape_configs of a
// configuration into scrape pools (one per job), the pools into targets (one
// per address that survives target relabeling), and each target into a loop
// that fetches its exposition over HTTP on a fixed, per-target phase, parses
// it, applies metric relabeling and limits, and appends the result to storage
// in one all-or-nothing commit together with the target's report series (up,
// scrape_duration_seconds, ...). It also writes staleness markers when series,
// scrapes or targets go away, and keeps each target's health for the API.
//
// Its behaviour follows Prometheus's scrape package; the code is Argus's own.
// Exposition parsing, relabeling and the label types are borrowed from the
// prometheus module's model packages.
//
// Targets come from the job's discovery (scrape/discovery), static_configs
// included: the manager runs a discovery.Manager and syncs each pool with the
// groups it delivers; static targets apply within ApplyConfig.
//
// Loops start from Manager.ApplyConfig; Manager.Run only ties the manager's
// life to a context.
package scrape
