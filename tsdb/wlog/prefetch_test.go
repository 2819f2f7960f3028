package wlog

import (
	"bytes"
	"errors"
	"testing"

	"github.com/argusmon/argus/storage"
)

// A replay error stops Open even while the reading goroutine is batches
// ahead, and leaves the log intact for the next Open.
func TestReplayErrorWithReadAhead(t *testing.T) {
	dir := t.TempDir()
	w, _ := openLog(t, dir, Options{SegmentSize: 1 << 20})
	// Enough incompressible records to fill every batch in flight.
	recs := testRecords(600, 3)
	for _, r := range recs {
		if err := w.Log(r); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	boom := errors.New("boom")
	n := 0
	_, err := Open(dir, Options{SegmentSize: 1 << 20}, func([]byte) error {
		if n++; n == 10 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Open = %v, want the replay error", err)
	}
	w, got := openLog(t, dir, Options{SegmentSize: 1 << 20})
	defer w.Close()
	assertRecords(t, recs, got)
}

// ReadAll yields the records Open replays, checkpoint first.
func TestReadAllMatchesOpen(t *testing.T) {
	dir := t.TempDir()
	w, _ := openReplay(t, dir)
	writeSeriesLog(t, w, 0, 6)
	if _, err := Checkpoint(dir, 0, 3, func(storage.SeriesRef) bool { return true }, 0); err != nil {
		t.Fatal(err)
	}
	if err := w.Truncate(4); err != nil {
		t.Fatal(err)
	}
	w.Close()
	var fromOpen, fromReadAll [][]byte
	w, err := Open(dir, Options{}, func(rec []byte) error {
		fromOpen = append(fromOpen, bytes.Clone(rec))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := ReadAll(dir, func(rec []byte) error {
		fromReadAll = append(fromReadAll, bytes.Clone(rec))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(fromOpen) == 0 {
		t.Fatal("nothing replayed")
	}
	assertRecords(t, fromOpen, fromReadAll)
	boom := errors.New("boom")
	if err := ReadAll(dir, func([]byte) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("ReadAll = %v, want the callback's error", err)
	}
}
