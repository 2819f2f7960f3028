package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

const (
	// MagicIndex opens the file.
	MagicIndex = 0xBAAAD700
	// FormatV2 is the version written and read.
	FormatV2   = 2
	headerSize = 5
	tocSize    = 6*8 + crcSize
	crcSize    = 4
	// seriesAlign is the alignment of series entries; a series' reference
	// is its offset divided by it.
	seriesAlign = 16
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is wrapped by every error about bytes that do not form a valid
// index.
var ErrCorrupt = errors.New("corrupt index")

// ChunkMeta locates one chunk of a series: its time range and its
// reference in the block's chunk segments.
type ChunkMeta struct {
	Ref              uint64
	MinTime, MaxTime int64
}

// toc is the table of contents at the end of the file.
type toc struct {
	symbols, series, labelIndices, labelIndicesTable, postings, postingsTable uint64
}

func (t toc) append(b []byte) []byte {
	start := len(b)
	for _, v := range []uint64{t.symbols, t.series, t.labelIndices, t.labelIndicesTable, t.postings, t.postingsTable} {
		b = binary.BigEndian.AppendUint64(b, v)
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}

func readTOC(b []byte) (toc, error) {
	if len(b) < headerSize+tocSize {
		return toc{}, fmt.Errorf("%w: %d bytes, too short for header and table of contents", ErrCorrupt, len(b))
	}
	t := b[len(b)-tocSize:]
	if got, want := crc32.Checksum(t[:tocSize-crcSize], castagnoli), binary.BigEndian.Uint32(t[tocSize-crcSize:]); got != want {
		return toc{}, fmt.Errorf("%w: table of contents checksum %#x, want %#x", ErrCorrupt, got, want)
	}
	u := func(i int) uint64 { return binary.BigEndian.Uint64(t[i*8:]) }
	return toc{u(0), u(1), u(2), u(3), u(4), u(5)}, nil
}

// section returns the body of the section at off whose length is a 4-byte
// big-endian prefix, after verifying its trailing CRC32.
func section(b []byte, off uint64, what string) ([]byte, error) {
	if off < headerSize || off > uint64(len(b)) || uint64(len(b))-off < 4 {
		return nil, fmt.Errorf("%w: %s at offset %d outside the file", ErrCorrupt, what, off)
	}
	l := uint64(binary.BigEndian.Uint32(b[off:]))
	start := off + 4
	if l+crcSize > uint64(len(b))-start {
		return nil, fmt.Errorf("%w: %s at offset %d: length %d runs past the end", ErrCorrupt, what, off, l)
	}
	body := b[start : start+l]
	if got, want := crc32.Checksum(body, castagnoli), binary.BigEndian.Uint32(b[start+l:]); got != want {
		return nil, fmt.Errorf("%w: %s at offset %d: checksum %#x, want %#x", ErrCorrupt, what, off, got, want)
	}
	return body, nil
}
