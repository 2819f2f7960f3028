package chunkenc

import (
	"encoding/binary"
	"errors"
	"math"
	"math/bits"

	"github.com/prometheus/prometheus/model/value"
)

// XOR2 (Prometheus's chunks.md, "XOR2 chunk data") differs from XOR in
// three ways: a third header byte describes optional start timestamps; from
// the third sample on, one control prefix encodes the delta of delta and
// whether the value changed, with the common deltas of delta byte-aligned;
// and stale markers take a code of their own instead of an XOR against the
// previous value, so that a series' value after a stale marker XORs against
// the last real value.
//
// Control prefixes, from the third sample on:
//
//	0      dod 0, value unchanged
//	10     dod 0, value changed: window bit, then the value bits
//	110    13-bit dod, then a value
//	1110   20-bit dod, then a value
//	11110  64-bit dod, then a value
//	11111  dod 0, stale marker
//
// A value after a non-zero dod (and the second sample's) is 0 (unchanged),
// 10 (previous window), 110 (new window) or 111 (stale marker).

// xor2HeaderSize is the sample count and the start timestamp header byte:
// bit 7 says sample 0 has a start timestamp, bits 0-6 the sample from which
// every sample has one (0: none).
const xor2HeaderSize = headerSize + 1

// errResumeST is returned by Appender for an XOR2 chunk written with start
// timestamps: Argus keeps none, so it cannot continue their stream.
var errResumeST = errors.New("cannot append to an XOR2 chunk that carries start timestamps")

// The widths of XOR2's two short delta-of-delta buckets. With their
// prefixes (3 and 4 bits) they fill 2 and 3 whole bytes.
const (
	dodBits13 = 13
	dodBits20 = 20
)

// append2 appends a sample to an XOR2 chunk holding num samples. a.v is
// the last value that was not a stale marker, the XOR base. No start
// timestamp is written, so the header byte stays 0.
func (a *XORAppender) append2(num uint16, t int64, v float64) error {
	w := &a.c.w
	var tDelta uint64
	switch num {
	case 0:
		w.writeVarint(t)
		w.writeBits(math.Float64bits(v), 64)
	case 1:
		tDelta = uint64(t - a.t)
		w.writeUvarint(tDelta)
		a.writeValue2(v)
	case MaxSamples:
		return ErrChunkFull
	default:
		tDelta = uint64(t - a.t)
		a.writeJoint(int64(tDelta-a.tDelta), v)
	}
	a.t, a.tDelta = t, tDelta
	if math.Float64bits(v) != value.StaleNaN {
		a.v = v
	}
	binary.BigEndian.PutUint16(w.b, num+1)
	return nil
}

// writeJoint writes the control prefix of the third and later samples and
// what follows it.
func (a *XORAppender) writeJoint(dod int64, v float64) {
	w := &a.c.w
	vb := math.Float64bits(v)
	if dod == 0 {
		switch delta := vb ^ math.Float64bits(a.v); {
		case vb == value.StaleNaN:
			w.writeBits(0b11111, 5)
		case delta == 0:
			w.writeBit(false)
		default:
			// The value is known to differ: its window prefix needs no
			// "unchanged" code, one bit chooses reuse (0) or new (1).
			w.writeBits(0b10, 2)
			a.writeDelta2(delta, 0b0, 1, 0b1, 1)
		}
		return
	}
	var code uint64
	var n uint8
	switch {
	case fitsSigned(dod, dodBits13):
		code, n = 0b110<<dodBits13|uint64(dod)&mask(dodBits13), 3+dodBits13
	case fitsSigned(dod, dodBits20):
		code, n = 0b1110<<dodBits20|uint64(dod)&mask(dodBits20), 4+dodBits20
	default:
		w.writeBits(0b11110, 5)
		w.writeBits(uint64(dod), 64)
		a.writeValue2(v)
		return
	}
	if vb == math.Float64bits(a.v) {
		// The common jittered scrape: the dod and a 0 "unchanged" bit in
		// one write.
		w.writeBits(code<<1, n+1)
		return
	}
	w.writeBits(code, n)
	a.writeValue2(v)
}

// fitsSigned reports whether x is in the two's complement range of n bits.
func fitsSigned(x int64, n uint8) bool {
	return -(int64(1)<<(n-1)) <= x && x < int64(1)<<(n-1)
}

// writeValue2 writes a value in the <varbit_xor2> form: 0 unchanged,
// 10 previous window, 110 new window, 111 stale marker.
func (a *XORAppender) writeValue2(v float64) {
	w := &a.c.w
	vb := math.Float64bits(v)
	if vb == value.StaleNaN {
		w.writeBits(0b111, 3)
		return
	}
	delta := vb ^ math.Float64bits(a.v)
	if delta == 0 {
		w.writeBit(false)
		return
	}
	a.writeDelta2(delta, 0b10, 2, 0b110, 3)
}

// writeDelta2 writes a non-zero XOR delta after the prefix that reuses the
// previous window (reuse, reuseLen bits) or the one that opens a new one
// (fresh, freshLen bits). Unlike XOR, which always reuses a window that
// fits, it weighs the bits: a new window costs its 11 size bits plus the
// longer prefix, and is taken only when it saves more than that. When it
// widens, it keeps an old boundary that costs at most half of that in
// payload, since the next delta may need it again. These choices are
// Prometheus's, so that the chunks are byte for byte the same.
func (a *XORAppender) writeDelta2(delta, reuse uint64, reuseLen uint8, fresh uint64, freshLen uint8) {
	w := &a.c.w
	lead := min(uint8(bits.LeadingZeros64(delta)), 31) // 5 bits
	trail := uint8(bits.TrailingZeros64(delta))
	overhead := 11 + freshLen - reuseLen
	if a.leading != 0xff && lead >= a.leading && trail >= a.trailing && lead+trail <= a.leading+a.trailing+overhead {
		if sig := 64 - a.leading - a.trailing; sig+reuseLen <= 64 {
			w.writeBits(reuse<<sig|delta>>a.trailing, reuseLen+sig)
		} else {
			w.writeBits(reuse, reuseLen)
			w.writeBits(delta>>a.trailing, sig)
		}
		return
	}
	if a.leading != 0xff && (lead < a.leading || trail < a.trailing) {
		ul, ut := min(lead, a.leading), min(trail, a.trailing)
		if lead+trail-ul-ut <= overhead/2 {
			lead, trail = ul, ut
		}
	}
	a.leading, a.trailing = lead, trail
	sig := 64 - lead - trail
	// 64 significant bits are written as 0 in the 6-bit field.
	w.writeBits(fresh<<11|uint64(lead)<<6|uint64(sig)&0x3f, freshLen+11)
	w.writeBits(delta>>trail, sig)
}
