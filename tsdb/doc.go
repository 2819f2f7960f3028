// Package tsdb owns Argus's time-series database: the in-memory head with its
// series, chunks and postings index, the write-ahead log (dir/wal) and the
// out-of-order write-behind log (dir/wbl) that make acknowledged samples
// survive a crash, and the Appender and Querier that scrape, rules, the
// write receiver and the query engine use. Every file it writes is in
// Prometheus's on-disk format so that a data directory moves between
// Prometheus and Argus in both directions.
//
// This first cut keeps every chunk in memory; memory-mapped head chunks,
// persistent blocks, compaction, retention and WAL checkpoints come later
// and slot in behind the same seams (memSeries' chunk list, the querier's
// per-series chunk snapshot, the replay loop).
package tsdb
