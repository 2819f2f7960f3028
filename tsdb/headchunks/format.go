package headchunks

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"path/filepath"
)

const (
	// Magic starts every head chunk file.
	Magic = 0x0130BC91
	// FormatV1 is the only file format version.
	FormatV1 = 1
	// HeaderSize is the size of the file header: magic, version, padding.
	HeaderSize = 8
	// DefaultMaxFileSize is the size past which Prometheus starts a new file.
	DefaultMaxFileSize = 128 * 1024 * 1024

	// OutOfOrderMask is the bit of the encoding byte that marks a chunk of
	// out-of-order samples.
	OutOfOrderMask = 0x80

	// metaSize is the fixed part of a chunk before its length field.
	metaSize = 8 + 8 + 8 + 1
	crcSize  = 4
	// maxLenSize is the longest uvarint length field: a chunk is smaller than
	// a file, whose offsets fit in 32 bits.
	maxLenSize = binary.MaxVarintLen32
	// defaultWriteBufferSize is Prometheus's default (4 MiB).
	defaultWriteBufferSize = 4 * 1024 * 1024
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Ref addresses a chunk: the file's sequence number in the upper 32 bits,
// the chunk's offset in it in the lower 32 bits.
type Ref uint64

// NewRef returns the reference of the chunk at offset in file seq.
func NewRef(seq, offset uint32) Ref { return Ref(uint64(seq)<<32 | uint64(offset)) }

// Unpack returns the file sequence number and the offset of the chunk.
func (r Ref) Unpack() (seq, offset int) { return int(r >> 32), int(uint32(r)) }

func (r Ref) String() string {
	seq, off := r.Unpack()
	return fmt.Sprintf("%06d@%d", seq, off)
}

// fileName returns the path of head chunk file seq in dir.
func fileName(dir string, seq int) string {
	return filepath.Join(dir, fmt.Sprintf("%06d", seq))
}

// CorruptionError reports damaged or torn bytes in a head chunk file.
type CorruptionError struct {
	File string
	// Offset is where the damaged chunk starts: everything before it in the
	// file is intact.
	Offset int64
	Err    error
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("corrupt head chunk file %s at offset %d: %v", e.File, e.Offset, e.Err)
}

func (e *CorruptionError) Unwrap() error { return e.Err }

// Chunk is one chunk found when scanning the files at Open.
type Chunk struct {
	Ref        Ref
	SeriesRef  uint64
	MinT, MaxT int64
	// Encoding is the chunk encoding with the out-of-order bit cleared.
	Encoding   uint8
	OutOfOrder bool
	// Data is the encoded chunk. It is valid only during the callback.
	Data []byte
}

// parseChunk decodes the chunk at off of b, a file's valid bytes, checking
// bounds and the checksum. It returns the chunk and the offset just past it.
func parseChunk(b []byte, off int) (c Chunk, next int, err error) {
	if off < HeaderSize || off > len(b) || len(b)-off < metaSize+1 {
		return c, 0, fmt.Errorf("chunk header at offset %d overruns the file's %d bytes", off, len(b))
	}
	p := b[off:]
	c.SeriesRef = binary.BigEndian.Uint64(p)
	c.MinT = int64(binary.BigEndian.Uint64(p[8:]))
	c.MaxT = int64(binary.BigEndian.Uint64(p[16:]))
	enc := p[24]
	c.Encoding, c.OutOfOrder = enc&^OutOfOrderMask, enc&OutOfOrderMask != 0
	n, w := binary.Uvarint(p[metaSize:min(len(p), metaSize+maxLenSize)])
	if w <= 0 {
		return c, 0, fmt.Errorf("invalid chunk length field at offset %d", off+metaSize)
	}
	dataStart := metaSize + w
	if n > uint64(len(p)-dataStart) || len(p)-dataStart-int(n) < crcSize {
		return c, 0, fmt.Errorf("chunk of %d bytes at offset %d overruns the file's %d bytes", n, off, len(b))
	}
	dataEnd := dataStart + int(n)
	if crc32.Checksum(p[:dataEnd], castagnoli) != binary.BigEndian.Uint32(p[dataEnd:]) {
		return c, 0, fmt.Errorf("checksum mismatch in chunk at offset %d", off)
	}
	c.Data = p[dataStart:dataEnd]
	return c, off + dataEnd + crcSize, nil
}

// appendChunk encodes a chunk onto b.
func appendChunk(b []byte, seriesRef uint64, mint, maxt int64, enc uint8, data []byte) []byte {
	start := len(b)
	b = binary.BigEndian.AppendUint64(b, seriesRef)
	b = binary.BigEndian.AppendUint64(b, uint64(mint))
	b = binary.BigEndian.AppendUint64(b, uint64(maxt))
	b = append(b, enc)
	b = binary.AppendUvarint(b, uint64(len(data)))
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[start:], castagnoli))
}
