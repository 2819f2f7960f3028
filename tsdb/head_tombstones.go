package tsdb

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/block"
	"github.com/argusmon/argus/tsdb/record"
	"github.com/argusmon/argus/tsdb/tombstones"
)

// recordTombstones is Prometheus's WAL record type of head deletions: per
// deleted interval the series reference as 8 big-endian bytes, then mint
// and maxt as varints.
const recordTombstones record.Type = 3

// stone is one deleted interval of a head series.
type stone struct {
	ref storage.SeriesRef
	in  tombstones.Interval
}

func encodeTombstones(stones []stone, b []byte) []byte {
	b = append(b, byte(recordTombstones))
	for _, s := range stones {
		b = binary.BigEndian.AppendUint64(b, uint64(s.ref))
		b = binary.AppendVarint(b, s.in.Mint)
		b = binary.AppendVarint(b, s.in.Maxt)
	}
	return b
}

func decodeTombstones(rec []byte, dst []stone) ([]stone, error) {
	if record.GetType(rec) != recordTombstones {
		return nil, fmt.Errorf("decode tombstones record: record type %d is not %d", record.GetType(rec), recordTombstones)
	}
	for b := rec[1:]; len(b) > 0; {
		if len(b) < 8 {
			return nil, errors.New("decode tombstones record: truncated series reference")
		}
		ref := storage.SeriesRef(binary.BigEndian.Uint64(b))
		b = b[8:]
		mint, n := binary.Varint(b)
		if n <= 0 {
			return nil, errors.New("decode tombstones record: bad mint")
		}
		b = b[n:]
		maxt, n := binary.Varint(b)
		if n <= 0 {
			return nil, errors.New("decode tombstones record: bad maxt")
		}
		b = b[n:]
		dst = append(dst, stone{ref: ref, in: tombstones.Interval{Mint: mint, Maxt: maxt}})
	}
	return dst, nil
}

// Delete marks deleted the samples in [mint, maxt] of the series matching
// ms, in the blocks (tombstones files, applied by queries until
// CleanTombstones rewrites the blocks) and in the head (tombstones logged to
// the WAL, applied by queries and left out of the blocks cut from the head).
// As in Prometheus, each interval is clamped to the series' samples at the
// time of the call: samples appended later are not deleted.
func (db *DB) Delete(ctx context.Context, mint, maxt int64, ms ...*labels.Matcher) error {
	if mint > maxt {
		return nil
	}
	// Compaction must not rewrite a block from its old tombstones, nor cut
	// the head, while the deletion is under way.
	db.compactMu.Lock()
	defer db.compactMu.Unlock()
	if db.closed.Load() {
		return storage.ErrClosed
	}
	db.blocksMu.RLock()
	var bs []*block.Block
	for _, b := range db.blocks {
		if m := b.Meta(); m.MinTime <= maxt && m.MaxTime > mint {
			bs = append(bs, b)
		}
	}
	db.blocksMu.RUnlock()
	for _, b := range bs {
		if _, err := b.Delete(ctx, mint, maxt, ms...); err != nil {
			return fmt.Errorf("delete series: %w", err)
		}
	}
	return db.deleteHead(ctx, mint, maxt, ms)
}

func (db *DB) deleteHead(ctx context.Context, mint, maxt int64, ms []*labels.Matcher) error {
	var stones []stone
	for i, ref := range db.postings.forMatchers(ms) {
		if i%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("delete series from the head: %w", err)
			}
		}
		s := db.series.getByRef(ref)
		if s == nil {
			continue
		}
		s.mu.Lock()
		smin, smax, ok := s.timeRange()
		s.mu.Unlock()
		if !ok || smax < mint || smin > maxt {
			continue
		}
		stones = append(stones, stone{ref: ref, in: tombstones.Interval{Mint: max(mint, smin), Maxt: min(maxt, smax)}})
	}
	if len(stones) == 0 {
		return nil
	}
	if err := db.wal.Log(encodeTombstones(stones, nil)); err != nil {
		return fmt.Errorf("delete series from the head: write WAL: %w", err)
	}
	for _, s := range stones {
		db.headTombs.AddInterval(s.ref, s.in)
	}
	return nil
}

// pruneHeadTombstones drops the head tombstones that a truncation to mint
// made pointless: those of removed series and intervals wholly before mint.
// It returns what is left, to be logged again past the WAL checkpoint,
// which does not carry tombstones.
func (db *DB) pruneHeadTombstones(mint int64) []stone {
	db.headTombs.Filter(func(ref storage.SeriesRef, in tombstones.Interval) bool {
		return in.Maxt >= mint && db.series.getByRef(ref) != nil
	})
	var stones []stone
	_ = db.headTombs.Iter(func(ref storage.SeriesRef, ivs tombstones.Intervals) error {
		for _, in := range ivs {
			stones = append(stones, stone{ref: ref, in: in})
		}
		return nil
	})
	return stones
}
