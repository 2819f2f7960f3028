package chunkenc

import (
	"encoding/binary"
	"errors"
	"math/bits"
)

// errShortStream is returned when a chunk's bit stream ends before the sample
// count in its header says it should.
var errShortStream = errors.New("chunk bit stream is truncated")

// bitWriter appends bits to a byte slice, most significant bit first.
// free is the number of unused low bits in the last byte of b. gentle
// grows a full buffer by allocator size class rather than by doubling (see
// push): for chunks that stay in memory while they fill.
type bitWriter struct {
	b      []byte
	free   uint8
	gentle bool
}

func (w *bitWriter) writeBit(bit bool) {
	if w.free == 0 {
		w.push(0)
		w.free = 8
	}
	w.free--
	if bit {
		w.b[len(w.b)-1] |= 1 << w.free
	}
}

// writeBits writes the low n bits of u (n <= 64), most significant first.
func (w *bitWriter) writeBits(u uint64, n uint8) {
	if n < 64 {
		u &= 1<<n - 1
	}
	// Fill the partially used last byte first.
	if w.free > 0 && n > 0 {
		take := min(w.free, n)
		w.free -= take
		n -= take
		w.b[len(w.b)-1] |= byte(u>>n) << w.free
	}
	for n >= 8 {
		n -= 8
		w.push(byte(u >> n))
	}
	if n > 0 {
		w.free = 8 - n
		w.push(byte(u << w.free))
	}
}

func (w *bitWriter) writeByte(c byte) { w.writeBits(uint64(c), 8) }

// bitReader reads bits from a byte slice that it never modifies, so it is
// safe on read-only (for example memory-mapped) data. It keeps up to 64 bits
// buffered: the valid low bits of buf are the next to be read.
type bitReader struct {
	data  []byte
	pos   int    // next byte of data to load into buf
	buf   uint64 // buffered bits, the next one at bit valid-1
	valid uint8  // number of buffered bits
}

func newBitReader(b []byte) bitReader { return bitReader{data: b} }

// fill loads whole bytes into buf until it holds more than 56 bits or the data
// is exhausted.
func (r *bitReader) fill() {
	if r.valid <= 56 && r.pos+8 <= len(r.data) {
		// Load as many whole bytes as fit in one 8-byte read.
		n := (64 - r.valid) / 8
		v := binary.BigEndian.Uint64(r.data[r.pos:])
		r.buf = r.buf<<(8*n) | v>>(64-8*n)
		r.pos += int(n)
		r.valid += 8 * n
		return
	}
	for r.valid <= 56 && r.pos < len(r.data) {
		r.buf = r.buf<<8 | uint64(r.data[r.pos])
		r.pos++
		r.valid += 8
	}
}

func (r *bitReader) readBit() (bool, error) {
	if r.valid == 0 {
		r.fill()
		if r.valid == 0 {
			return false, errShortStream
		}
	}
	r.valid--
	return r.buf>>r.valid&1 == 1, nil
}

// readBits reads n bits (n <= 64) as an unsigned integer.
func (r *bitReader) readBits(n uint8) (uint64, error) {
	if n == 0 {
		return 0, nil
	}
	if r.valid < n {
		r.fill()
	}
	if r.valid >= n {
		r.valid -= n
		return r.buf >> r.valid & mask(n), nil
	}
	if r.pos >= len(r.data) {
		return 0, errShortStream
	}
	// Only reachable for n > 56: take what is buffered, then the rest.
	hi := r.buf & mask(r.valid)
	rest := n - r.valid
	r.valid = 0
	r.buf = 0
	r.fill()
	if r.valid < rest {
		return 0, errShortStream
	}
	r.valid -= rest
	return hi<<rest | r.buf>>r.valid&mask(rest), nil
}

// ReadByte lets encoding/binary read varints straight from the bit stream.
func (r *bitReader) ReadByte() (byte, error) {
	v, err := r.readBits(8)
	return byte(v), err
}

func mask(n uint8) uint64 {
	if n >= 64 {
		return ^uint64(0)
	}
	return 1<<n - 1
}

// readOnes reads a prefix of one bits ended by a zero bit, or by reaching
// limit ones (limit <= 56), and returns the number of ones.
func (r *bitReader) readOnes(limit uint8) (uint8, error) {
	if r.valid < limit {
		r.fill()
	}
	if r.valid >= limit {
		top := r.buf >> (r.valid - limit) << (64 - limit)
		n := uint8(bits.LeadingZeros64(^top))
		r.valid -= min(n+1, limit)
		return n, nil
	}
	var n uint8
	for n < limit {
		bit, err := r.readBit()
		if err != nil {
			return n, err
		}
		if !bit {
			break
		}
		n++
	}
	return n, nil
}

// writeVarint and writeUvarint write the varints that open a chunk: the
// first timestamp and the first delta.
func (w *bitWriter) writeVarint(x int64) {
	var buf [binary.MaxVarintLen64]byte
	for _, c := range buf[:binary.PutVarint(buf[:], x)] {
		w.writeByte(c)
	}
}

func (w *bitWriter) writeUvarint(x uint64) {
	var buf [binary.MaxVarintLen64]byte
	for _, c := range buf[:binary.PutUvarint(buf[:], x)] {
		w.writeByte(c)
	}
}
