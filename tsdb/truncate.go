package tsdb

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/wlog"
)

// truncateHead removes from the head what is entirely older than mint,
// once compaction has persisted it: the chunks before mint, then series
// left empty (from the series set and the postings); out-of-order samples
// wait for compactOOO. It rejects later in-order appends before mint (an
// out-of-order window may still take them as out-of-order ones), deletes
// the chunks_head files no series needs any more, and checkpoints the WAL
// as Prometheus does (Checkpoint of the older two thirds of the finished
// segments, keeping the surviving series and the samples at or after
// mint), then deletes the checkpointed segments and older checkpoints.
//
// A query that snapshotted a series before the truncation and reads one
// of its removed chunks afterwards gets an error, not stale data.
func (db *DB) truncateHead(mint int64) error {
	db.truncMu.Lock()
	defer db.truncMu.Unlock()
	if db.closed.Load() {
		return storage.ErrClosed
	}
	if mint <= db.truncatedTo {
		return nil
	}
	db.truncatedTo = mint
	start := time.Now()

	// Commits wait meanwhile, so that none applies samples to a series being
	// removed and every chunk written so far is accounted for below.
	db.commitMu.Lock()
	if mint > db.minValid.Load() {
		db.minValid.Store(mint)
	}
	dead, minFile := db.series.gc(mint)
	db.postings.deleteSeries(dead)
	db.numSer.Add(-int64(len(dead)))
	db.metrics.seriesRemoved.Add(float64(len(dead)))
	// Chunks written from now on go to a new file, which the truncation
	// below leaves alone.
	cutErr := db.chunks.CutFile()
	db.commitMu.Unlock()
	if cutErr != nil {
		return fmt.Errorf("truncate head: %w", cutErr)
	}
	if minFile == math.MaxInt {
		files := db.chunks.Files()
		minFile = math.MaxInt32
		if len(files) > 0 {
			minFile = files[len(files)-1] + 1
		}
	}
	if err := db.chunks.Truncate(minFile); err != nil {
		return fmt.Errorf("truncate head chunks: %w", err)
	}
	if err := db.truncateWAL(mint); err != nil {
		return err
	}
	db.logger.Info("Head truncated", "mint", mint, "removed_series", len(dead),
		"first_head_chunk_file", minFile, "duration", time.Since(start))
	return nil
}

// truncateWAL checkpoints the older two thirds of the WAL's finished
// segments, as Prometheus does, keeping the younger ones for the remote
// write tailer and for series records a checkpoint would drop too early.
func (db *DB) truncateWAL(mint int64) error {
	dir := db.wal.Dir()
	first, _, err := wlog.Segments(dir)
	if err != nil {
		return fmt.Errorf("truncate WAL: %w", err)
	}
	// Start a new segment so that a quiet WAL does not keep old samples.
	cur, err := db.wal.NextSegment()
	if err != nil {
		return fmt.Errorf("truncate WAL: %w", err)
	}
	// Checkpoints do not carry tombstones: those still needed are logged
	// again in the new segment, which no checkpoint below includes. Those
	// of out-of-order samples older than mint wait for compactOOO.
	if stones := db.pruneHeadTombstones(db.headReadFloor(mint)); len(stones) > 0 {
		if err := db.wal.Log(encodeTombstones(stones, nil)); err != nil {
			return fmt.Errorf("truncate WAL: log head tombstones again: %w", err)
		}
	}
	last := cur - 1
	if first < 0 || last < 0 {
		return nil
	}
	last = first + (last-first)*2/3
	if last <= first {
		return nil
	}
	keep := func(ref storage.SeriesRef) bool { return db.series.getByRef(ref) != nil }
	db.metrics.checkpoints.Inc()
	stats, err := wlog.Checkpoint(dir, first, last, keep, mint)
	if err != nil {
		db.metrics.checkpointFailures.Inc()
		return fmt.Errorf("truncate WAL: create checkpoint: %w", err)
	}
	// The checkpoint is in place: failing to delete what it replaces wastes
	// disk, nothing more, and the next truncation retries.
	errs := []error{db.wal.Truncate(last + 1), wlog.DeleteCheckpoints(dir, last)}
	if err := errors.Join(errs...); err != nil {
		db.logger.Error("Delete WAL segments and checkpoints replaced by a checkpoint", "err", err)
	}
	db.logger.Info("WAL checkpoint complete", "first", first, "last", last,
		"kept_series", stats.TotalSeries-stats.DroppedSeries, "kept_samples", stats.TotalSamples-stats.DroppedSamples)
	return nil
}
