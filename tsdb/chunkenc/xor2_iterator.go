package chunkenc

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/prometheus/prometheus/model/value"
)

// next2 decodes the next sample of an XOR2 chunk.
func (it *XORIterator) next2() bool {
	br := &it.br
	switch it.numRead {
	case 0:
		t, err := binary.ReadVarint(br)
		if err != nil {
			return it.fail(err)
		}
		v, err := br.readBits(64)
		if err != nil {
			return it.fail(err)
		}
		it.t, it.v = t, math.Float64frombits(v)
		if v != value.StaleNaN {
			it.base = it.v
		}
		if it.stFirst {
			if _, err := binary.ReadVarint(br); err != nil {
				return it.fail(fmt.Errorf("start timestamp: %w", err))
			}
		}
		it.numRead++
		return true
	case 1:
		d, err := binary.ReadUvarint(br)
		if err != nil {
			return it.fail(err)
		}
		it.tDelta = d
		it.t += int64(d)
		if !it.readValue2() {
			return false
		}
		return it.finish2()
	}

	// Fast paths on buffered bits for the prefixes regular scrapes give:
	// 0 (nothing changed), 10 (the value changed) and 110 or 1110 with
	// their byte-aligned delta of delta.
	if br.valid < 24 {
		br.fill()
	}
	if br.valid >= 24 {
		x := br.buf >> (br.valid - 24)
		switch {
		case x&(1<<23) == 0:
			br.valid--
			it.t += int64(it.tDelta)
			it.v = it.base
			return it.finish2()
		case x>>22&0b11 == 0b10:
			br.valid -= 2
			it.t += int64(it.tDelta)
			if !it.readKnownChanged2() {
				return false
			}
			return it.finish2()
		case x>>21&0b111 == 0b110:
			br.valid -= 3 + dodBits13
			it.addDod(signExtend(x>>(24-3-dodBits13)&mask(dodBits13), dodBits13))
			if !it.readValue2() {
				return false
			}
			return it.finish2()
		case x>>20&0b1111 == 0b1110:
			br.valid -= 4 + dodBits20
			it.addDod(signExtend(x&mask(dodBits20), dodBits20))
			if !it.readValue2() {
				return false
			}
			return it.finish2()
		}
	}
	ones, err := br.readOnes(5)
	if err != nil {
		return it.fail(err)
	}
	switch ones {
	case 0:
		it.t += int64(it.tDelta)
		it.v = it.base
	case 1:
		it.t += int64(it.tDelta)
		if !it.readKnownChanged2() {
			return false
		}
	case 2, 3, 4:
		size := [...]uint8{dodBits13, dodBits20, 64}[ones-2]
		raw, err := br.readBits(size)
		if err != nil {
			return it.fail(err)
		}
		it.addDod(signExtend(raw, size))
		if !it.readValue2() {
			return false
		}
	default:
		it.t += int64(it.tDelta)
		it.v = math.Float64frombits(value.StaleNaN)
	}
	return it.finish2()
}

// finish2 skips the sample's start timestamp, if it has one, and counts
// the sample as read. It is small enough to inline into next2.
func (it *XORIterator) finish2() bool {
	if it.stFrom > 0 && it.numRead >= it.stFrom {
		return it.skipST()
	}
	it.numRead++
	return true
}

// skipST reads past a start timestamp, a Prometheus <varbit_int>, and
// counts the sample as read.
func (it *XORIterator) skipST() bool {
	// The payload widths, by the number of one bits in the prefix.
	sizes := [...]uint8{0, 3, 6, 9, 12, 18, 25, 56, 64}
	ones, err := it.br.readOnes(8)
	if err == nil {
		_, err = it.br.readBits(sizes[ones])
	}
	if err != nil {
		return it.fail(fmt.Errorf("start timestamp: %w", err))
	}
	it.numRead++
	return true
}

// signExtend interprets the low size bits of raw as two's complement.
func signExtend(raw uint64, size uint8) int64 {
	if size < 64 && raw >= 1<<(size-1) {
		return int64(raw) - int64(1)<<size
	}
	return int64(raw)
}

// addDod advances the timestamp by the delta changed by dod.
func (it *XORIterator) addDod(dod int64) {
	it.tDelta = uint64(int64(it.tDelta) + dod)
	it.t += int64(it.tDelta)
}

// readKnownChanged2 reads the value after the 10 prefix, known to differ
// from the base: 0 previous window, 1 new window.
func (it *XORIterator) readKnownChanged2() bool {
	bit, err := it.br.readBit()
	if err != nil {
		return it.fail(err)
	}
	return it.readWindow2(bit)
}

// readValue2 reads a <varbit_xor2> value: 0 unchanged, 10 previous window,
// 110 new window, 111 stale marker.
func (it *XORIterator) readValue2() bool {
	br := &it.br
	if br.valid < 3 {
		br.fill()
	}
	if br.valid >= 3 {
		switch top := br.buf >> (br.valid - 3) & 0b111; {
		case top < 0b100:
			br.valid--
			it.v = it.base
			return true
		case top < 0b110:
			// The previous window, read at once when buffered.
			if sig := 64 - it.leading - it.trailing; it.leading != 0xff && br.valid >= 2+sig {
				br.valid -= 2 + sig
				it.v = math.Float64frombits(math.Float64bits(it.base) ^ (br.buf>>br.valid&mask(sig))<<it.trailing)
				it.base = it.v
				return true
			}
			br.valid -= 2
			return it.readWindow2(false)
		case top == 0b110:
			br.valid -= 3
			return it.readWindow2(true)
		}
		br.valid -= 3
		it.v = math.Float64frombits(value.StaleNaN)
		return true
	}
	ones, err := br.readOnes(3)
	if err != nil {
		return it.fail(err)
	}
	switch ones {
	case 0:
		it.v = it.base
		return true
	case 1:
		return it.readWindow2(false)
	case 2:
		return it.readWindow2(true)
	}
	it.v = math.Float64frombits(value.StaleNaN)
	return true
}

// readWindow2 reads the XOR of the value with the base, in a new window
// or the previous one.
func (it *XORIterator) readWindow2(newWindow bool) bool {
	br := &it.br
	if newWindow {
		if br.valid < 11 {
			br.fill()
		}
		var x uint64
		if br.valid >= 11 {
			br.valid -= 11
			x = br.buf >> br.valid & mask(11)
		} else {
			var err error
			if x, err = br.readBits(11); err != nil {
				return it.fail(err)
			}
		}
		lead, sig := uint8(x>>6), uint8(x&0x3f)
		if sig == 0 {
			sig = 64
		}
		if lead+sig > 64 {
			return it.fail(fmt.Errorf("invalid XOR window: %d leading zeros and %d significant bits", lead, sig))
		}
		it.leading, it.trailing = lead, 64-lead-sig
	} else if it.leading == 0xff {
		// A window reused before any was set: Prometheus's decoder reads
		// the zero window, 64 significant bits.
		it.leading, it.trailing = 0, 0
	}
	sig := 64 - it.leading - it.trailing
	if br.valid < sig {
		br.fill()
	}
	var b uint64
	if br.valid >= sig {
		br.valid -= sig
		b = br.buf >> br.valid & mask(sig)
	} else {
		var err error
		if b, err = br.readBits(sig); err != nil {
			return it.fail(err)
		}
	}
	it.v = math.Float64frombits(math.Float64bits(it.base) ^ b<<it.trailing)
	it.base = it.v
	return true
}
