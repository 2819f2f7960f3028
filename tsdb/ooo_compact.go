package tsdb

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/block"
	"github.com/argusmon/argus/tsdb/record"
	"github.com/argusmon/argus/tsdb/tombstones"
)

// oooHint is Prometheus's compaction hint for a block written from
// out-of-order samples only. Prometheus, and Argus, leave such blocks out
// when working out from the blocks how far the head was cut.
const oooHint = "from-out-of-order"

func isOOOBlock(m block.Meta) bool { return slices.Contains(m.Compaction.Hints, oooHint) }

// oooSeries is a series' out-of-order samples older than the compaction's
// floor, copied from the head.
type oooSeries struct {
	s       *memSeries
	samples []sample // sorted by timestamp
	dels    tombstones.Intervals
}

// compactOOO writes the head's out-of-order samples older than its minimum
// valid time as blocks, one per block range they fall in (aligned as the
// blocks cut from the head are, and possibly overlapping them: queries
// merge overlapping blocks and compaction merges them into one), removes
// them from the head, and deletes the WBL segments it no longer needs.
//
// Every out-of-order sample in those segments is either one of the samples
// written here or is at or after the minimum valid time and logged again to
// the new segment first (relogOOO): WAL replay takes out-of-order samples
// from the WBL only. Compact calls this after cutting the head, as
// Prometheus compacts its out-of-order head after the in-order one.
func (db *DB) compactOOO(ctx context.Context) error {
	// Every commit logged to the segments before seg has been applied:
	// commits hold commitMu from logging to applying.
	db.commitMu.Lock()
	if db.closed.Load() {
		db.commitMu.Unlock()
		return storage.ErrClosed
	}
	floor := db.minValid.Load()
	seg, err := db.wbl.NextSegment()
	if err != nil {
		err = fmt.Errorf("start a WBL segment: %w", err)
	} else {
		err = db.relogOOO(floor)
	}
	db.commitMu.Unlock()
	if err != nil {
		return fmt.Errorf("compact out-of-order samples: %w", err)
	}

	snap, err := db.snapshotOOO(ctx, floor)
	if err != nil {
		return fmt.Errorf("compact out-of-order samples: %w", err)
	}
	if len(snap) > 0 {
		start := time.Now()
		bs, err := db.writeOOOBlocks(ctx, snap, floor)
		if err != nil {
			return fmt.Errorf("compact out-of-order samples older than %d: %w", floor, err)
		}
		db.swapBlocks(bs, nil, math.MinInt64)
		db.metrics.compactions.Add(float64(len(bs)))
		db.logger.Info("Wrote out-of-order samples as blocks", "before", floor, "series", len(snap),
			"blocks", len(bs), "duration", time.Since(start))
		// A querier opened before the swap reads these samples from the
		// head, and only when it gets to their series.
		if err := db.waitForReaders(ctx, floor); err != nil {
			return fmt.Errorf("compact out-of-order samples: remove them from the head: %w", err)
		}
		dropCompactedOOO(snap)
	}
	if db.oooMinT.Load() < floor {
		db.refreshOOOMinT()
	}
	if err := db.wbl.Truncate(seg); err != nil {
		return fmt.Errorf("compact out-of-order samples: truncate WBL before segment %d: %w", seg, err)
	}
	return nil
}

// relogOOO logs the head's out-of-order samples at or after floor to the
// WBL segment just started, so that deleting the segments before it loses
// none of the samples compaction leaves in the head. Callers hold commitMu,
// so no commit logs to the WBL meanwhile.
func (db *DB) relogOOO(floor int64) error {
	const batch = 10_000 // samples per record, to keep records to a few pages
	var (
		recs []record.RefSample
		buf  []byte
		err  error
	)
	flush := func() {
		buf = record.EncodeSamples(recs, buf[:0])
		err = db.wbl.Log(buf)
		recs = recs[:0]
	}
	db.series.each(func(s *memSeries) bool {
		s.mu.Lock()
		j, _ := s.findOOO(floor)
		for _, smp := range s.oooList()[j:] {
			recs = append(recs, record.RefSample{Ref: s.ref, T: smp.t, V: smp.v})
		}
		s.mu.Unlock()
		if len(recs) >= batch {
			flush()
		}
		return err == nil
	})
	if err == nil && len(recs) > 0 {
		flush()
	}
	if err != nil {
		return fmt.Errorf("log the out-of-order samples kept in the head again: %w", err)
	}
	return nil
}

