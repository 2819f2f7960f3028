package tsdb

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/block"
)

// CleanTombstones rewrites every block that has tombstones without the
// deleted samples, under a new ULID, and deletes the old block once its
// last querier is closed. A block left without samples is just deleted.
// Head tombstones stay until the head is cut into blocks, which leaves the
// deleted samples out anyway.
func (db *DB) CleanTombstones(ctx context.Context) error {
	db.compactMu.Lock()
	defer db.compactMu.Unlock()
	if db.closed.Load() {
		return storage.ErrClosed
	}
	db.blocksMu.RLock()
	var dirty []*block.Block
	for _, b := range db.blocks {
		if b.NumTombstones() > 0 {
			dirty = append(dirty, b)
		}
	}
	db.blocksMu.RUnlock()
	for _, b := range dirty {
		if err := db.rewriteBlock(ctx, b); err != nil {
			return fmt.Errorf("clean tombstones: %w", err)
		}
	}
	return nil
}

// rewriteBlock replaces b with a copy without its deleted samples. The copy
// names b as its parent, so that if a crash comes before b is deleted, Open
// deletes it as a block a compaction replaced.
func (db *DB) rewriteBlock(ctx context.Context, b *block.Block) error {
	start := time.Now()
	m := b.Meta()
	q, err := b.Querier(m.MinTime, m.MaxTime-1)
	if err != nil {
		return err
	}
	defer q.Close()
	c := block.Compaction{
		Level:   m.Compaction.Level,
		Sources: m.Compaction.Sources,
		Parents: []block.Desc{{ULID: m.ULID, MinTime: m.MinTime, MaxTime: m.MaxTime}},
	}
	src := &chunkSource{set: q.Select(ctx, true, nil), enc: db.copts.encoding(), chunkRange: db.copts.chunkRange}
	nb, err := db.writeBlock(ctx, m.MinTime, m.MaxTime, src, c)
	if err != nil {
		return fmt.Errorf("rewrite block %s: %w", m.ULID, err)
	}
	var add []*block.Block
	newID := "none, no samples left"
	if nb != nil {
		add = append(add, nb)
		newID = nb.Meta().ULID
	}
	db.swapBlocks(add, []*block.Block{b}, math.MinInt64)
	db.logger.Info("Rewrote block without its deleted samples", "old", m.ULID, "new", newID, "duration", time.Since(start))
	return nil
}

// Snapshot writes a copy of the database into dir, which it creates if
// needed: a hard link of every block directory and, if withHead, the head's
// samples as one more block. The result is a data directory that Open, or
// Prometheus, loads as is.
func (db *DB) Snapshot(dir string, withHead bool) error {
	// No block may be replaced or deleted, nor the head cut, meanwhile.
	db.compactMu.Lock()
	defer db.compactMu.Unlock()
	if db.closed.Load() {
		return storage.ErrClosed
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return fmt.Errorf("snapshot: create %s: %w", dir, err)
	}
	db.blocksMu.RLock()
	bs := append([]*block.Block(nil), db.blocks...)
	floor := db.headFloor
	db.blocksMu.RUnlock()
	for _, b := range bs {
		if err := b.Snapshot(dir); err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
	}
	if !withHead {
		return nil
	}
	// Below the floor the head's leftovers are copies of block data, bar
	// out-of-order samples not compacted yet.
	mint, maxt, ok := db.headTimeRange()
	mint = max(mint, db.headReadFloor(floor))
	if !ok || mint > maxt {
		return nil
	}
	hq := &querier{db: db, mint: mint, maxt: maxt}
	src := &chunkSource{set: hq.Select(context.Background(), true, nil), enc: db.copts.encoding(), chunkRange: db.copts.chunkRange}
	id, err := block.Write(context.Background(), dir, mint, maxt+1, src, &block.WriteOptions{Logger: db.logger})
	if err != nil {
		return fmt.Errorf("snapshot: write the head as a block: %w", err)
	}
	if m, err := block.ReadMeta(filepath.Join(dir, id)); err == nil && m.Stats.NumSamples == 0 {
		// Everything in range was deleted: no block rather than an empty one.
		return removeBlockDir(filepath.Join(dir, id))
	}
	db.logger.Info("Snapshot written", "dir", dir, "blocks", len(bs), "head_block", id)
	return nil
}

// headTimeRange scans the head for its oldest and newest samples,
// out-of-order ones included.
func (db *DB) headTimeRange() (mint, maxt int64, ok bool) {
	mint, maxt = math.MaxInt64, math.MinInt64
	db.series.each(func(s *memSeries) bool {
		s.mu.Lock()
		smin, smax, sok := s.timeRange()
		s.mu.Unlock()
		if sok {
			mint, maxt, ok = min(mint, smin), max(maxt, smax), true
		}
		return true
	})
	return mint, maxt, ok
}
