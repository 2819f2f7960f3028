package scrape

import (
	"math"
	"strconv"
	"unsafe"

	"github.com/prometheus/prometheus/model/value"
)

// knownValueTS reads a value and a timestamp into l; om says the timestamp
// is OpenMetrics' rather than the text format's.
func knownValueTS(l *knownLine, val, ts []byte, om bool) bool {
	var ok bool
	if l.v, ok = knownValue(val); !ok {
		return false
	}
	if om {
		l.ts, ok = omTimestamp(ts)
	} else {
		l.ts, ok = textTimestamp(ts)
	}
	l.hasTS = ok
	return ok
}

// textTimestamp reads a text-format timestamp, integer milliseconds.
func textTimestamp(tok []byte) (int64, bool) {
	if !allDigits(tok) {
		return 0, false
	}
	// The lexer takes a run of digits; ParseInt refuses what overflows.
	t, err := strconv.ParseInt(yoloString(tok), 10, 64)
	return t, err == nil
}

// omTimestamp reads an OpenMetrics timestamp, seconds as a float, as its
// parser does: the token runs to the next space or newline, refuses what
// its float parsing refuses, must be finite, and is truncated to
// milliseconds by int64(ts*1000). A token holding a space is more than one
// token: an exemplar or an error, left to the parser.
func omTimestamp(tok []byte) (int64, bool) {
	if len(tok) == 0 {
		return 0, false
	}
	for _, c := range tok {
		switch c {
		case ' ', 'p', 'P', '_':
			return 0, false
		}
	}
	ts, err := strconv.ParseFloat(yoloString(tok), 64)
	if err != nil || math.IsNaN(ts) || math.IsInf(ts, 0) {
		return 0, false
	}
	return int64(ts * 1000), true
}

// knownValue parses a value token as the text and OpenMetrics parsers do:
// the text lexer's token ends at a space, tab, newline or brace, the
// OpenMetrics one's at a space or newline only, but a tab or brace fails
// float parsing anyway. Both parsers refuse 'p', 'P' and '_', which strconv
// would take, then canonicalise NaN.
func knownValue(tok []byte) (float64, bool) {
	if len(tok) == 0 {
		return 0, false
	}
	for _, c := range tok {
		switch c {
		case '{', '\t', 'p', 'P', '_':
			return 0, false
		}
	}
	if v, ok := exactDecimal(tok); ok {
		return v, true
	}
	v, err := strconv.ParseFloat(yoloString(tok), 64)
	if err != nil {
		return 0, false
	}
	if math.IsNaN(v) {
		v = math.Float64frombits(value.NormalNaN)
	}
	return v, true
}

// exactDecimal parses the common value shape [-+]digits[.digits] with at
// most 15 digits, which ParseFloat handles by the same exact arithmetic: a
// mantissa below 2^53 and a power of ten up to 1e22 are exact float64s, so
// one correctly rounded division gives the correctly rounded result. Other
// shapes report false for ParseFloat to handle.
func exactDecimal(tok []byte) (float64, bool) {
	i, neg := 0, false
	if len(tok) > 0 && (tok[0] == '-' || tok[0] == '+') {
		neg, i = tok[0] == '-', 1
	}
	var mant uint64
	digits, frac, dot := 0, 0, false
	for ; i < len(tok); i++ {
		c := tok[i]
		switch {
		case c >= '0' && c <= '9':
			mant = mant*10 + uint64(c-'0')
			digits++
			if dot {
				frac++
			}
		case c == '.' && !dot:
			dot = true
		default:
			return 0, false
		}
	}
	if digits == 0 || digits > 15 {
		return 0, false
	}
	v := float64(mant)
	if frac > 0 {
		v /= pow10[frac]
	}
	if neg {
		v = -v
	}
	return v, true
}

// pow10 holds the powers of ten exactDecimal divides by, all exact.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// yoloString views b as a string without copying, for parsing calls that do
// not keep their argument (strconv copies it into any error it returns).
func yoloString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
