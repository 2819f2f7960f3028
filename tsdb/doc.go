// Package tsdb owns Argus's time-series database: the in-memory head with its
// series, chunks and postings index, the memory-mapped full chunks of
// chunks_head (package headchunks), the write-ahead log (dir/wal) with its
// checkpoints and the out-of-order write-behind log (dir/wbl) that make
// acknowledged samples survive a crash, head truncation, the persistent
// blocks with their compaction and retention, and the Appender and Querier
// that scrape, rules, the write receiver and the query engine use. Every file it writes is in Prometheus's on-disk format so that a
// data directory moves between Prometheus and Argus in both directions.
//
// A series keeps in memory only its open chunk and the references and time
// ranges of its full chunks, which are cut where Prometheus cuts them and
// read back through the mmap. Open loads the block directories, then those
// chunks, then replays the newest WAL checkpoint and the segments after it,
// skipping what the blocks and chunks already hold.
//
// Once the head spans more than 1.5 block ranges, its oldest range is
// written as a block (package block) and truncated away; blocks are then
// merged level by level, each range three times the one before, and deleted
// past the retention time or size. A Querier merges the blocks and the head
// and keeps the blocks it reads on disk until it is closed.
//
// With an out-of-order window, a sample older than its series' newest one
// is accepted as far back as the window reaches behind the head's newest
// sample, even below the head's range, in blocks already written; the
// head keeps it, logged to the WAL and the WBL, until it is cut into a
// block, or, if it is older than the head's range, until the next head cut
// writes such samples as blocks of their own ("from-out-of-order", as
// Prometheus marks them) and truncates the WBL. Blocks that overlap are
// read as one and compacted into one first.
//
// Delete marks samples deleted as Prometheus does: in each block's
// tombstones file, and in the head as tombstones logged to the WAL (record
// type 3, logged again past each checkpoint); queries skip them and blocks
// cut from the head leave them out. CleanTombstones rewrites the blocks
// without them. Snapshot hard-links the blocks, and writes the head as a
// block, into a directory that opens as a data directory.
package tsdb
