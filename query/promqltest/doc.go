// Package promqltest runs PromQL test scripts, in the format Prometheus's
// own promqltest package defines, against Argus's engine. Scripts load
// series into an in-memory Storage (load, clear) and check query results
// (eval instant, eval range) or failures (expect fail, eval_fail).
//
// Supported: load <interval> with the series expanding notation (1+2x3,
// _, stale); clear; eval instant at <t> and eval range from <t> to <t>
// step <d>; expect fail [msg: | regex: ], expect ordered, expect string,
// expect range vector; the deprecated eval_fail, eval_ordered, eval_warn, eval_info,
// expected_fail_message and expected_fail_regexp. Annotation expectations
// (warn, info) are parsed but annotations are not produced yet, so expect
// warn/info fail and no_warn/no_info always pass.
package promqltest
