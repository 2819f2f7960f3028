package wlog

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// testRecords returns records of assorted sizes: empty, tiny, page-spanning,
// segment-spanning, compressible and not.
func testRecords(n int, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 7))
	recs := make([][]byte, n)
	for i := range recs {
		var size int
		switch i % 5 {
		case 0:
			size = 0
		case 1:
			size = rng.IntN(100)
		case 2:
			size = PageSize + rng.IntN(3*PageSize) // spans pages
		default:
			size = rng.IntN(5000)
		}
		b := make([]byte, size)
		if i%2 == 0 {
			for j := range b {
				b[j] = byte(rng.UintN(256)) // incompressible
			}
		} else {
			copy(b, bytes.Repeat([]byte(fmt.Sprintf("record %d ", i)), size/8+1))
		}
		recs[i] = b
	}
	return recs
}

func openLog(t *testing.T, dir string, opts Options) (*Writer, [][]byte) {
	t.Helper()
	var got [][]byte
	w, err := Open(dir, opts, func(rec []byte) error {
		got = append(got, bytes.Clone(rec))
		return nil
	})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return w, got
}

func assertRecords(t *testing.T, want, got [][]byte) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(want[i], got[i]) {
			t.Fatalf("record %d: got %d bytes, want %d (content differs)", i, len(got[i]), len(want[i]))
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, compress := range []bool{false, true} {
		for _, segSize := range []int{4 * PageSize, DefaultSegmentSize} {
			t.Run(fmt.Sprintf("compress=%v/segment=%d", compress, segSize), func(t *testing.T) {
				dir := t.TempDir()
				opts := Options{SegmentSize: segSize, Compress: compress}
				recs := testRecords(60, 1)
				w, _ := openLog(t, dir, opts)
				for i := 0; i < len(recs); i += 3 {
					if err := w.Log(recs[i:min(i+3, len(recs))]...); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				segs, err := listSegments(dir)
				if err != nil {
					t.Fatal(err)
				}
				if segSize == 4*PageSize && len(segs) < 3 {
					t.Fatalf("expected records to spread over several segments, got %d", len(segs))
				}
				for _, s := range segs {
					fi, _ := os.Stat(SegmentName(dir, s))
					if fi.Size() > int64(segSize) {
						t.Fatalf("segment %d is %d bytes, more than %d", s, fi.Size(), segSize)
					}
				}

				// Reopen: everything replays and new records follow.
				w, got := openLog(t, dir, opts)
				assertRecords(t, recs, got)
				if w.Repaired() != nil {
					t.Fatalf("intact log reported repaired: %v", w.Repaired())
				}
				more := testRecords(7, 2)
				if err := w.Log(more...); err != nil {
					t.Fatal(err)
				}
				w.Close()
				_, got = openLog(t, dir, opts)
				assertRecords(t, append(recs, more...), got)
			})
		}
	}
}

// A record bigger than a segment gets a segment of its own.
func TestRecordLargerThanSegment(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentSize: 2 * PageSize}
	big := bytes.Repeat([]byte{1, 2, 3}, 3*PageSize)
	recs := [][]byte{[]byte("before"), big, []byte("after")}
	w, _ := openLog(t, dir, opts)
	for _, r := range recs {
		if err := w.Log(r); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	_, got := openLog(t, dir, opts)
	assertRecords(t, recs, got)
}

func TestRepairTail(t *testing.T) {
	tests := []struct {
		name string
		// damage mutates the last segment, given its contents.
		damage func(b []byte) []byte
		// keep is how many of the records must survive.
		keep int
	}{
		{"truncated mid record", func(b []byte) []byte { return b[:len(b)-10] }, 9},
		{"truncated mid header", func(b []byte) []byte { return b[:len(b)-(lastRecSize+headerSize)+3] }, 9},
		{"bit flip in last record", func(b []byte) []byte { b[len(b)-5] ^= 0x10; return b }, 9},
		{"bit flip in header length", func(b []byte) []byte { b[len(b)-lastRecSize-headerSize+1] ^= 0x40; return b }, 9},
		{"garbage appended", func(b []byte) []byte { return append(b, 0xde, 0xad, 0xbe, 0xef) }, 10},
		{"zeros appended", func(b []byte) []byte { return append(b, make([]byte, 100)...) }, 10},
		{"whole segment empty", func(b []byte) []byte { return b[:0] }, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var recs [][]byte
			for i := range 10 {
				recs = append(recs, bytes.Repeat([]byte{byte(i + 1)}, lastRecSize))
			}
			w, _ := openLog(t, dir, Options{})
			if err := w.Log(recs...); err != nil {
				t.Fatal(err)
			}
			w.Close()
			seg := SegmentName(dir, 0)
			b, err := os.ReadFile(seg)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(seg, tc.damage(b), 0o666); err != nil {
				t.Fatal(err)
			}

			w, got := openLog(t, dir, Options{})
			assertRecords(t, recs[:tc.keep], got)
			// After repair the log accepts writes and reads back clean.
			if err := w.Log([]byte("after repair")); err != nil {
				t.Fatal(err)
			}
			w.Close()
			r, err := NewReader(dir)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var again [][]byte
			for r.Next() {
				again = append(again, bytes.Clone(r.Record()))
			}
			if r.Err() != nil {
				t.Fatalf("log still corrupt after repair: %v", r.Err())
			}
			assertRecords(t, append(recs[:tc.keep:tc.keep], []byte("after repair")), again)
		})
	}
}

