// Package chunks owns a block's chunk segment files (chunks/000001, ...) in
// Prometheus's format (tsdb/docs/format/chunks.md in prometheus/prometheus):
// an 8-byte header (magic 0x85BD40DD, version 1, 3 bytes of padding), then
// chunks, each as uvarint data length, encoding byte, data and a CRC32
// (Castagnoli) over encoding and data. A chunk is addressed by a Ref holding
// the 0-based segment index in its upper 32 bits and the byte offset in its
// lower 32 bits, exactly as the block index stores it.
//
// The Writer appends chunks and cuts a new segment before one would pass
// the segment size limit; the Reader memory-maps the segments and returns a
// chunk's bytes by Ref, bounds- and checksum-checked, so a corrupt index or
// segment is an error and never a panic.
package chunks
