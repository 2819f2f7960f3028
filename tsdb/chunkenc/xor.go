package chunkenc

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"
)

// Encoding identifies a chunk encoding as stored in chunk files.
type Encoding uint8

// EncXOR is the XOR float encoding, with Prometheus's on-disk value.
const EncXOR Encoding = 1

const (
	headerSize = 2
	// MaxSamples is the most samples one chunk can hold: the header counts
	// them in 16 bits.
	MaxSamples = math.MaxUint16
	// initialCapacity fits a typical 120-sample chunk of a regular series
	// without growing.
	initialCapacity = 128
)

// ErrChunkFull is returned by Append when the chunk already holds MaxSamples.
var ErrChunkFull = errors.New("chunk holds the maximum number of samples")

// XORChunk holds XOR-encoded float samples.
type XORChunk struct {
	w bitWriter
}

// NewXORChunk returns an empty chunk.
func NewXORChunk() *XORChunk {
	b := make([]byte, headerSize, initialCapacity)
	return &XORChunk{w: bitWriter{b: b}}
}

// LoadXORChunk wraps encoded chunk data (header included), for example read
// from a chunk file, without copying it. Appending to the loaded chunk writes
// into b, so pass a private copy if b is read-only or shared.
func LoadXORChunk(b []byte) (*XORChunk, error) {
	if len(b) < headerSize {
		return nil, errors.New("chunk data shorter than its 2-byte header")
	}
	// How many bits of the last byte are used is only known after decoding;
	// Appender recomputes it.
	return &XORChunk{w: bitWriter{b: b}}, nil
}

// Encoding reports EncXOR.
func (*XORChunk) Encoding() Encoding { return EncXOR }

// Bytes returns the encoded chunk, header included. The slice is shared with
// the chunk: it is valid until the next Append.
func (c *XORChunk) Bytes() []byte { return c.w.b }

// NumSamples returns the number of samples in the chunk.
func (c *XORChunk) NumSamples() int { return int(binary.BigEndian.Uint16(c.w.b)) }

// Compact drops the spare capacity of a chunk that will not grow any more.
func (c *XORChunk) Compact() {
	if cap(c.w.b) > len(c.w.b)+16 {
		c.w.b = append(make([]byte, 0, len(c.w.b)), c.w.b...)
	}
}

// Appender returns an appender that continues the chunk. For a non-empty
// chunk it decodes the whole chunk to recover the encoder state.
func (c *XORChunk) Appender() (*XORAppender, error) {
	a := &XORAppender{c: c, leading: 0xff}
	if c.NumSamples() == 0 {
		c.w.b = c.w.b[:headerSize]
		c.w.free = 0
		return a, nil
	}
	var it XORIterator
	it.Reset(c.w.b)
	for it.Next() {
	}
	if it.Err() != nil {
		return nil, it.Err()
	}
	// Bits consumed = all bits loaded minus bits still buffered.
	used := it.br.pos*8 - int(it.br.valid)
	c.w.b = c.w.b[:headerSize+(used+7)/8]
	c.w.free = uint8((8 - used%8) % 8)
	a.t, a.v, a.tDelta = it.t, it.v, it.tDelta
	a.leading, a.trailing = it.leading, it.trailing
	return a, nil
}

// Iterator returns an iterator over the chunk, reusing it if not nil. The
// iterator reads the bytes current at this call; it must not be used
// concurrently with an Append to the same chunk.
func (c *XORChunk) Iterator(it *XORIterator) *XORIterator {
	if it == nil {
		it = &XORIterator{}
	}
	it.Reset(c.w.b)
	return it
}

// XORAppender appends samples to an XORChunk.
type XORAppender struct {
	c        *XORChunk
	t        int64
	v        float64
	tDelta   uint64
	leading  uint8
	trailing uint8
	varint   [binary.MaxVarintLen64]byte
}

// Append adds a sample. Timestamps must not decrease; the head enforces that.
func (a *XORAppender) Append(t int64, v float64) error {
	w := &a.c.w
	num := binary.BigEndian.Uint16(w.b)
	var tDelta uint64
	switch num {
	case 0:
		n := binary.PutVarint(a.varint[:], t)
		for _, c := range a.varint[:n] {
			w.writeByte(c)
		}
		w.writeBits(math.Float64bits(v), 64)
	case 1:
		tDelta = uint64(t - a.t)
		n := binary.PutUvarint(a.varint[:], tDelta)
		for _, c := range a.varint[:n] {
			w.writeByte(c)
		}
		a.writeValue(v)
	case MaxSamples:
		return ErrChunkFull
	default:
		tDelta = uint64(t - a.t)
		dod := int64(tDelta - a.tDelta)
		switch {
		case dod == 0:
			w.writeBit(false)
		case fitsBits(dod, 14):
			w.writeBits(0b10, 2)
			w.writeBits(uint64(dod), 14)
		case fitsBits(dod, 17):
			w.writeBits(0b110, 3)
			w.writeBits(uint64(dod), 17)
		case fitsBits(dod, 20):
			w.writeBits(0b1110, 4)
			w.writeBits(uint64(dod), 20)
		default:
			w.writeBits(0b1111, 4)
			w.writeBits(uint64(dod), 64)
		}
		a.writeValue(v)
	}
	a.t, a.v, a.tDelta = t, v, tDelta
	binary.BigEndian.PutUint16(w.b, num+1)
	return nil
}

// fitsBits reports whether x fits the n-bit bucket. The range is
// Prometheus's: asymmetric, [-(2^(n-1)-1), 2^(n-1)], so that the encoded
// bits decode back identically.
func fitsBits(x int64, n uint8) bool {
	return -(int64(1)<<(n-1)-1) <= x && x <= int64(1)<<(n-1)
}

func (a *XORAppender) writeValue(v float64) {
	w := &a.c.w
	delta := math.Float64bits(v) ^ math.Float64bits(a.v)
	if delta == 0 {
		w.writeBit(false)
		return
	}
	lead := uint8(bits.LeadingZeros64(delta))
	trail := uint8(bits.TrailingZeros64(delta))
	// Leading zeros are stored in 5 bits.
	if lead >= 32 {
		lead = 31
	}
	if a.leading != 0xff && lead >= a.leading && trail >= a.trailing {
		// The previous window holds every significant bit: reuse it.
		w.writeBits(0b10, 2)
		w.writeBits(delta>>a.trailing, 64-a.leading-a.trailing)
		return
	}
	a.leading, a.trailing = lead, trail
	sig := 64 - lead - trail
	w.writeBits(0b11, 2)
	w.writeBits(uint64(lead), 5)
	// 64 significant bits do not fit 6 bits; 0 stands for 64 (a zero-bit
	// window is never written, that case is the single 0 bit above).
	w.writeBits(uint64(sig), 6)
	w.writeBits(delta>>trail, sig)
}
