package block

import (
	"context"
	"errors"
	"fmt"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/index"
	"github.com/argusmon/argus/tsdb/tombstones"
)

// Delete marks deleted the samples in [mint, maxt] of the series matching
// ms, as Prometheus does: each interval is clamped to the series' own time
// range, the tombstones file is rewritten atomically and meta.json records
// the new count. Queriers opened afterwards skip the deleted samples; the
// data stays in the chunks until the block is rewritten. It returns the
// number of series that got a tombstone.
func (b *Block) Delete(ctx context.Context, mint, maxt int64, ms ...*labels.Matcher) (int, error) {
	if err := b.acquire(); err != nil {
		return 0, err
	}
	defer b.release()
	b.delMu.Lock()
	defer b.delMu.Unlock()

	p, err := postingsForMatchers(b.index, ms)
	if err != nil {
		return 0, fmt.Errorf("block %s: select series to delete: %w", b.meta.ULID, err)
	}
	added := map[storage.SeriesRef]tombstones.Interval{}
	var (
		builder labels.ScratchBuilder
		chks    []index.ChunkMeta
	)
	for n := 0; p.Next(); n++ {
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		ref := p.At()
		if _, err := b.index.Series(ref, &builder, &chks); err != nil {
			return 0, fmt.Errorf("block %s: %w", b.meta.ULID, err)
		}
		for _, c := range chks {
			if c.MaxTime >= mint && c.MinTime <= maxt {
				// Only up to the series' own samples, so that the interval
				// stays meaningful and small.
				added[ref] = tombstones.Interval{Mint: max(mint, chks[0].MinTime), Maxt: min(maxt, chks[len(chks)-1].MaxTime)}
				break
			}
		}
	}
	if err := p.Err(); err != nil {
		return 0, fmt.Errorf("block %s: postings: %w", b.meta.ULID, err)
	}
	if len(added) == 0 {
		return 0, nil
	}

	// The file is written from a copy: if writing fails, queries keep
	// seeing what is on disk.
	next := tombstones.NewMemTombstones()
	_ = b.tombstones.Iter(func(ref storage.SeriesRef, ivs tombstones.Intervals) error {
		next.AddInterval(ref, ivs...)
		return nil
	})
	for ref, in := range added {
		next.AddInterval(ref, in)
	}
	if _, err := tombstones.WriteFile(b.dir, next); err != nil {
		return 0, fmt.Errorf("block %s: %w", b.meta.ULID, err)
	}
	for ref, in := range added {
		b.tombstones.AddInterval(ref, in)
	}
	b.metaMu.Lock()
	b.meta.Stats.NumTombstones = next.Total()
	meta := b.meta
	b.metaMu.Unlock()
	if err := WriteMeta(b.dir, &meta); err != nil {
		// The tombstones are in place; only the count in meta.json is stale.
		return len(added), errors.Join(fmt.Errorf("block %s: update tombstone count", b.meta.ULID), err)
	}
	return len(added), nil
}

// NumTombstones returns the number of deleted intervals the block holds.
func (b *Block) NumTombstones() uint64 { return b.tombstones.Total() }
