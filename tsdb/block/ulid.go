package block

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"time"
)

// crockford is the ULID alphabet: Crockford's base32 without I, L, O, U.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewULID returns a ULID (github.com/ulid/spec): a 48-bit millisecond
// timestamp then 80 random bits, as 26 base32 characters. ULIDs of blocks
// cut in later milliseconds sort after earlier ones, as upstream relies on.
func NewULID(t time.Time) (string, error) {
	var id [16]byte
	ms := uint64(t.UnixMilli())
	var ts [8]byte
	binary.BigEndian.PutUint64(ts[:], ms)
	copy(id[:6], ts[2:])
	if _, err := rand.Read(id[6:]); err != nil {
		return "", fmt.Errorf("read randomness for ULID: %w", err)
	}
	return encodeULID(id), nil
}

// encodeULID writes the 128 bits as 26 characters of 5 bits, the first
// holding only the top 3 bits.
func encodeULID(id [16]byte) string {
	hi := binary.BigEndian.Uint64(id[:8])
	lo := binary.BigEndian.Uint64(id[8:])
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// validULID reports whether s looks like a ULID: 26 characters of the
// alphabet, the first at most '7' so it fits 128 bits.
func validULID(s string) bool {
	if len(s) != 26 || s[0] > '7' {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' && c != 'I' && c != 'L' && c != 'O' && c != 'U') {
			return false
		}
	}
	return true
}
