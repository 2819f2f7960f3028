package tsdb

import (
	"fmt"
	"log/slog"
	"math"
	"slices"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/chunkenc"
	"github.com/argusmon/argus/tsdb/headchunks"
	"github.com/argusmon/argus/tsdb/record"
	"github.com/argusmon/argus/tsdb/wlog"
)

// maxDenseRef bounds the references replay indexes in a slice; others
// (possible in a Prometheus WAL after many restarts) go through the series
// set.
const maxDenseRef = 1 << 22

// replayer rebuilds the head from WAL and WBL records at Open.
type replayer struct {
	db  *DB
	dec record.Decoder

	series  []record.RefSeries
	samples []record.RefSample
	stones  []stone
	// multiRef maps a WAL reference to the series it resolved to when the
	// same labels were logged under more than one reference (Prometheus can
	// do that after a restart without a checkpoint).
	multiRef map[storage.SeriesRef]storage.SeriesRef
	// mm holds the chunks found in chunks_head until the WAL creates their
	// series.
	mm mmChunks
	// byRef resolves the dense references of a WAL without the series set's
	// locks and maps: replay looks up every sample's series.
	byRef   []replaySeries
	workers *replayWorkers // nil until the first sample, and after wait
	// attached are the series given chunks, for finishChunks.
	attached []attachedSeries

	numSeries, numSamples, oooSamples int
	numChunks, badChunks              int
	unknownRefs, skippedRecords       int
	tooOld                            int
	skippedTypes                      map[record.Type]int
}

// replaySeries is a series created by replay and the newest timestamp of
// its chunks on disk: the WAL's samples up to it are already there.
type replaySeries struct {
	s      *memSeries
	inDisk int64
}

type attachedSeries struct {
	s     *memSeries
	group int32
}

func newReplayer(db *DB) *replayer {
	return &replayer{
		db:           db,
		multiRef:     map[storage.SeriesRef]storage.SeriesRef{},
		skippedTypes: map[record.Type]int{},
	}
}

// mmappedChunk collects a chunk found in chunks_head.
func (r *replayer) mmappedChunk(c headchunks.Chunk) error { return r.mm.add(c) }

// loadChunks indexes the chunks found in chunks_head by series.
func (r *replayer) loadChunks() {
	r.mm.index()
	// The series of the chunks are most of those the WAL creates.
	r.byRef = make([]replaySeries, 0, len(r.mm.dense))
}

// attachChunks gives a series created from the WAL its chunks on disk and
// returns their newest timestamp (MinInt64 if none). The series is not yet
// shared with the replay workers.
func (r *replayer) attachChunks(s *memSeries) int64 {
	list, group := r.mm.take(s.ref)
	// A truncation dropped the chunks before the minimum valid time (read
	// from the checkpoint, before any series) but may have left their files.
	minValid := r.db.minValid.Load()
	for len(list) > 0 && list[0].maxT < minValid {
		list = list[1:]
	}
	if len(list) == 0 {
		return math.MinInt64
	}
	last := list[len(list)-1].maxT
	s.chunks = list
	// The value comes with finishChunks, if no newer sample does: replay
	// compares timestamps only.
	s.lastT = last
	// Replay keeps the newest timestamp on disk in the series, for the
	// samples of the WAL to be compared with.
	s.nextT, s.nextHas = last, true
	r.numChunks += len(list)
	r.attached = append(r.attached, attachedSeries{s: s, group: int32(group)})
	return last
}

// finishChunks restores the newest value of the series whose newest
// sample is on disk, from their last chunk. A series whose last chunk
// cannot be read loses its chunks and has every sample of the WAL in dir
// replayed again. Callers have waited for the replay workers.
func (r *replayer) finishChunks(dir string) error {
	bad := r.mm.verify(r.db.chunks, r.attached)
	var only map[storage.SeriesRef]*memSeries
	for _, b := range bad {
		s := r.attached[b.i].s
		if only == nil {
			only = map[storage.SeriesRef]*memSeries{}
		}
		only[s.ref] = s
		r.badChunks += len(s.chunks)
		r.db.logger.Warn("Drop the head chunks of a series whose last chunk cannot be read; replaying its samples from the WAL",
			"series", s.lset.String(), "err", b.err)
		resetSeries(s)
	}
	// The head's newest timestamp counts only chunks that could be read.
	maxT := int64(math.MinInt64)
	for _, a := range r.attached {
		if n := len(a.s.chunks); n > 0 {
			maxT = max(maxT, a.s.chunks[n-1].maxT)
		}
	}
	r.db.bumpMaxT(maxT)
	r.attached = nil
	if len(only) == 0 {
		return nil
	}
	err := wlog.ReadAll(dir, func(rec []byte) error { return r.refillRecord(rec, only) })
	r.wait()
	if err != nil {
		return fmt.Errorf("replay the WAL again for series with unreadable head chunks: %w", err)
	}
	return nil
}

