// Package encoding holds the byte-level reader the TSDB's binary formats
// share (index sections, WAL records): fixed-width big-endian integers,
// varints and length-prefixed byte strings read off the front of a slice.
package encoding

import (
	"encoding/binary"
	"fmt"
)

// Decbuf reads fields off the front of B and latches the first failure in
// Err, so that callers read a sequence of fields and check Err once. A read
// after a failure returns zero values.
type Decbuf struct {
	B   []byte
	Err error
	// invalid is wrapped by every failure, so that callers can tell
	// corrupt input apart with errors.Is.
	invalid error
}

// NewDecbuf reads b; failures wrap invalid.
func NewDecbuf(b []byte, invalid error) Decbuf { return Decbuf{B: b, invalid: invalid} }

func (d *Decbuf) fail(what string) {
	if d.Err == nil {
		d.Err = fmt.Errorf("%w: truncated or invalid %s", d.invalid, what)
	}
	d.B = nil
}

// Uvarint reads an unsigned varint.
func (d *Decbuf) Uvarint() uint64 {
	if d.Err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.B)
	if n <= 0 {
		d.fail("uvarint")
		return 0
	}
	d.B = d.B[n:]
	return v
}

// Varint reads a signed varint.
func (d *Decbuf) Varint() int64 {
	if d.Err != nil {
		return 0
	}
	v, n := binary.Varint(d.B)
	if n <= 0 {
		d.fail("varint")
		return 0
	}
	d.B = d.B[n:]
	return v
}

// Be32 reads a big-endian uint32.
func (d *Decbuf) Be32() uint32 {
	if d.Err != nil {
		return 0
	}
	if len(d.B) < 4 {
		d.fail("32-bit field")
		return 0
	}
	v := binary.BigEndian.Uint32(d.B)
	d.B = d.B[4:]
	return v
}

// Be64 reads a big-endian uint64.
func (d *Decbuf) Be64() uint64 {
	if d.Err != nil {
		return 0
	}
	if len(d.B) < 8 {
		d.fail("64-bit field")
		return 0
	}
	v := binary.BigEndian.Uint64(d.B)
	d.B = d.B[8:]
	return v
}

// Byte reads one byte.
func (d *Decbuf) Byte() byte {
	if d.Err != nil {
		return 0
	}
	if len(d.B) < 1 {
		d.fail("byte")
		return 0
	}
	v := d.B[0]
	d.B = d.B[1:]
	return v
}

// UvarintBytes reads a uvarint length and that many bytes, which alias B.
func (d *Decbuf) UvarintBytes() []byte {
	l := d.Uvarint()
	if d.Err != nil {
		return nil
	}
	if l > uint64(len(d.B)) {
		d.fail("length-prefixed field")
		return nil
	}
	v := d.B[:l]
	d.B = d.B[l:]
	return v
}
