package wlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/record"
)

// A checkpoint is a directory checkpoint.NNNNNNNN next to the segments,
// itself a log of segments, holding what the head still needs of segments
// up to NNNNNNNN: the Series records of the series it keeps and the samples
// at or after a minimum time, preceded by a MinValidTime record, exactly as
// Prometheus writes it. Replay reads the newest checkpoint, then the
// segments after its index.
const (
	checkpointPrefix = "checkpoint."
	tmpSuffix        = ".tmp"
	// checkpointFlushSize is how many encoded bytes are gathered before they
	// are written to the checkpoint.
	checkpointFlushSize = 1 << 20
)

// ErrNoCheckpoint is returned by LastCheckpoint for a log without one.
var ErrNoCheckpoint = errors.New("no checkpoint")

// CheckpointDir returns the path of checkpoint i of the log in dir.
func CheckpointDir(dir string, i int) string {
	return filepath.Join(dir, fmt.Sprintf(checkpointPrefix+"%08d", i))
}

type checkpointRef struct {
	name  string
	index int
}

// listCheckpoints returns the finished checkpoints in dir, oldest first.
func listCheckpoints(dir string) ([]checkpointRef, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list checkpoints in %s: %w", dir, err)
	}
	var refs []checkpointRef
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), checkpointPrefix) || !e.IsDir() {
			continue
		}
		// A temporary directory's suffix makes it fail to parse.
		i, err := strconv.Atoi(e.Name()[len(checkpointPrefix):])
		if err != nil || i < 0 {
			continue
		}
		refs = append(refs, checkpointRef{e.Name(), i})
	}
	slices.SortFunc(refs, func(a, b checkpointRef) int { return a.index - b.index })
	return refs, nil
}

// LastCheckpoint returns the path and index of the newest checkpoint of the
// log in dir, or ErrNoCheckpoint.
func LastCheckpoint(dir string) (string, int, error) {
	refs, err := listCheckpoints(dir)
	if err != nil {
		return "", 0, err
	}
	if len(refs) == 0 {
		return "", 0, ErrNoCheckpoint
	}
	last := refs[len(refs)-1]
	return filepath.Join(dir, last.name), last.index, nil
}

