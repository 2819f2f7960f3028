package chunkenc

import (
	"encoding/binary"
	"fmt"
	"math"
)

// XORIterator decodes a chunk in an XOR-family encoding (EncXOR or
// EncXOR2). Its methods mirror storage.Iterator with a bool instead of a
// value type, since a float chunk holds only floats. Corrupt input never
// panics: decoding stops and Err reports it.
type XORIterator struct {
	br       bitReader
	numTotal uint16
	numRead  uint16
	enc      Encoding

	t      int64
	v      float64
	tDelta uint64
	// base is XOR2's last value that was not a stale marker: XOR2 XORs
	// the next value with it, where XOR uses v.
	base float64
	// XOR2's start timestamp header: whether sample 0 carries one, and the
	// sample from which every sample does (0 for none).
	stFirst bool
	stFrom  uint16

	leading  uint8
	trailing uint8
	err      error
}

// Reset points the iterator at chunk data (header included) in encoding
// enc. Data in an encoding other than EncXOR and EncXOR2 makes the first
// Next fail.
func (it *XORIterator) Reset(enc Encoding, b []byte) {
	*it = XORIterator{enc: enc}
	size, err := floatHeaderSize(enc)
	if err != nil {
		it.err = fmt.Errorf("decode chunk: %w", err)
		return
	}
	if len(b) < size {
		it.err = fmt.Errorf("%s chunk data of %d bytes is shorter than its %d-byte header", enc, len(b), size)
		return
	}
	it.numTotal = binary.BigEndian.Uint16(b)
	if enc == EncXOR2 {
		it.stFirst, it.stFrom = b[headerSize]&0x80 != 0, uint16(b[headerSize]&0x7f)
	}
	it.br = newBitReader(b[size:])
	it.t = math.MinInt64
	// 0xff marks "no XOR window yet", as the appender does, so that an
	// appender resumed from this iterator encodes exactly like one that
	// wrote the chunk in one pass.
	it.leading = 0xff
}

// At returns the current sample.
func (it *XORIterator) At() (int64, float64) { return it.t, it.v }

// AtT returns the current timestamp.
func (it *XORIterator) AtT() int64 { return it.t }

// Err returns the decoding error that stopped the iteration, if any.
func (it *XORIterator) Err() error { return it.err }

// SeekTo advances to the first sample with timestamp >= t. It never moves
// backwards.
func (it *XORIterator) SeekTo(t int64) bool {
	if it.err != nil {
		return false
	}
	for it.numRead == 0 || it.t < t {
		if !it.Next() {
			return false
		}
	}
	return true
}

// Next advances to the next sample.
func (it *XORIterator) Next() bool {
	if it.err != nil || it.numRead == it.numTotal {
		return false
	}
	if it.enc == EncXOR2 {
		return it.next2()
	}
	switch it.numRead {
	case 0:
		t, err := binary.ReadVarint(&it.br)
		if err != nil {
			return it.fail(err)
		}
		v, err := it.br.readBits(64)
		if err != nil {
			return it.fail(err)
		}
		it.t, it.v = t, math.Float64frombits(v)
		it.numRead++
		return true
	case 1:
		d, err := binary.ReadUvarint(&it.br)
		if err != nil {
			return it.fail(err)
		}
		it.tDelta = d
		it.t += int64(d)
		return it.readValue()
	}

	// Regular scrape intervals make dod == 0 (one 0 bit) the common case.
	if it.br.valid == 0 {
		it.br.fill()
	}
	if it.br.valid > 0 && it.br.buf>>(it.br.valid-1)&1 == 0 {
		it.br.valid--
		it.t += int64(it.tDelta)
		return it.readValue()
	}

	// Otherwise read the dod's prefix (10, 110, 1110 or 1111) from the
	// buffer in one step when four bits are there; near the end of the
	// stream fall back to bit by bit.
	if it.br.valid < 4 {
		it.br.fill()
	}
	if it.br.valid >= 4 {
		var size, used uint8
		switch top := it.br.buf >> (it.br.valid - 4) & 0xf; {
		case top < 0b1100:
			size, used = 14, 2
		case top < 0b1110:
			size, used = 17, 3
		case top == 0b1110:
			size, used = 20, 4
		default:
			size, used = 64, 4
		}
		it.br.valid -= used
		return it.applyDod(size)
	}
	var code uint8
	for range 4 {
		bit, err := it.br.readBit()
		if err != nil {
			return it.fail(err)
		}
		code <<= 1
		if !bit {
			break
		}
		code |= 1
	}
	var size uint8
	switch code {
	case 0b10:
		size = 14
	case 0b110:
		size = 17
	case 0b1110:
		size = 20
	case 0b1111:
		size = 64
	}
	return it.applyDod(size)
}

// applyDod reads a delta of delta of the given bit size and advances the
// timestamp by it.
func (it *XORIterator) applyDod(size uint8) bool {
	raw, err := it.br.readBits(size)
	if err != nil {
		return it.fail(err)
	}
	dod := int64(raw)
	if size < 64 && raw > 1<<(size-1) {
		// Sign-extend: see fitsBits for the asymmetric range.
		dod = int64(raw) - int64(1)<<size
	}
	it.tDelta = uint64(int64(it.tDelta) + dod)
	it.t += int64(it.tDelta)
	return it.readValue()
}

func (it *XORIterator) readValue() bool {
	// Fast paths on buffered bits for the two common cases: an unchanged
	// value (one 0 bit) and a change inside the previous window (10 then
	// the window's bits).
	br := &it.br
	if br.valid < 2 {
		br.fill()
	}
	if br.valid >= 1 && br.buf>>(br.valid-1)&1 == 0 {
		br.valid--
		it.numRead++
		return true
	}
	if it.leading != 0xff && br.valid >= 2 && br.buf>>(br.valid-2)&1 == 0 {
		sig := 64 - it.leading - it.trailing
		if br.valid < 2+sig {
			br.fill()
		}
		if br.valid >= 2+sig {
			br.valid -= 2 + sig
			bits := br.buf >> br.valid & mask(sig)
			it.v = math.Float64frombits(math.Float64bits(it.v) ^ bits<<it.trailing)
			it.numRead++
			return true
		}
	}
	changed, err := it.br.readBit()
	if err != nil {
		return it.fail(err)
	}
	if !changed {
		it.numRead++
		return true
	}
	newWindow, err := it.br.readBit()
	if err != nil {
		return it.fail(err)
	}
	if newWindow {
		lead, err := it.br.readBits(5)
		if err != nil {
			return it.fail(err)
		}
		sig, err := it.br.readBits(6)
		if err != nil {
			return it.fail(err)
		}
		if sig == 0 {
			sig = 64
		}
		if lead+sig > 64 {
			return it.fail(fmt.Errorf("invalid XOR window: %d leading zeros and %d significant bits", lead, sig))
		}
		it.leading, it.trailing = uint8(lead), uint8(64-lead-sig)
	} else if it.leading == 0xff {
		// A window reused before any was set: Prometheus's decoder reads the
		// zero window, 64 significant bits.
		it.leading, it.trailing = 0, 0
	}
	sig := 64 - it.leading - it.trailing
	b, err := it.br.readBits(sig)
	if err != nil {
		return it.fail(err)
	}
	it.v = math.Float64frombits(math.Float64bits(it.v) ^ b<<it.trailing)
	it.numRead++
	return true
}

func (it *XORIterator) fail(err error) bool {
	it.err = fmt.Errorf("decode %s chunk at sample %d of %d: %w", it.enc, it.numRead+1, it.numTotal, err)
	return false
}
