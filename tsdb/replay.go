package tsdb

import (
	"fmt"
	"log/slog"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/chunkenc"
	"github.com/argusmon/argus/tsdb/headchunks"
	"github.com/argusmon/argus/tsdb/record"
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
	// mmapped holds the chunks found in chunks_head by series reference
	// until the WAL creates the series.
	mmapped map[storage.SeriesRef][]headChunk
	readBuf []byte
	// byRef resolves the dense references of a WAL without the series set's
	// locks and maps: replay looks up every sample's series.
	byRef   []*memSeries
	workers *replayWorkers // nil until the first sample, and after wait

	numSeries, numSamples, oooSamples int
	numChunks, skippedChunks          int
	unknownRefs, skippedRecords       int
	tooOld                            int
	skippedTypes                      map[record.Type]int
}

func newReplayer(db *DB) *replayer {
	return &replayer{
		db:           db,
		multiRef:     map[storage.SeriesRef]storage.SeriesRef{},
		mmapped:      map[storage.SeriesRef][]headChunk{},
		skippedTypes: map[record.Type]int{},
	}
}

// mmappedChunk collects a chunk found in chunks_head. Out-of-order chunks
// and other encodings (Prometheus's histograms) are skipped: Argus
// recovers out-of-order samples from the WBL.
func (r *replayer) mmappedChunk(c headchunks.Chunk) error {
	ref := storage.SeriesRef(c.SeriesRef)
	list := r.mmapped[ref]
	if c.OutOfOrder || !chunkenc.Encoding(c.Encoding).IsFloat() || (len(list) > 0 && c.MinT <= list[len(list)-1].maxT) {
		r.skippedChunks++
		return nil
	}
	r.mmapped[ref] = append(list, headChunk{minT: c.MinT, maxT: c.MaxT, ref: c.Ref})
	r.numChunks++
	return nil
}

// attachChunks gives a series created from the WAL its chunks on disk. A
// replay worker then restores the series' newest sample from the last one.
func (r *replayer) attachChunks(s *memSeries) {
	list, ok := r.mmapped[s.ref]
	if !ok {
		return
	}
	delete(r.mmapped, s.ref)
	// A truncation dropped the chunks before the minimum valid time (read
	// from the checkpoint, before any series) but may have left their files.
	minValid := r.db.minValid.Load()
	for len(list) > 0 && list[0].maxT < minValid {
		list = list[1:]
	}
	if len(list) == 0 {
		return
	}
	s.chunks = list
	r.db.bumpMaxT(list[len(list)-1].maxT)
	r.queue(s, replayAttach, 0, 0)
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
		var err error
		r.samples, err = r.dec.Samples(rec, r.samples[:0])
		if err != nil {
			return fmt.Errorf("WAL: %w", err)
		}
		for _, rs := range r.samples {
			r.addSample(rs, true)
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
	if existing := db.series.getByHash(hash, rs.Labels); existing != nil {
		if existing.ref != rs.Ref {
			r.multiRef[rs.Ref] = existing.ref
		}
		return
	}
	if db.series.getByRef(rs.Ref) != nil {
		// The reference is taken by other labels: the log is inconsistent.
		r.skippedRecords++
		return
	}
	s, created := db.series.getOrCreate(hash, rs.Labels, func() storage.SeriesRef { return rs.Ref })
	if created {
		db.postings.add(s.ref, s.lset)
		db.numSer.Add(1)
		db.metrics.seriesCreated.Inc()
		r.numSeries++
		r.attachChunks(s)
		if rs.Ref < maxDenseRef {
			if int(rs.Ref) >= len(r.byRef) {
				r.byRef = append(r.byRef, make([]*memSeries, int(rs.Ref)+1-len(r.byRef))...)
			}
			r.byRef[rs.Ref] = s
		}
	}
	s.logged = true
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
	if m, ok := r.multiRef[ref]; ok {
		ref = m
	}
	var s *memSeries
	if int(ref) < len(r.byRef) {
		s = r.byRef[ref]
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
	r.skippedChunks += c.badChunks
	r.workers = nil
}

func (r *replayer) report(logger *slog.Logger) {
	logger.Info("Replayed write logs", "dir", r.db.dir, "series", r.numSeries,
		"samples", r.numSamples, "out_of_order_samples", r.oooSamples, "mmapped_chunks", r.numChunks)
	if n := len(r.mmapped); n > 0 {
		logger.Info("Ignored head chunks of series not in the WAL (removed by truncation)", "series", n)
	}
	if r.skippedChunks > 0 {
		logger.Warn("Skipped unsupported or inconsistent head chunks", "chunks", r.skippedChunks)
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
	r.series, r.samples, r.multiRef, r.mmapped, r.byRef = nil, nil, nil, nil, nil
}
