package tsdb

import (
	"fmt"
	"log/slog"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/record"
)

// replayer rebuilds the head from WAL and WBL records at Open.
type replayer struct {
	db  *DB
	dec record.Decoder

	series  []record.RefSeries
	samples []record.RefSample
	// multiRef maps a WAL reference to the series it resolved to when the
	// same labels were logged under more than one reference (Prometheus can
	// do that after a restart without a checkpoint).
	multiRef map[storage.SeriesRef]storage.SeriesRef

	numSeries, numSamples, oooSamples int
	unknownRefs, skippedRecords       int
	skippedTypes                      map[record.Type]int
}

func newReplayer(db *DB) *replayer {
	return &replayer{db: db, multiRef: map[storage.SeriesRef]storage.SeriesRef{}, skippedTypes: map[record.Type]int{}}
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
			r.addSample(rs)
		}
	default:
		// Tombstones, exemplars, metadata and histograms from a Prometheus
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
		r.addSample(rs)
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
	}
	s.logged = true
}

// addSample applies a logged sample. The log holds only samples that a
// commit accepted, so one older than the series' newest is an accepted
// out-of-order sample, whatever the window is now.
func (r *replayer) addSample(rs record.RefSample) {
	ref := rs.Ref
	if m, ok := r.multiRef[ref]; ok {
		ref = m
	}
	s := r.db.series.getByRef(ref)
	if s == nil {
		r.unknownRefs++
		return
	}
	s.mu.Lock()
	switch {
	case !s.hasInOrder() || rs.T > s.lastT:
		s.appendInOrder(rs.T, rs.V)
		r.db.bumpMaxT(rs.T)
		r.numSamples++
	case rs.T == s.lastT:
		// A repeat, or the WBL copy of a sample the WAL already gave.
	default:
		if inserted, _ := s.insertOOO(rs.T, rs.V); inserted {
			r.oooSamples++
			r.numSamples++
		}
	}
	s.mu.Unlock()
}

func (r *replayer) report(logger *slog.Logger) {
	logger.Info("Replayed write logs", "dir", r.db.dir, "series", r.numSeries,
		"samples", r.numSamples, "out_of_order_samples", r.oooSamples)
	if r.unknownRefs > 0 {
		logger.Warn("Dropped logged samples of unknown series", "samples", r.unknownRefs)
	}
	if r.skippedRecords > 0 {
		logger.Warn("Skipped invalid series in the WAL", "series", r.skippedRecords)
	}
	for typ, n := range r.skippedTypes {
		logger.Warn("Skipped unsupported write log records", "type", int(typ), "records", n)
	}
	r.series, r.samples, r.multiRef = nil, nil, nil
}
