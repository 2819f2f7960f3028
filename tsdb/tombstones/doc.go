// Package tombstones owns a block's deletion markers: for each series
// reference the time intervals whose samples are deleted, kept in memory with
// merging of overlapping and adjacent intervals, and stored in the block's
// tombstones file in Prometheus's format (tsdb/docs/format/tombstones.md in
// prometheus/prometheus): magic 0x0130BA30, version 1, then one entry per
// interval (series ref uvarint, mint varint, maxt varint), then a CRC32
// (Castagnoli) over the entries.
package tombstones