// resetSeries empties a series whose samples are replayed again.
func resetSeries(s *memSeries) {
	s.chunks, s.ooo = nil, nil
	s.head, s.app, s.hasHead = chunkenc.XORChunk{}, chunkenc.XORAppender{}, false
	s.lastT, s.lastV = math.MinInt64, 0
	s.nextT, s.nextHas = 0, false
}

// refillRecord queues the samples of rec that belong to the series of only.
func (r *replayer) refillRecord(rec []byte, only map[storage.SeriesRef]*memSeries) error {
	if record.GetType(rec) != record.Samples {
		return nil
	}
	var err error
	if r.samples, err = r.dec.Samples(rec, r.samples[:0]); err != nil {
		return fmt.Errorf("WAL: %w", err)
	}
	for _, rs := range r.samples {
		ref := rs.Ref
		if m, ok := r.multiRef[ref]; ok {
			ref = m
		}
		if s := only[ref]; s != nil && rs.T >= r.db.minValid.Load() {
			r.queue(s, replayWALSample, rs.T, rs.V)
		}
	}
	return nil
}

func (r *replayer) queue(s *memSeries, kind uint8, t int64, v float64) {
	if r.workers == nil {
		r.workers = newReplayWorkers(r.db)
	}
	r.workers.add(replayItem{s: s, kind: kind, t: t, v: v})
}

func (r *replayer) walRecord(rec []byte) error {
	switch typ := record.GetType(rec); typ {
	case record.Series:
		var err error
		r.series, err = r.dec.Series(rec, r.series[:0])
		if err != nil {
			return fmt.Errorf("WAL: %w", err)
		}
		for _, rs := range r.series {
			r.addSeries(rs)
		}
	case record.Samples:
		it, err := r.dec.SampleIterator(rec)
		if err != nil {
			return fmt.Errorf("WAL: %w", err)
		}
		// The samples already in chunks on disk, most of them after a
		// restart, are dropped here without a call.
		minValid, direct := r.db.minValid.Load(), len(r.multiRef) == 0
		for {
			rs, ok := it.Next()
			if !ok {
				break
			}
			if direct && int(rs.Ref) < len(r.byRef) && rs.T >= minValid {
				if e := &r.byRef[rs.Ref]; e.s != nil && rs.T <= e.inDisk {
					continue
				}
			}
			r.addSample(rs, true)
		}
		// A malformed record fails Open: what it applied does not matter.
		if err := it.Err(); err != nil {
			return fmt.Errorf("WAL: %w", err)
		}
	case record.MinValidTime:
		t, err := r.dec.MinValidTime(rec)
		if err != nil {
			return fmt.Errorf("WAL: %w", err)
		}
		if t > r.db.minValid.Load() {
			r.db.minValid.Store(t)
		}
	case recordTombstones:
		var err error
		r.stones, err = decodeTombstones(rec, r.stones[:0])
		if err != nil {
			return fmt.Errorf("WAL: %w", err)
		}
		for _, s := range r.stones {
			ref := s.ref
			if m, ok := r.multiRef[ref]; ok {
				ref = m
			}
			r.db.headTombs.AddInterval(ref, s.in)
		}
	default:
		// Exemplars, metadata and histograms from a Prometheus
		// WAL are not supported yet; they are skipped, not fatal.
		r.skippedTypes[typ]++
	}
	return nil
}

func (r *replayer) wblRecord(rec []byte) error {
	if record.GetType(rec) != record.Samples {
		// Prometheus's WBL also holds mmap markers, meaningless here.
		r.skippedTypes[record.GetType(rec)]++
		return nil
	}
	var err error
	r.samples, err = r.dec.Samples(rec, r.samples[:0])
	if err != nil {
		return fmt.Errorf("WBL: %w", err)
	}
	for _, rs := range r.samples {
		r.addSample(rs, false)
	}
	return nil
}

