// Package promqltest runs PromQL test scripts, in the format Prometheus's
// own promqltest package defines, against Argus's engine. Scripts load
// series into an in-memory Storage (load, clear) and check query results
// (eval instant, eval range) or failures (expect fail, eval_fail).
//
// Supported: load <interval> with the series expanding notation (1+2x3,
// _, stale); clear; eval instant at <t> and eval range from <t> to <t>
// step <d>; expect fail [msg: | regex: ], expect ordered, expect string,
// expect range vector; the deprecated eval_fail, eval_ordered, eval_warn, eval_info,
// expected_fail_message and expected_fail_regexp; expect warn, info,
// no_warn and no_info with optional msg: or regex:, checked as Prometheus
// checks them.
package promqltest
