package chunkenc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
)

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

// XORChunk holds float samples in one of the XOR-family encodings, EncXOR
// or EncXOR2: both share the sample count header, the appender's state and
// the iterator's, so one type serves both and the head picks the encoding
// when it cuts a chunk.
type XORChunk struct {
	w   bitWriter
	enc Encoding
}

// NewXORChunk returns an empty chunk in the XOR encoding.
func NewXORChunk() *XORChunk {
	b := make([]byte, headerSize, initialCapacity)
	return &XORChunk{w: bitWriter{b: b}, enc: EncXOR}
}

// NewXOR2Chunk returns an empty chunk in the XOR2 encoding.
func NewXOR2Chunk() *XORChunk {
	b := make([]byte, xor2HeaderSize, initialCapacity)
	return &XORChunk{w: bitWriter{b: b}, enc: EncXOR2}
}

// NewFloatChunk returns an empty chunk in enc, which must be EncXOR or
// EncXOR2.
func NewFloatChunk(enc Encoding) (*XORChunk, error) {
	switch enc {
	case EncXOR:
		return NewXORChunk(), nil
	case EncXOR2:
		return NewXOR2Chunk(), nil
	}
	return nil, fmt.Errorf("new float chunk: %w", unsupported(enc))
}

// LoadXORChunk wraps XOR-encoded chunk data (header included), for example
// read from a chunk file, without copying it. Appending to the loaded chunk
// writes into b, so pass a private copy if b is read-only or shared.
func LoadXORChunk(b []byte) (*XORChunk, error) { return LoadFloatChunk(EncXOR, b) }

// LoadFloatChunk is LoadXORChunk for data in enc, EncXOR or EncXOR2.
func LoadFloatChunk(enc Encoding, b []byte) (*XORChunk, error) {
	size, err := floatHeaderSize(enc)
	if err != nil {
		return nil, fmt.Errorf("load float chunk: %w", err)
	}
	if len(b) < size {
		return nil, fmt.Errorf("load %s chunk: %d bytes are shorter than its %d-byte header", enc, len(b), size)
	}
	// How many bits of the last byte are used is only known after decoding;
	// Appender recomputes it.
	return &XORChunk{w: bitWriter{b: b}, enc: enc}, nil
}

// floatHeaderSize returns the size of the header before the bit stream of a
// chunk in enc.
func floatHeaderSize(enc Encoding) (int, error) {
	switch enc {
	case EncXOR:
		return headerSize, nil
	case EncXOR2:
		return xor2HeaderSize, nil
	}
	return 0, unsupported(enc)
}

// Encoding reports the chunk's encoding, EncXOR or EncXOR2.
func (c *XORChunk) Encoding() Encoding { return c.enc }

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
// chunk it decodes the whole chunk to recover the encoder state. An XOR2
// chunk written with start timestamps cannot be continued: Argus would
// have to carry their stream on.
func (c *XORChunk) Appender() (*XORAppender, error) {
	hs, err := floatHeaderSize(c.enc)
	if err != nil {
		return nil, err
	}
	a := &XORAppender{c: c, leading: 0xff}
	if c.NumSamples() == 0 {
		c.w.b = c.w.b[:hs]
		if c.enc == EncXOR2 {
			c.w.b[headerSize] = 0 // no start timestamps
		}
		c.w.free = 0
		return a, nil
	}
	if c.enc == EncXOR2 && c.w.b[headerSize] != 0 {
		return nil, errResumeST
	}
	var it XORIterator
	it.Reset(c.enc, c.w.b)
	for it.Next() {
	}
	if it.Err() != nil {
		return nil, it.Err()
	}
	// Bits consumed = all bits loaded minus bits still buffered.
	used := it.br.pos*8 - int(it.br.valid)
	c.w.b = c.w.b[:hs+(used+7)/8]
	c.w.free = uint8((8 - used%8) % 8)
	a.t, a.v, a.tDelta = it.t, it.v, it.tDelta
	if c.enc == EncXOR2 {
		// XOR2 XORs with the last value that was not a stale marker.
		a.v = it.base
	}
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
	it.Reset(c.enc, c.w.b)
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
}

// Append adds a sample. Timestamps must not decrease; the head enforces that.
func (a *XORAppender) Append(t int64, v float64) error {
	w := &a.c.w
	num := binary.BigEndian.Uint16(w.b)
	if a.c.enc == EncXOR2 {
		return a.append2(num, t, v)
	}
	var tDelta uint64
	switch num {
	case 0:
		w.writeVarint(t)
		w.writeBits(math.Float64bits(v), 64)
	case 1:
		tDelta = uint64(t - a.t)
		w.writeUvarint(tDelta)
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
