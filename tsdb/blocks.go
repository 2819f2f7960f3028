package tsdb

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/argusmon/argus/tsdb/block"
)

// Suffixes of directories that are not, or no longer, blocks: one being
// written (Argus's and Prometheus's names) or being deleted.
var transientSuffixes = []string{".tmp", ".tmp-for-creation", ".tmp-for-deletion"}

// day is one day in milliseconds.
const day = 24 * 60 * 60 * 1000

// resolveBlockOptions fills in the block range, the compaction levels and
// the retention limits with Prometheus's defaults.
func (db *DB) resolveBlockOptions(opts *Options) {
	db.blockRange = opts.MinBlockDuration
	if db.blockRange <= 0 {
		db.blockRange = defaultChunkRange
	}
	retention := opts.RetentionDuration
	if retention == 0 {
		retention = 15 * day
	}
	db.SetRetention(retention, opts.MaxBytes)
	maxBlock := opts.MaxBlockDuration
	if maxBlock <= 0 {
		maxBlock = 31 * day
		if retention > 0 {
			maxBlock = min(maxBlock, retention/10)
		}
	}
	// Ten levels each three times the one before, as Prometheus plans them,
	// cut at the largest block allowed; the first level always stays.
	db.ranges = []int64{db.blockRange}
	for r := db.blockRange * 3; len(db.ranges) < 10 && r <= maxBlock; r *= 3 {
		db.ranges = append(db.ranges, r)
	}
}

// loadBlocks opens every block directory under the data directory, oldest
// first. It deletes what a crash left behind: directories of unfinished
// writes or deletions, and blocks a finished compaction replaced.
func (db *DB) loadBlocks() error {
	entries, err := os.ReadDir(db.dir)
	if err != nil {
		return fmt.Errorf("list data directory: %w", err)
	}
	var blocks []*block.Block
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		path := filepath.Join(db.dir, name)
		if slices.ContainsFunc(transientSuffixes, func(s string) bool { return strings.HasSuffix(name, s) }) {
			db.logger.Info("Delete leftover of an interrupted block write or deletion", "dir", path)
			if err := os.RemoveAll(path); err != nil {
				return errors.Join(fmt.Errorf("delete %s: %w", path, err), closeAll(blocks))
			}
			continue
		}
		if _, err := os.Stat(filepath.Join(path, block.MetaFilename)); err != nil {
			continue // wal, chunks_head and anything else that is not a block
		}
		b, err := block.Open(path, db.logger)
		if err != nil {
			return errors.Join(fmt.Errorf("load blocks: %w", err), closeAll(blocks))
		}
		blocks = append(blocks, b)
	}

	// A compaction crashed between writing its block and deleting its
	// parents: the parents' data is in the new block, drop them.
	replaced := map[string]bool{}
	for _, b := range blocks {
		for _, p := range b.Meta().Compaction.Parents {
			replaced[p.ULID] = true
		}
	}
	kept := blocks[:0]
	for _, b := range blocks {
		if !replaced[b.Meta().ULID] {
			kept = append(kept, b)
			continue
		}
		db.logger.Info("Delete block replaced by a compaction", "ulid", b.Meta().ULID)
		if err := errors.Join(b.Close(), removeBlockDir(b.Dir())); err != nil {
			return errors.Join(err, closeAll(kept))
		}
	}
	sortBlocks(kept)
	db.blocks = kept
	db.metrics.blocksLoaded.Set(float64(len(kept)))
	return nil
}

func sortBlocks(bs []*block.Block) {
	slices.SortFunc(bs, func(a, b *block.Block) int {
		if c := cmp.Compare(a.Meta().MinTime, b.Meta().MinTime); c != 0 {
			return c
		}
		return strings.Compare(a.Meta().ULID, b.Meta().ULID)
	})
}

// maxBlockTime returns the newest blocks' exclusive end, leaving out blocks
// written from out-of-order samples only, as Prometheus does: those say
// nothing about how far the head was cut. Callers hold blocksMu or own db.
func (db *DB) maxBlockTime() int64 {
	t := int64(math.MinInt64)
	for _, b := range db.blocks {
		if m := b.Meta(); !isOOOBlock(m) {
			t = max(t, m.MaxTime)
		}
	}
	return t
}

// Blocks returns the metadata of the loaded blocks, oldest first.
func (db *DB) Blocks() []block.Meta {
	db.blocksMu.RLock()
	defer db.blocksMu.RUnlock()
	out := make([]block.Meta, len(db.blocks))
	for i, b := range db.blocks {
		out[i] = b.Meta()
	}
	return out
}

// openBlock opens a block just written under the data directory.
func (db *DB) openBlock(id string) (*block.Block, error) {
	b, err := block.Open(filepath.Join(db.dir, id), db.logger)
	if err != nil {
		return nil, fmt.Errorf("open new block %s: %w", id, err)
	}
	return b, nil
}

// swapBlocks adds the new blocks and drops the removed ones from the
// list queriers see, raising the head floor to floor, then deletes the
// removed blocks once their last querier is closed, without waiting here.
func (db *DB) swapBlocks(add, remove []*block.Block, floor int64) {
	db.blocksMu.Lock()
	bs := slices.DeleteFunc(slices.Clone(db.blocks), func(b *block.Block) bool { return slices.Contains(remove, b) })
	bs = append(bs, add...)
	sortBlocks(bs)
	db.blocks = bs
	db.headFloor = max(db.headFloor, floor)
	db.blocksMu.Unlock()
	db.metrics.blocksLoaded.Set(float64(len(bs)))

	for _, b := range remove {
		db.deletions.Add(1)
		go func() {
			defer db.deletions.Done()
			start := time.Now()
			if err := errors.Join(b.Close(), removeBlockDir(b.Dir())); err != nil {
				db.logger.Error("Delete block", "ulid", b.Meta().ULID, "err", err)
				return
			}
			db.logger.Info("Deleted block", "ulid", b.Meta().ULID, "waited", time.Since(start))
		}()
	}
}

// removeBlockDir renames a block directory out of the blocks' namespace
// before deleting it, so that a crash midway never leaves half a block
// that Open would load.
func removeBlockDir(dir string) error {
	tmp := dir + ".tmp-for-deletion"
	if err := os.Rename(dir, tmp); err != nil {
		return fmt.Errorf("delete block %s: %w", dir, err)
	}
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("delete block %s: %w", dir, err)
	}
	return nil
}

// closeBlocks closes every loaded block.
func (db *DB) closeBlocks() error {
	db.blocksMu.Lock()
	bs := db.blocks
	db.blocks = nil
	db.blocksMu.Unlock()
	return closeAll(bs)
}

func closeAll(bs []*block.Block) error {
	var errs []error
	for _, b := range bs {
		errs = append(errs, b.Close())
	}
	return errors.Join(errs...)
}