// snapshotOOO copies the out-of-order samples older than floor of every
// head series, label-sorted.
func (db *DB) snapshotOOO(ctx context.Context, floor int64) ([]oooSeries, error) {
	if floor == math.MinInt64 || db.oooMinT.Load() >= floor {
		return nil, nil
	}
	var snap []oooSeries
	var err error
	n := 0
	db.series.each(func(s *memSeries) bool {
		if n++; n%ctxCheckEvery == 0 {
			if err = ctx.Err(); err != nil {
				return false
			}
		}
		s.mu.Lock()
		if j, _ := s.findOOO(floor); j > 0 {
			snap = append(snap, oooSeries{s: s, samples: slices.Clone(s.oooList()[:j])})
		}
		s.mu.Unlock()
		return true
	})
	if err != nil {
		return nil, err
	}
	for i := range snap {
		snap[i].dels = db.headTombs.Get(snap[i].s.ref)
	}
	slices.SortFunc(snap, func(a, b oooSeries) int { return labels.Compare(a.s.lset, b.s.lset) })
	return snap, nil
}

// writeOOOBlocks writes snap's samples as one block per block range they
// fall in, ending at floor at the latest, and opens the blocks. On failure
// it deletes the blocks it wrote.
func (db *DB) writeOOOBlocks(ctx context.Context, snap []oooSeries, floor int64) ([]*block.Block, error) {
	var starts []int64
	for _, o := range snap {
		for _, smp := range o.samples {
			starts = append(starts, smp.t-floorMod(smp.t, db.blockRange))
		}
	}
	slices.Sort(starts)
	starts = slices.Compact(starts)

	var out []*block.Block
	for _, mint := range starts {
		maxt := min(mint+db.blockRange, floor)
		src := &chunkSource{set: &oooSeriesSet{snap: snap, mint: mint, maxt: maxt, idx: -1}}
		b, err := db.writeBlock(ctx, mint, maxt, src, block.Compaction{Hints: []string{oooHint}})
		if err != nil {
			for _, b := range out {
				err = errors.Join(err, b.Close(), removeBlockDir(b.Dir()))
			}
			return nil, fmt.Errorf("write block [%d, %d): %w", mint, maxt, err)
		}
		if b != nil {
			out = append(out, b)
		}
	}
	return out, nil
}

// dropCompactedOOO removes from each series the out-of-order samples snap
// copied, which are now in blocks. Samples added since stay, even at the
// same timestamps: the head keeps the first sample for a timestamp, so a
// later one there was rejected.
func dropCompactedOOO(snap []oooSeries) {
	for _, o := range snap {
		s := o.s
		s.mu.Lock()
		ooo := s.oooList()
		kept := make([]sample, 0, max(len(ooo)-len(o.samples), 0))
		j := 0
		for _, smp := range ooo {
			for j < len(o.samples) && o.samples[j].t < smp.t {
				j++
			}
			if j < len(o.samples) && o.samples[j].t == smp.t {
				continue
			}
			kept = append(kept, smp)
		}
		if len(kept) == 0 {
			s.ooo = nil
		} else {
			s.ooo.s = kept
		}
		s.mu.Unlock()
	}
}

// oooSeriesSet is a label-sorted series set over the samples of a snapshot
// in [mint, maxt), leaving out deleted samples and series without samples
// there.
type oooSeriesSet struct {
	snap       []oooSeries
	mint, maxt int64
	idx        int
	cur        []sample
}

func (ss *oooSeriesSet) Next() bool {
	for ss.idx+1 < len(ss.snap) {
		ss.idx++
		o := &ss.snap[ss.idx]
		ss.cur = ss.cur[:0]
		for _, smp := range o.samples {
			if smp.t >= ss.mint && smp.t < ss.maxt && !o.dels.Covers(smp.t) {
				ss.cur = append(ss.cur, smp)
			}
		}
		if len(ss.cur) > 0 {
			return true
		}
	}
	return false
}

// At returns a series that owns its samples: callers may keep it past Next.
func (ss *oooSeriesSet) At() storage.Series {
	return &sliceSeries{lset: ss.snap[ss.idx].s.lset, samples: slices.Clone(ss.cur)}
}

func (ss *oooSeriesSet) Err() error { return nil }

// sliceSeries is a series over samples in memory.
type sliceSeries struct {
	lset    labels.Labels
	samples []sample
}

func (s *sliceSeries) Labels() labels.Labels { return s.lset }

func (s *sliceSeries) Iterator(storage.Iterator) storage.Iterator {
	return &sliceIterator{samples: s.samples, i: -1}
}

// sliceIterator iterates over sorted samples in memory.
type sliceIterator struct {
	samples []sample
	i       int
}

func (it *sliceIterator) Next() storage.ValueType {
	if it.i+1 >= len(it.samples) {
		it.i = len(it.samples)
		return storage.ValNone
	}
	it.i++
	return storage.ValFloat
}

func (it *sliceIterator) SeekTo(t int64) storage.ValueType {
	it.i = max(it.i, 0)
	for it.i < len(it.samples) && it.samples[it.i].t < t {
		it.i++
	}
	if it.i >= len(it.samples) {
		return storage.ValNone
	}
	return storage.ValFloat
}

func (it *sliceIterator) At() (int64, float64) { return it.samples[it.i].t, it.samples[it.i].v }
func (it *sliceIterator) AtT() int64           { return it.samples[it.i].t }
func (it *sliceIterator) Err() error           { return nil }
