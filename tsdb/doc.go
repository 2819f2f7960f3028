// Package tsdb owns Argus's time-series database: the in-memory head with its
// series, chunks and postings index, the memory-mapped full chunks of
// chunks_head (package headchunks), the write-ahead log (dir/wal) with its
// checkpoints and the out-of-order write-behind log (dir/wbl) that make
// acknowledged samples survive a crash, head truncation, and the Appender
// and Querier that scrape, rules, the write receiver and the query engine
// use. Every file it writes is in Prometheus's on-disk format so that a
// data directory moves between Prometheus and Argus in both directions.
//
// A series keeps in memory only its open chunk and the references and time
// ranges of its full chunks, which are cut where Prometheus cuts them and
// read back through the mmap. Open loads those chunks first, then replays
// the newest WAL checkpoint and the segments after it, skipping what the
// chunks already hold. Persistent blocks, compaction and retention come
// next; truncateHead is the seam compaction calls once a range is in a
// block.
package tsdb
