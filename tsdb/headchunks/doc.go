// Package headchunks owns the head's memory-mapped chunk files, the
// chunks_head/ directory of a data directory, in Prometheus's format
// (tsdb/docs/format/head_chunks.md in prometheus/prometheus) so that either
// server reuses the other's files.
//
// A file is named by its sequence number in six digits (000001, 000002,
// ...) and starts with an 8-byte header: the magic number 0x0130BC91
// (big-endian), the format version 1 and three bytes of padding. Chunks
// follow back to back, each as the owning series' reference (8 bytes), its
// minimum and maximum timestamps (8 bytes each), the encoding (1 byte, the
// top bit marking an out-of-order chunk), the data length (uvarint), the
// data, and a big-endian CRC32-Castagnoli of everything from the series
// reference to the end of the data. Multi-byte integers are big-endian.
// A file grows to at most 128 MiB.
//
// A chunk is addressed by a Ref, the file's sequence number in the upper 32
// bits and the chunk's offset in the file in the lower 32 bits, as
// Prometheus's ChunkDiskMapperRef. Chunks are appended through a buffer and
// read back through a read-only memory mapping of the file.
package headchunks
