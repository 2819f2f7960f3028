// Package query is Argus's PromQL engine. It evaluates the abstract syntax
// tree produced by the Prometheus parser (promql/parser) against any storage
// that satisfies Queryable, with Prometheus's semantics: lookback and
// staleness for instant selectors, left-open ranges for range selectors,
// Prometheus's extrapolation for rate-like functions, vector matching for
// binary operators, and the same error messages.
//
// Every expression is evaluated over all steps of a query at once: a node
// returns one series per output label set, holding a point for each step
// where it has a value. Selectors and range functions therefore walk each
// stored series exactly once for a whole range query, while operators and
// aggregations, which combine series, work step by step over those results.
// An instant query is a range query with one step.
//
// A subquery is evaluated by a child evaluator over its own steps, aligned
// to multiples of its step from the Unix epoch as Prometheus aligns them,
// and range functions then slide over its points exactly as over stored
// samples. Annotations (Prometheus's warnings and infos, in its words) are
// collected per query and returned in Result.
//
// The engine owns the per-query limits (samples held in memory, timeout,
// cancellation) and the concurrency gate; storage access goes through the
// small Queryable interface declared here.
//
// Each query keeps Prometheus's statistics (Query.Stats: phase timings and
// sample counts, per step on request, encoding as the API's "stats"
// object), and the engine can log every executed query to a QueryLogger in
// the JSON-lines format of Prometheus's query_log_file.
//
// Storage is float-only for now: a sample of any other type (a native
// histogram) fails the query with ErrNativeHistograms rather than being
// read as a number.
package query
