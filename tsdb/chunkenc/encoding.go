package chunkenc

import (
	"fmt"
	"strings"
)

// Encoding identifies a chunk encoding as stored in chunk files.
type Encoding uint8

// The float encodings Argus reads and writes, with Prometheus's on-disk
// values. Prometheus's histogram encodings (2, 3, 5, 6) are not decoded.
const (
	// EncXOR is the XOR ("Gorilla") encoding, the default.
	EncXOR Encoding = 1
	// EncXOR2 is XOR with a joint timestamp and value control prefix and
	// room for start timestamps. Argus writes it without start timestamps
	// and skips them when reading.
	EncXOR2 Encoding = 4
)

// String returns the name Prometheus gives the encoding, so that an error
// about a histogram chunk says what it is.
func (e Encoding) String() string {
	switch e {
	case 0:
		return "none"
	case EncXOR:
		return "XOR"
	case 2:
		return "histogram"
	case 3:
		return "floathistogram"
	case EncXOR2:
		return "XOR2"
	case 5:
		return "histogramST"
	case 6:
		return "floathistogramST"
	}
	return fmt.Sprintf("<unknown encoding %d>", uint8(e))
}

// ParseFloatEncoding maps the values of Prometheus's
// storage.tsdb.chunk_encoding.floats setting to an encoding: "xor" (or
// empty, the default) and "xor2", in any case.
func ParseFloatEncoding(s string) (Encoding, error) {
	switch strings.ToLower(s) {
	case "", "xor":
		return EncXOR, nil
	case "xor2":
		return EncXOR2, nil
	}
	return 0, fmt.Errorf("unsupported float chunk encoding %q: valid values are \"xor\" and \"xor2\"", s)
}

// unsupported is the error for an encoding that is not a float encoding
// Argus decodes.
func unsupported(e Encoding) error {
	return fmt.Errorf("unsupported chunk encoding %s", e)
}

// IsFloat reports whether e is a float encoding Argus decodes: EncXOR or
// EncXOR2.
func (e Encoding) IsFloat() bool { return e == EncXOR || e == EncXOR2 }
