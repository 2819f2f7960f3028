package remote

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestChunkedRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	flushes := 0
	w := NewChunkedWriter(&buf, func() error { flushes++; return nil })
	frames := []string{"first", strings.Repeat("x", 300), "", "last"}
	for _, f := range frames {
		if err := w.WriteFrame([]byte(f)); err != nil {
			t.Fatal(err)
		}
	}
	if flushes != 3 {
		t.Errorf("flushed %d times, want once per non-empty frame (3)", flushes)
	}
	// First frame: uvarint length 5, CRC-32C of "first", the bytes.
	if got := buf.Bytes()[:1]; got[0] != 5 {
		t.Errorf("first frame length byte %d, want 5", got[0])
	}
	r := NewChunkedReader(bytes.NewReader(buf.Bytes()), 1<<10)
	for _, want := range []string{"first", strings.Repeat("x", 300), "last"} {
		got, err := r.Next()
		if err != nil || string(got) != want {
			t.Fatalf("Next = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("Next after the last frame = %v, want io.EOF", err)
	}
}

func TestChunkedReaderRejects(t *testing.T) {
	var buf bytes.Buffer
	if err := NewChunkedWriter(&buf, nil).WriteFrame([]byte("payload")); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	corrupt := bytes.Clone(good)
	corrupt[len(corrupt)-1] ^= 1
	for _, tc := range []struct {
		name  string
		data  []byte
		limit uint64
		want  string
	}{
		{"checksum", corrupt, 100, "checksum mismatch"},
		{"too large", good, 3, "more than the limit"},
		{"truncated", good[:len(good)-2], 100, "read frame of 7 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewChunkedReader(bytes.NewReader(tc.data), tc.limit).Next()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Next = %v, want error with %q", err, tc.want)
			}
		})
	}
}
