package tsdb

import (
	"io/fs"
	"math"
	"path/filepath"

	"github.com/argusmon/argus/tsdb/block"
)

// applyRetention deletes whole blocks, oldest first: those whose end is a
// retention period or more behind the newest block's (never the newest
// itself), then, while the blocks plus the WAL, WBL and head chunks exceed
// the size limit, the oldest remaining ones. These are Prometheus's rules.
func (db *DB) applyRetention() {
	db.blocksMu.RLock()
	bs := append([]*block.Block(nil), db.blocks...)
	db.blocksMu.RUnlock()
	if len(bs) == 0 {
		return
	}
	// Newest first.
	for i, j := 0, len(bs)-1; i < j; i, j = i+1, j-1 {
		bs[i], bs[j] = bs[j], bs[i]
	}
	cut := len(bs) // bs[cut:] go
	if retention := db.retention.Load(); retention > 0 {
		newest := bs[0].Meta().MaxTime
		for i := 1; i < len(bs); i++ {
			if newest-bs[i].Meta().MaxTime >= retention {
				cut = i
				db.metrics.timeRetentions.Inc()
				break
			}
		}
	}
	if maxBytes := db.maxBytes.Load(); maxBytes > 0 {
		size := db.headSize()
		for i := 0; i < cut; i++ {
			size += bs[i].Size()
			if size > maxBytes {
				cut = i
				db.metrics.sizeRetentions.Inc()
				break
			}
		}
	}
	if cut == len(bs) {
		return
	}
	for _, b := range bs[cut:] {
		db.logger.Info("Delete block beyond retention", "ulid", b.Meta().ULID,
			"mint", b.Meta().MinTime, "maxt", b.Meta().MaxTime)
	}
	db.swapBlocks(nil, bs[cut:], math.MinInt64)
}

// headSize returns the bytes of the WAL, the WBL and the head chunk files,
// which count towards the size limit as in Prometheus.
func (db *DB) headSize() int64 {
	var n int64
	for _, d := range []string{walDirName, wblDirName, headChunksDirName} {
		// A file vanishing under the walk (a truncation) is not an error
		// worth reporting: the size is an estimate either way.
		_ = filepath.WalkDir(filepath.Join(db.dir, d), func(_ string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return nil
			}
			if fi, err := e.Info(); err == nil {
				n += fi.Size()
			}
			return nil
		})
	}
	return n
}
