// Package unittest runs rule unit tests written in the file format of
// Prometheus's `promtool test rules`: each test file names rule files and
// holds test groups of input series, expected alerts at given times and
// expected PromQL results. The rules are loaded and evaluated by Argus's
// own rule manager and query engine over an in-memory storage that also
// receives the rules' output, so a test checks what the server would do.
package unittest