// DeleteCheckpoints deletes the checkpoints of the log in dir with an index
// below maxIndex.
func DeleteCheckpoints(dir string, maxIndex int) error {
	refs, err := listCheckpoints(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range refs {
		if r.index >= maxIndex {
			break
		}
		if err := os.RemoveAll(filepath.Join(dir, r.name)); err != nil {
			errs = append(errs, fmt.Errorf("delete checkpoint: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Segments returns the first and last segment index of the log in dir, -1
// and -1 for a log without segments.
func Segments(dir string) (first, last int, err error) {
	segs, err := listSegments(dir)
	if err != nil {
		return 0, 0, err
	}
	if len(segs) == 0 {
		return -1, -1, nil
	}
	return segs[0], segs[len(segs)-1], nil
}

// replayCheckpoint hands every record of the checkpoint in cpDir to replay.
// A checkpoint is written whole before it is renamed into place, so any
// damage in it is an error, not a tail to repair.
func replayCheckpoint(cpDir string, replay func([]byte) error) error {
	rr, err := NewReader(cpDir)
	if err != nil {
		return err
	}
	r := newPrefetcher(rr)
	defer r.Close()
	for r.Next() {
		if replay == nil {
			continue
		}
		if err := replay(r.Record()); err != nil {
			return fmt.Errorf("replay checkpoint %s: %w", cpDir, err)
		}
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("read checkpoint %s: %w", cpDir, err)
	}
	return nil
}

// CheckpointStats counts what a checkpoint kept and dropped.
type CheckpointStats struct {
	TotalSeries, DroppedSeries   int
	TotalSamples, DroppedSamples int
	// DroppedRecords counts records of types the checkpoint does not carry
	// (tombstones, exemplars, histograms, metadata from a Prometheus WAL).
	DroppedRecords int
}

// Checkpoint writes checkpoint.<to> for the log in dir from the newest
// checkpoint, if any, and segments from through to: the Series records of
// the series keep accepts and the samples at or after mint. from must not
// leave a gap after the newest checkpoint; it starts right after it if that
// is later. The checkpoint is written to a temporary directory and renamed
// into place, so a crash leaves either the old state or the new one. Older
// segments and checkpoints are not deleted: the caller does that once the
// head no longer needs them (Writer.Truncate, DeleteCheckpoints).
func Checkpoint(dir string, from, to int, keep func(storage.SeriesRef) bool, mint int64) (*CheckpointStats, error) {
	cpDir, cpIdx, err := LastCheckpoint(dir)
	hasPrev := err == nil
	switch {
	case errors.Is(err, ErrNoCheckpoint):
	case err != nil:
		return nil, err
	default:
		if from > cpIdx+1 {
			return nil, fmt.Errorf("checkpoint %s: segments %08d to %08d missing after checkpoint %08d", dir, cpIdx+1, from-1, cpIdx)
		}
		from = cpIdx + 1
	}
	if to < from {
		return nil, fmt.Errorf("checkpoint %s: empty segment range %d to %d", dir, from, to)
	}

	if err := deleteTempCheckpoints(dir); err != nil {
		return nil, err
	}
	final := CheckpointDir(dir, to)
	tmp := final + tmpSuffix
	cp, err := Open(tmp, Options{Compress: true}, nil)
	if err != nil {
		return nil, fmt.Errorf("create checkpoint: %w", err)
	}
	defer func() {
		cp.Close()
		os.RemoveAll(tmp)
	}()

	c := checkpointer{cp: cp, keep: keep, mint: mint, stats: &CheckpointStats{}}
	prevMint := mint
	if hasPrev {
		// Carry the previous checkpoint's minimum valid time if it is newer.
		if err := replayCheckpoint(cpDir, func(rec []byte) error {
			if record.GetType(rec) == record.MinValidTime {
				if t, err := c.dec.MinValidTime(rec); err == nil {
					prevMint = max(prevMint, t)
				}
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	if err := cp.Log(record.EncodeMinValidTime(prevMint, nil)); err != nil {
		return nil, fmt.Errorf("write checkpoint: %w", err)
	}
	if hasPrev {
		if err := replayCheckpoint(cpDir, c.add); err != nil {
			return nil, err
		}
	}
	if to >= from {
		r, err := NewRangeReader(dir, from, to)
		if err != nil {
			return nil, err
		}
		for r.Next() {
			if err := c.add(r.Record()); err != nil {
				r.Close()
				return nil, fmt.Errorf("checkpoint segment %08d of %s: %w", r.Segment(), dir, err)
			}
		}
		r.Close()
		if err := r.Err(); err != nil {
			return nil, fmt.Errorf("read segments for checkpoint: %w", err)
		}
	}
	if err := c.flush(); err != nil {
		return nil, err
	}
	if err := cp.Close(); err != nil {
		return nil, fmt.Errorf("close checkpoint: %w", err)
	}
	if err := os.RemoveAll(final); err != nil {
		return nil, fmt.Errorf("replace checkpoint: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		return nil, fmt.Errorf("rename checkpoint into place: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	return c.stats, nil
}

// checkpointer filters records into a checkpoint.
type checkpointer struct {
	cp    *Writer
	keep  func(storage.SeriesRef) bool
	mint  int64
	stats *CheckpointStats
	dec   record.Decoder

	series  []record.RefSeries
	samples []record.RefSample
	buf     []byte
	recs    [][]byte
}

func (c *checkpointer) add(rec []byte) error {
	start := len(c.buf)
	switch record.GetType(rec) {
	case record.Series:
		var err error
		if c.series, err = c.dec.Series(rec, c.series[:0]); err != nil {
			return err
		}
		kept := slices.DeleteFunc(c.series, func(s record.RefSeries) bool { return !c.keep(s.Ref) })
		c.stats.TotalSeries += len(c.series)
		c.stats.DroppedSeries += len(c.series) - len(kept)
		if len(kept) > 0 {
			c.buf = record.EncodeSeries(kept, c.buf)
		}
	case record.Samples:
		var err error
		if c.samples, err = c.dec.Samples(rec, c.samples[:0]); err != nil {
			return err
		}
		n := len(c.samples)
		kept := slices.DeleteFunc(c.samples, func(s record.RefSample) bool { return s.T < c.mint })
		c.stats.TotalSamples += n
		c.stats.DroppedSamples += n - len(kept)
		if len(kept) > 0 {
			c.buf = record.EncodeSamples(kept, c.buf)
		}
	case record.MinValidTime:
		// Written once, first, by Checkpoint.
	default:
		c.stats.DroppedRecords++
	}
	if len(c.buf) > start {
		c.recs = append(c.recs, c.buf[start:])
	}
	if len(c.buf) >= checkpointFlushSize {
		return c.flush()
	}
	return nil
}

func (c *checkpointer) flush() error {
	if len(c.recs) == 0 {
		return nil
	}
	if err := c.cp.Log(c.recs...); err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	c.buf, c.recs = c.buf[:0], c.recs[:0]
	return nil
}

// deleteTempCheckpoints removes what an interrupted Checkpoint left.
func deleteTempCheckpoints(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), checkpointPrefix) && strings.HasSuffix(e.Name(), tmpSuffix) {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return fmt.Errorf("remove temporary checkpoint: %w", err)
			}
		}
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s for sync: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
