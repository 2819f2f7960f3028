// Package chunkenc owns the encoding of samples into chunks. It implements
// Prometheus's two float encodings (tsdb/docs/format/chunks.md in
// prometheus/prometheus) byte for byte as Prometheus writes them, so chunks
// cut by Argus can be written into head chunk files and blocks that
// Prometheus reads, and the other way round.
//
// XOR chunk data: a 2-byte big-endian sample count followed by a bit
// stream. The first sample is its timestamp as a varint and its value as 64
// raw bits; the second stores the timestamp delta as a uvarint; every later
// timestamp is a delta of deltas in a 1, 14, 17, 20 or 64-bit bucket. Values
// after the first are XORed with their predecessor and stored with
// leading/trailing-zero elision, reusing the previous window when it fits.
//
// XOR2 chunk data (xor2.go) adds a start timestamp header byte, joins the
// delta of delta and the "value changed" bit in one prefix, and gives stale
// markers a code of their own. Argus writes no start timestamps and skips
// them when reading. XORChunk, XORAppender and XORIterator serve both
// encodings.
package chunkenc
