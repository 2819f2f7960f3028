// Package discovery owns target discovery for scrape jobs: the providers
// (static_configs, file_sd_configs, http_sd_configs, dns_sd_configs) that
// each produce target groups, and the Manager that runs every job's providers
// independently and hands their merged groups to the scrape manager in
// debounced batches.
//
// Behaviour follows Prometheus's discovery packages (group sources, meta
// labels, keeping the last good targets when a source breaks); the code is
// Argus's own. Filesystem notifications are not used: file_sd polls.
package discovery
