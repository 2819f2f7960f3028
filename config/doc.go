// Package config owns Argus's configuration file: the Prometheus-format YAML
// schema, the defaults Prometheus applies to it and its validation.
//
// Parsing is strict (an unknown field is an error) and every error names the
// file and, when it can be known, the line, in the "file:line: problem" form
// compilers use, so that a user can go straight to the mistake. The structs
// mirror Prometheus's own config package so that a prometheus.yml loads
// unchanged and readers of both code bases find the same names.
package config