const lastRecSize = 100

// Corruption in an earlier segment drops it from there on, later segments
// included, as Prometheus's repair does.
func TestRepairDeletesLaterSegments(t *testing.T) {
	dir := t.TempDir()
	opts := Options{SegmentSize: PageSize}
	w, _ := openLog(t, dir, opts)
	rec := bytes.Repeat([]byte("x"), 10_000)
	for range 10 {
		if err := w.Log(rec); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	b, _ := os.ReadFile(SegmentName(dir, 1))
	b[headerSize+5] ^= 1 // first record of segment 1
	os.WriteFile(SegmentName(dir, 1), b, 0o666)

	w, got := openLog(t, dir, opts)
	defer w.Close()
	var cerr *CorruptionError
	if rep := w.Repaired(); !errors.As(error(rep), &cerr) || cerr.Segment != 1 || cerr.Offset != 0 {
		t.Fatalf("Repaired() = %v, want corruption in segment 1 at offset 0", rep)
	}
	if len(got) != 3 { // segment 0 holds 3 records of 10 kB
		t.Fatalf("replayed %d records, want 3", len(got))
	}
	segs, _ := listSegments(dir)
	if len(segs) != 2 {
		t.Fatalf("segments after repair: %v, want [0 1]", segs)
	}
}

func TestSegmentGapIsAnError(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"00000000", "00000002"} {
		os.WriteFile(filepath.Join(dir, name), nil, 0o666)
	}
	if _, err := Open(dir, Options{}, nil); err == nil {
		t.Fatal("opened a log with a missing segment")
	}
}

func TestReplayErrorAbortsOpen(t *testing.T) {
	dir := t.TempDir()
	w, _ := openLog(t, dir, Options{})
	w.Log([]byte("a"))
	w.Close()
	boom := errors.New("boom")
	if _, err := Open(dir, Options{}, func([]byte) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("Open = %v, want the replay error", err)
	}
}

// Arbitrary segment bytes never panic the reader, and Open always leaves a
// log that reads back cleanly.
func FuzzOpenSegment(f *testing.F) {
	dir := f.TempDir()
	w, _ := Open(dir, Options{Compress: true}, nil)
	w.Log([]byte("hello"), bytes.Repeat([]byte("abc"), 200), nil)
	w.Close()
	seed, _ := os.ReadFile(SegmentName(dir, 0))
	f.Add(seed)
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{kindFirst | snappyMask, 0, 1, 0, 0, 0, 0, 9})
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(SegmentName(dir, 0), b, 0o666); err != nil {
			t.Fatal(err)
		}
		w, err := Open(dir, Options{}, func([]byte) error { return nil })
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		w.Close()
		r, err := NewReader(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for r.Next() {
		}
		if r.Err() != nil {
			t.Fatalf("log corrupt after repair: %v", r.Err())
		}
	})
}
