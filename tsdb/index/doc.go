// Package index owns a block's index file in Prometheus's format version 2
// (tsdb/docs/format/index.md in prometheus/prometheus): the sorted symbol
// table, the series (label symbol references and chunk metadata, 16-byte
// aligned so that a series' reference is its offset / 16), one postings
// list per label name and value plus the all-series list under the empty
// name and value, the postings offset table and the table of contents, each
// section with its CRC32 (Castagnoli).
//
// Like upstream's writer, this one writes no label index sections (the
// format marks them unused); readers find label values through the postings
// offset table.
//
// The Reader works on the file's bytes, memory-mapped by OpenFile, and
// bounds-checks every read, so a corrupt index is an error, never a panic.
// Postings iterators and their Intersect, Merge and Without combinators let
// queries push label matchers down to sorted series references.
package index
