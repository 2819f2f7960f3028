// Package block owns persistent blocks: one directory per time range holding
// meta.json, the index, the chunk segments under chunks/ and the tombstones
// file, all in Prometheus's format so that Prometheus, Thanos and Argus open
// each other's blocks. Write builds a block from a label-sorted SeriesSource
// (the head, when it cuts a block, or a compaction of older blocks) and
// publishes it atomically; Open maps a block for querying, and Close waits
// for the queriers still reading it. Delete adds tombstones, which queries
// apply; Snapshot hard-links the block's files elsewhere.
package block
