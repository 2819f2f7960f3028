package chunks

import (
	"fmt"
	"hash/crc32"
)

const (
	// MagicChunks opens every segment file.
	MagicChunks = 0x85BD40DD
	// FormatV1 is the only segment format version.
	FormatV1 = 1
	// SegmentHeaderSize is magic, version and padding.
	SegmentHeaderSize = 8
	// DefaultSegmentSize is the size a segment is kept under, as upstream.
	DefaultSegmentSize = 512 << 20
	// maxLenFieldSize bounds the uvarint chunk length field: chunk lengths
	// fit 32 bits.
	maxLenFieldSize = 5
	crcSize         = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Ref addresses a chunk: segment index (0 for file 000001) in the upper 32
// bits, byte offset inside the segment in the lower 32.
type Ref uint64

// NewRef packs a segment index and an offset.
func NewRef(segment, offset uint32) Ref { return Ref(uint64(segment)<<32 | uint64(offset)) }

// Unpack returns the segment index and offset.
func (r Ref) Unpack() (segment, offset int) { return int(r >> 32), int(uint32(r)) }

func (r Ref) String() string {
	s, o := r.Unpack()
	return fmt.Sprintf("%d:%d", s, o)
}

// segmentName is the file name of the 0-based segment index: upstream
// numbers files from 1.
func segmentName(index int) string { return fmt.Sprintf("%06d", index+1) }