func (r *replayer) addSeries(rs record.RefSeries) {
	db := r.db
	if err := validateLabels(rs.Labels); err != nil || rs.Ref == 0 {
		r.skippedRecords++
		return
	}
	// Later series must get references above every logged one.
	for cur := db.lastRef.Load(); uint64(rs.Ref) > cur; cur = db.lastRef.Load() {
		if db.lastRef.CompareAndSwap(cur, uint64(rs.Ref)) {
			break
		}
	}
	hash := rs.Labels.Hash()
	if taken := r.seriesAt(rs.Ref); taken != nil {
		if labels.Equal(taken.lset, rs.Labels) {
			return
		}
		// The reference is taken by other labels: the log is inconsistent,
		// unless these labels were logged before under another reference.
		if existing := db.series.getByHash(hash, rs.Labels); existing != nil {
			r.multiRef[rs.Ref] = existing.ref
			return
		}
		r.skippedRecords++
		return
	}
	s, created := db.series.getOrCreate(hash, rs.Labels, func() storage.SeriesRef { return rs.Ref })
	if !created {
		// The same labels were logged before under another reference.
		r.multiRef[rs.Ref] = s.ref
		return
	}
	db.postings.add(s.ref, s.lset)
	db.numSer.Add(1)
	db.metrics.seriesCreated.Inc()
	r.numSeries++
	inDisk := r.attachChunks(s)
	if rs.Ref < maxDenseRef {
		if int(rs.Ref) >= len(r.byRef) {
			r.byRef = slices.Grow(r.byRef, int(rs.Ref)+1-len(r.byRef))
			r.byRef = r.byRef[:int(rs.Ref)+1]
		}
		r.byRef[rs.Ref] = replaySeries{s: s, inDisk: inDisk}
	}
	s.logged = true
}

// seriesAt returns the series replay created with reference ref, if any.
func (r *replayer) seriesAt(ref storage.SeriesRef) *memSeries {
	if ref < maxDenseRef {
		if int(ref) < len(r.byRef) {
			return r.byRef[ref].s
		}
		return nil
	}
	return r.db.series.getByRef(ref)
}

// addSample queues a logged sample for its series. A WAL sample older than
// the head's minimum valid time was truncated away; a WBL one is an
// out-of-order sample not compacted yet.
func (r *replayer) addSample(rs record.RefSample, fromWAL bool) {
	belowMin := rs.T < r.db.minValid.Load()
	if belowMin && fromWAL {
		r.tooOld++
		return
	}
	ref := rs.Ref
	if len(r.multiRef) > 0 {
		if m, ok := r.multiRef[ref]; ok {
			ref = m
		}
	}
	var s *memSeries
	if int(ref) < len(r.byRef) {
		e := &r.byRef[ref]
		if fromWAL && rs.T <= e.inDisk && e.s != nil {
			// Already in a chunk on disk: most of a WAL, after a restart.
			return
		}
		s = e.s
	} else {
		s = r.db.series.getByRef(ref)
	}
	if s == nil {
		r.unknownRefs++
		return
	}
	if belowMin {
		r.replayBelowMinValid(s, rs)
		return
	}
	kind := replayWBLSample
	if fromWAL {
		kind = replayWALSample
	}
	r.queue(s, kind, rs.T, rs.V)
}

// wait applies every queued sample. Open calls it after each log, so that
// the WBL's samples land after the WAL's, and on failure, so that no
// worker outlives it.
func (r *replayer) wait() {
	if r.workers == nil {
		return
	}
	c := r.workers.stop()
	r.numSamples += c.samples
	r.oooSamples += c.ooo
	r.workers = nil
}

func (r *replayer) report(logger *slog.Logger) {
	logger.Info("Replayed write logs", "dir", r.db.dir, "series", r.numSeries,
		"samples", r.numSamples, "out_of_order_samples", r.oooSamples, "mmapped_chunks", r.numChunks)
	if n := r.mm.left(); n > 0 {
		logger.Info("Ignored head chunks of series not in the WAL (removed by truncation)", "series", n)
	}
	if n := r.mm.skipped + r.badChunks; n > 0 {
		logger.Warn("Skipped unsupported, inconsistent or unreadable head chunks", "chunks", n)
	}
	if r.tooOld > 0 {
		logger.Info("Dropped logged samples older than the truncated head", "samples", r.tooOld)
	}
	if r.unknownRefs > 0 {
		logger.Warn("Dropped logged samples of unknown series", "samples", r.unknownRefs)
	}
	if r.skippedRecords > 0 {
		logger.Warn("Skipped invalid series in the WAL", "series", r.skippedRecords)
	}
	for typ, n := range r.skippedTypes {
		logger.Warn("Skipped unsupported write log records", "type", int(typ), "records", n)
	}
	r.series, r.samples, r.multiRef, r.mm, r.byRef = nil, nil, nil, mmChunks{}, nil
}
