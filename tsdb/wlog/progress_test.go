package wlog

import (
	"slices"
	"testing"
)

// TestReplayProgress: Open reports the segment range and each segment it
// replays, ending with current == last.
func TestReplayProgress(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(dir, Options{SegmentSize: 4 * PageSize}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := make([]byte, PageSize) // four records fill a segment and more
	for range 10 {
		if err := w.Log(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var seen [][3]int
	w, err = Open(dir, Options{SegmentSize: 4 * PageSize, Progress: func(first, last, current int) {
		seen = append(seen, [3]int{first, last, current})
	}}, func([]byte) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if len(seen) < 3 {
		t.Fatalf("progress reported %v, want one call per segment and a final one", seen)
	}
	last := seen[len(seen)-1]
	if last[0] != 0 || last[2] != last[1] || last[1] < 2 {
		t.Errorf("final progress %v, want first 0 and current == last >= 2", last)
	}
	currents := make([]int, len(seen))
	for i, s := range seen {
		currents[i] = s[2]
	}
	if !slices.IsSorted(currents) {
		t.Errorf("current segment went backwards: %v", currents)
	}
}
