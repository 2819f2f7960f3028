package wlog

import (
	"errors"
	"fmt"
)

// ReadAll hands every record of the log in dir to fn, those of its newest
// checkpoint first, as Open replays them; the slice is only valid during
// the call. It does not repair anything: it is meant for a log that Open
// already checked.
func ReadAll(dir string, fn func(rec []byte) error) error {
	cpDir, cpIdx, err := LastCheckpoint(dir)
	switch {
	case errors.Is(err, ErrNoCheckpoint):
		cpIdx = -1
	case err != nil:
		return err
	default:
		if err := replayCheckpoint(cpDir, fn); err != nil {
			return err
		}
	}
	rr, err := NewRangeReader(dir, cpIdx+1, -1)
	if err != nil {
		return err
	}
	r := newPrefetcher(rr)
	defer r.Close()
	for r.Next() {
		if err := fn(r.Record()); err != nil {
			return fmt.Errorf("read write log %s segment %08d: %w", dir, r.Segment(), err)
		}
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("read write log %s: %w", dir, err)
	}
	return nil
}
