package wlog

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/record"
)

// writeSeriesLog logs, per segment, a Series record for one new series and
// samples for every series so far at timestamps seg*100+i, then cuts the
// segment.
func writeSeriesLog(t *testing.T, w *Writer, first, n int) {
	t.Helper()
	for seg := first; seg < first+n; seg++ {
		ref := storage.SeriesRef(seg + 1)
		rec := record.EncodeSeries([]record.RefSeries{{Ref: ref, Labels: labels.FromStrings("s", fmt.Sprint(seg))}}, nil)
		var samples []record.RefSample
		for r := storage.SeriesRef(1); r <= ref; r++ {
			samples = append(samples, record.RefSample{Ref: r, T: int64(seg * 100), V: float64(r)})
		}
		if err := w.Log(rec, record.EncodeSamples(samples, nil)); err != nil {
			t.Fatal(err)
		}
		if _, err := w.NextSegment(); err != nil {
			t.Fatal(err)
		}
	}
}

// replayed decodes every record Open replays.
type replayed struct {
	series   []storage.SeriesRef
	samples  []record.RefSample
	minValid []int64
}

func openReplay(t *testing.T, dir string) (*Writer, *replayed) {
	t.Helper()
	var (
		got replayed
		dec record.Decoder
	)
	w, err := Open(dir, Options{Compress: true}, func(rec []byte) error {
		switch record.GetType(rec) {
		case record.Series:
			ss, err := dec.Series(rec, nil)
			for _, s := range ss {
				got.series = append(got.series, s.Ref)
			}
			return err
		case record.Samples:
			var err error
			got.samples, err = dec.Samples(rec, got.samples)
			return err
		case record.MinValidTime:
			m, err := dec.MinValidTime(rec)
			got.minValid = append(got.minValid, m)
			return err
		}
		return fmt.Errorf("unexpected record type %d", record.GetType(rec))
	})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return w, &got
}

func TestCheckpointAndReplay(t *testing.T) {
	dir := t.TempDir()
	w, _ := openReplay(t, dir)
	writeSeriesLog(t, w, 0, 6) // segments 0..5, writing 6
	// Keep odd series, samples at or after t=200, of segments 0..3.
	odd := func(r storage.SeriesRef) bool { return r%2 == 1 }
	stats, err := Checkpoint(dir, 0, 3, odd, 200)
	if err != nil {
		t.Fatal(err)
	}
	if stats.TotalSeries != 4 || stats.DroppedSeries != 2 || stats.TotalSamples != 1+2+3+4 || stats.DroppedSamples != 1+2 {
		t.Fatalf("stats %+v", stats)
	}
	if err := w.Truncate(4); err != nil {
		t.Fatal(err)
	}
	if first, last, _ := Segments(dir); first != 4 || last != 6 {
		t.Fatalf("segments %d..%d after Truncate(4), want 4..6", first, last)
	}
	w.Close()

	w, got := openReplay(t, dir)
	if fmt.Sprint(got.series) != "[1 3 5 6]" {
		t.Fatalf("series replayed %v, want the kept ones of the checkpoint then segments 4, 5", got.series)
	}
	if len(got.minValid) != 1 || got.minValid[0] != 200 {
		t.Fatalf("min valid time records %v", got.minValid)
	}
	// Samples: 3+4 from the checkpoint (t=200, 300), 5+6 from segments 4, 5.
	if len(got.samples) != 3+4+5+6 || got.samples[0].T != 200 {
		t.Fatalf("replayed %d samples starting %v", len(got.samples), got.samples[0])
	}
	// Writing continues after the newest segment.
	if seg := w.Segment(); seg != 6 {
		t.Fatalf("writing segment %d, want 6", seg)
	}

	// A second checkpoint folds in the first; an older min valid time does
	// not win.
	writeSeriesLog(t, w, 6, 1)
	if _, err := Checkpoint(dir, 4, 6, func(storage.SeriesRef) bool { return true }, 100); err != nil {
		t.Fatal(err)
	}
	if err := DeleteCheckpoints(dir, 6); err != nil {
		t.Fatal(err)
	}
	if err := w.Truncate(7); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if _, err := os.Stat(CheckpointDir(dir, 3)); !os.IsNotExist(err) {
		t.Fatalf("old checkpoint not deleted: %v", err)
	}
	// A leftover temporary directory is ignored.
	os.MkdirAll(CheckpointDir(dir, 9)+tmpSuffix, 0o777)
	w, got = openReplay(t, dir)
	defer w.Close()
	if fmt.Sprint(got.series) != "[1 3 5 6 7]" || len(got.minValid) != 1 || got.minValid[0] != 200 {
		t.Fatalf("after second checkpoint: series %v min valid %v", got.series, got.minValid)
	}
}

func TestCheckpointGap(t *testing.T) {
	dir := t.TempDir()
	w, _ := openReplay(t, dir)
	defer w.Close()
	writeSeriesLog(t, w, 0, 5)
	if _, err := Checkpoint(dir, 0, 1, func(storage.SeriesRef) bool { return true }, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := Checkpoint(dir, 3, 4, func(storage.SeriesRef) bool { return true }, 0); err == nil {
		t.Fatal("checkpoint leaving segment 2 out succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "checkpoint.00000004")); !os.IsNotExist(err) {
		t.Fatal("failed checkpoint left a directory")
	}
}
