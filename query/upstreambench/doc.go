// Package upstreambench holds only benchmarks: Argus's PromQL engine over
// Argus's tsdb against Prometheus's engine over Prometheus's tsdb, on the
// same data in one binary. It lives apart from package query so that the
// engine's own tests build without the upstream engine and storage, which
// Argus may import only from tests.
package upstreambench
