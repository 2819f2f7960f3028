// Package chunkenc owns the encoding of samples into chunks. It implements the
// XOR ("Gorilla") float chunk byte for byte as Prometheus writes it
// (tsdb/docs/format/chunks.md in prometheus/prometheus), so chunks cut by Argus
// can be written into head chunk files and blocks that Prometheus reads, and
// the other way round.
//
// Chunk data layout: a 2-byte big-endian sample count followed by a bit
// stream. The first sample is its timestamp as a varint and its value as 64
// raw bits; the second stores the timestamp delta as a uvarint; every later
// timestamp is a delta of deltas in a 1, 14, 17, 20 or 64-bit bucket. Values
// after the first are XORed with their predecessor and stored with
// leading/trailing-zero elision, reusing the previous window when it fits.
package chunkenc
