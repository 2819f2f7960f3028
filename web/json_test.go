package web

import (
	"encoding/json"
	"math"
	"testing"
)

func TestAppendTimestamp(t *testing.T) {
	for _, tc := range []struct {
		ms   int64
		want string
	}{
		{0, "0"},
		{1000, "1"},
		{1500, "1.500"},
		{1010, "1.010"},
		{1001, "1.001"},
		{-1500, "-1.500"},
		{1435781451781, "1435781451.781"},
	} {
		if got := string(appendTimestamp(nil, tc.ms)); got != tc.want {
			t.Errorf("appendTimestamp(%d) = %s, want %s", tc.ms, got, tc.want)
		}
	}
}

func TestAppendFloatString(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{math.NaN(), `"NaN"`},
		{math.Inf(1), `"+Inf"`},
		{math.Inf(-1), `"-Inf"`},
		{1, `"1"`},
		{0.1, `"0.1"`},
		{-2.5e-7, `"-0.00000025"`},
		{1e21, `"1000000000000000000000"`},
	} {
		if got := string(appendFloatString(nil, tc.f)); got != tc.want {
			t.Errorf("appendFloatString(%v) = %s, want %s", tc.f, got, tc.want)
		}
	}
}

// TestAppendStringMatchesEncodingJSON: label values are arbitrary UTF-8 (or
// not even that), and clients parse them with ordinary JSON decoders.
func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote"back\slash`, "tab\tnl\ncr\r", "\x00\x1f\x7f", "<html>&amp;",
		"héllo wörld ✓", "\u2028\u2029", "bad utf8 \xff\xfe end", "emoji 🚀",
	} {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendString(nil, s); string(got) != string(want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	f.Add("a\"b")
	f.Add("\xff")
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}
