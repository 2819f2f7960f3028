package tsdb

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/block"
)

// compactInterval is how often the background loop looks for work, as
// Prometheus's does; commits that move the head forward by half a block
// range wake it earlier.
const compactInterval = time.Minute

func (db *DB) startCompactionLoop(disabled bool) {
	ctx, cancel := context.WithCancel(context.Background())
	db.stopLoop, db.loopDone = cancel, make(chan struct{})
	db.compactc = make(chan struct{}, 1)
	if disabled {
		close(db.loopDone)
		return
	}
	go db.compactionLoop(ctx)
}

func (db *DB) compactionLoop(ctx context.Context) {
	defer close(db.loopDone)
	tick := time.NewTicker(compactInterval)
	defer tick.Stop()
	for {
		// First pass at once: the replayed head may already span blocks.
		if err := db.Compact(ctx); err != nil && ctx.Err() == nil && !errors.Is(err, storage.ErrClosed) {
			db.logger.Error("Compaction", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-db.compactc:
		}
	}
}

// kickCompaction wakes the compaction loop if the head's newest time moved
// into a new half block range, the granularity at which the head can become
// compactable.
func (db *DB) kickCompaction(oldMaxT, newMaxT int64) {
	half := max(db.blockRange/2, 1)
	if oldMaxT != math.MinInt64 && oldMaxT/half == newMaxT/half {
		return
	}
	select {
	case db.compactc <- struct{}{}:
	default:
	}
}

// Compact does what the background loop does, once: it cuts blocks from the
// head while the head spans more than 1.5 block ranges, then if it did,
// writes the out-of-order samples older than the head as blocks (see
// compactOOO), compacts the blocks as the leveled plan says (overlapping
// ones first), and deletes the blocks beyond retention.
func (db *DB) Compact(ctx context.Context) error {
	db.compactMu.Lock()
	defer db.compactMu.Unlock()
	if db.closed.Load() {
		return storage.ErrClosed
	}
	cut := false
	for {
		mint, maxt, ok := db.headCompactable()
		if !ok {
			break
		}
		if err := db.cutHead(ctx, mint, maxt); err != nil {
			db.metrics.compactionsFailed.Inc()
			return err
		}
		cut = true
	}
	if cut || db.oooRetry {
		db.oooRetry = true
		if err := db.compactOOO(ctx); err != nil {
			db.metrics.compactionsFailed.Inc()
			return err
		}
		db.oooRetry = false
	}
	for {
		plan := db.plan()
		if len(plan) < 2 {
			break
		}
		if err := db.compactBlocks(ctx, plan); err != nil {
			db.metrics.compactionsFailed.Inc()
			return err
		}
	}
	db.applyRetention()
	return nil
}

// headCompactable returns the oldest block range of the head if the head
// spans more than 1.5 block ranges, as Prometheus decides: the newest half
// range stays in the head for late samples.
func (db *DB) headCompactable() (mint, maxt int64, ok bool) {
	headMax := db.maxT.Load()
	db.blocksMu.RLock()
	floor := db.headFloor
	db.blocksMu.RUnlock()
	limit := db.blockRange / 2 * 3
	if headMax == math.MinInt64 || floor != math.MinInt64 && headMax-floor <= limit {
		return 0, 0, false
	}
	headMin, found := db.headMinTime()
	if !found {
		return 0, 0, false
	}
	headMin = max(headMin, floor)
	if headMax-headMin <= limit {
		return 0, 0, false
	}
	mint = headMin - floorMod(headMin, db.blockRange)
	return mint, mint + db.blockRange, true
}

// floorMod is a's remainder modulo m, in [0, m) even for negative a.
func floorMod(a, m int64) int64 {
	r := a % m
	if r < 0 {
		r += m
	}
	return r
}

// headMinTime scans the head for its oldest sample.
func (db *DB) headMinTime() (int64, bool) {
	mint, found := int64(math.MaxInt64), false
	db.series.each(func(s *memSeries) bool {
		s.mu.Lock()
		smin, _, ok := s.timeRange()
		s.mu.Unlock()
		if ok {
			mint, found = min(mint, smin), true
		}
		return true
	})
	return mint, found
}

// cutHead writes the head's samples in [mint, maxt) as a block, makes it
// visible to queriers in place of that part of the head, and truncates the
// head to maxt.
func (db *DB) cutHead(ctx context.Context, mint, maxt int64) error {
	// No commit may add samples before maxt from now on, or the block being
	// written would miss them. Commits serialise on commitMu, so every
	// earlier one is fully applied.
	db.commitMu.Lock()
	if maxt > db.minValid.Load() {
		db.minValid.Store(maxt)
	}
	db.commitMu.Unlock()

	start := time.Now()
	hq := &querier{db: db, mint: mint, maxt: maxt - 1}
	src := &chunkSource{set: hq.Select(ctx, true, nil), enc: db.copts.encoding(), chunkRange: db.copts.chunkRange}
	b, err := db.writeBlock(ctx, mint, maxt, src, block.Compaction{})
	if err != nil {
		return fmt.Errorf("cut block [%d, %d) from the head: %w", mint, maxt, err)
	}
	var add []*block.Block
	if b != nil {
		add = append(add, b)
	}
	db.swapBlocks(add, nil, maxt)
	db.metrics.compactions.Inc()
	db.logger.Info("Cut block from the head", "mint", mint, "maxt", maxt, "empty", b == nil, "duration", time.Since(start))
	if err := db.waitForReaders(ctx, maxt); err != nil {
		return fmt.Errorf("truncate head to %d: %w", maxt, err)
	}
	return db.truncateHead(maxt)
}

// readerPoll is how often a block cut checks for head queriers that
// still read what it is about to truncate.
const readerPoll = 10 * time.Millisecond

// waitForReaders waits until no open head querier reads before maxt:
// truncation deletes chunks such a querier may still iterate. Queriers
// opened since the block became visible start at maxt or later.
func (db *DB) waitForReaders(ctx context.Context, maxt int64) error {
	logged := false
	for {
		db.readersMu.Lock()
		busy := 0
		for q := range db.readers {
			if q.mint < maxt {
				busy++
			}
		}
		db.readersMu.Unlock()
		if busy == 0 {
			return nil
		}
		if !logged {
			db.logger.Info("Head truncation waits for open queriers", "queriers", busy, "maxt", maxt)
			logged = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(readerPoll):
		}
	}
}

// writeBlock writes src as a block and opens it. A block without samples is
// deleted at once and b is nil.
func (db *DB) writeBlock(ctx context.Context, mint, maxt int64, src block.SeriesSource, c block.Compaction) (*block.Block, error) {
	id, err := block.Write(ctx, db.dir, mint, maxt, src, &block.WriteOptions{Logger: db.logger, Compaction: c})
	if err != nil {
		return nil, err
	}
	b, err := db.openBlock(id)
	if err != nil {
		return nil, err
	}
	if b.Meta().Stats.NumSamples == 0 {
		return nil, errors.Join(b.Close(), removeBlockDir(b.Dir()))
	}
	return b, nil
}

// compactBlocks merges the blocks of a plan into one, applying their
// tombstones and de-duplicating samples the sources share, and replaces
// them with it.
func (db *DB) compactBlocks(ctx context.Context, plan []*block.Block) error {
	start := time.Now()
	mint, maxt := int64(math.MaxInt64), int64(math.MinInt64)
	c := block.Compaction{}
	sources := map[string]bool{}
	allOOO := true
	for _, b := range plan {
		m := b.Meta()
		allOOO = allOOO && isOOOBlock(m)
		mint, maxt = min(mint, m.MinTime), max(maxt, m.MaxTime)
		c.Level = max(c.Level, m.Compaction.Level+1)
		for _, s := range m.Compaction.Sources {
			sources[s] = true
		}
		c.Parents = append(c.Parents, block.Desc{ULID: m.ULID, MinTime: m.MinTime, MaxTime: m.MaxTime})
	}
	for s := range sources {
		c.Sources = append(c.Sources, s)
	}
	slices.Sort(c.Sources)
	if allOOO {
		// As Prometheus does: the result still says nothing about how far
		// the head was cut.
		c.Hints = []string{oooHint}
	}

	mq := &mergeQuerier{}
	defer mq.Close()
	for _, b := range plan {
		q, err := b.Querier(mint, maxt-1)
		if err != nil {
			return fmt.Errorf("compact blocks: %w", err)
		}
		mq.qs = append(mq.qs, q)
	}
	src := &chunkSource{set: mq.Select(ctx, true, nil), enc: db.copts.encoding(), chunkRange: db.copts.chunkRange}
	nb, err := db.writeBlock(ctx, mint, maxt, src, c)
	if err != nil {
		return fmt.Errorf("compact %d blocks [%d, %d): %w", len(plan), mint, maxt, err)
	}
	var add []*block.Block
	if nb != nil {
		add = append(add, nb)
	}
	db.swapBlocks(add, plan, math.MinInt64)
	db.metrics.compactions.Inc()
	db.logger.Info("Compacted blocks", "count", len(plan), "mint", mint, "maxt", maxt, "duration", time.Since(start))
	return nil
}
