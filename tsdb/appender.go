package tsdb

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/record"
)

// ErrInvalidLabels is returned by Append for a label set the head cannot
// index: empty, unsorted, with an empty or repeated name.
var ErrInvalidLabels = errors.New("invalid label set")

// What Commit decided for a buffered sample.
const (
	verdictInOrder uint8 = iota
	verdictOutOfOrder
	verdictSkip // repeat of the newest sample: a no-op, as in Prometheus
	verdictReject
)

// seriesState is a series' newest in-order sample as it will be once the
// samples judged so far in a commit apply.
type seriesState struct {
	t      int64
	v      float64
	has    bool
	queued bool // in this commit's Series record
}

type pendingSample struct {
	s       *memSeries
	t       int64
	v       float64
	verdict uint8
}

// appender buffers one batch. It is pooled by the DB: after Commit or
// Rollback it belongs to the next caller of DB.Appender.
type appender struct {
	db  *DB
	ctx context.Context

	samples []pendingSample

	// Commit scratch, kept across uses to avoid allocating per commit.
	// states[s.pending-1] is where series s stands while judge runs.
	states     []seriesState
	newSeries  []*memSeries
	walSeries  []record.RefSeries
	walSamples []record.RefSample
	wblSamples []record.RefSample
	seriesBuf  []byte
	samplesBuf []byte
	wblBuf     []byte
	recs       [][]byte
}

// Append validates and buffers a sample. It rejects at once what the
// committed head already rules out (storage.ErrOutOfOrderSample,
// storage.ErrTooOldSample, storage.ErrDuplicateSampleForTimestamp); the
// caller may skip that sample and carry on with the batch.
func (a *appender) Append(ref storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	belowMin := t < a.db.appendMinValid()
	if belowMin {
		if err := a.db.checkBelowMinValid(t); err != nil {
			return 0, err
		}
	}
	var s *memSeries
	if ref != 0 {
		s = a.db.series.getByRef(ref)
	}
	if s == nil {
		if err := validateLabels(l); err != nil {
			return 0, err
		}
		s = a.db.getOrCreate(l)
	}

	s.mu.Lock()
	has, lastT, lastV := s.hasInOrder(), s.lastT, s.lastV
	var oooDup, oooSame bool
	if (belowMin || has && t < lastT) && s.ooo != nil {
		if _, dup := s.findOOO(t); dup {
			oooDup = true
			oooSame = s.oooValueIs(t, v)
		}
	}
	s.mu.Unlock()

	// Below the minimum valid time only the out-of-order path is open, as
	// in Prometheus: checkBelowMinValid already applied its window.
	switch {
	case !belowMin && has && t == lastT:
		if math.Float64bits(v) == math.Float64bits(lastV) {
			return s.ref, nil
		}
		a.db.metrics.rejectedDuplicate.Inc()
		return 0, storage.ErrDuplicateSampleForTimestamp
	case !belowMin && has && t < lastT:
		if err := a.db.checkOutOfOrder(t); err != nil {
			return 0, err
		}
	}
	if oooDup {
		if oooSame {
			return s.ref, nil
		}
		a.db.metrics.rejectedDuplicate.Inc()
		return 0, storage.ErrDuplicateSampleForTimestamp
	}
	a.samples = append(a.samples, pendingSample{s: s, t: t, v: v})
	return s.ref, nil
}

// Commit writes the batch to the WAL (and its out-of-order part to the WBL),
// then applies it to the head. It returns nil once the samples are in the
// operating system's hands; if the WAL write fails, nothing is applied.
// Samples that a concurrent commit made invalid since Append are dropped
// and counted in argus_tsdb_samples_rejected_total, as Prometheus does.
func (a *appender) Commit() error {
	defer a.release()
	if len(a.samples) == 0 {
		return nil
	}
	if a.ctx != nil {
		if err := a.ctx.Err(); err != nil {
			return fmt.Errorf("commit: %w", err)
		}
	}
	db := a.db
	db.commitMu.Lock()
	defer db.commitMu.Unlock()
	if db.closed.Load() {
		return storage.ErrClosed
	}
	oldMaxT := db.maxT.Load()
	maxT := a.judge()

	a.recs = a.recs[:0]
	if len(a.walSeries) > 0 {
		a.seriesBuf = record.EncodeSeries(a.walSeries, a.seriesBuf[:0])
		a.recs = append(a.recs, a.seriesBuf)
	}
	if len(a.walSamples) > 0 {
		a.samplesBuf = record.EncodeSamples(a.walSamples, a.samplesBuf[:0])
		a.recs = append(a.recs, a.samplesBuf)
	}
	if len(a.recs) == 0 {
		return nil
	}
	if err := db.wal.Log(a.recs...); err != nil {
		return fmt.Errorf("commit %d samples: write WAL: %w", len(a.walSamples), err)
	}
	for _, s := range a.newSeries {
		s.logged = true
	}
	if len(a.wblSamples) > 0 {
		a.wblBuf = record.EncodeSamples(a.wblSamples, a.wblBuf[:0])
		if err := db.wbl.Log(a.wblBuf); err != nil {
			// The WAL already holds these samples durably and Argus's replay
			// recovers out-of-order samples from it, so the commit stands.
			db.metrics.wblWriteFailures.Inc()
			db.logger.Error("Write out-of-order samples to the WBL", "samples", len(a.wblSamples), "err", err)
		}
	}
	a.apply()
	db.bumpMaxT(maxT)
	if maxT > oldMaxT {
		db.kickCompaction(oldMaxT, maxT)
	}
	return nil
}

// judge decides every buffered sample against the head as it will be once
// the commits before this one and the earlier samples of this batch apply,
// and fills the WAL and WBL scratch. It returns the head's newest timestamp
// after this commit. Callers hold commitMu, which head truncation also
// takes: a series it removed since Append is looked up again by labels.
func (a *appender) judge() int64 {
	db := a.db
	win := db.oooWin.Load()
	maxT := db.maxT.Load()
	minValid := db.appendMinValid()
	a.newSeries, a.walSeries = a.newSeries[:0], a.walSeries[:0]
	a.walSamples, a.wblSamples = a.walSamples[:0], a.wblSamples[:0]
	a.states = a.states[:0]
	defer func() {
		for i := range a.samples {
			a.samples[i].s.pending = 0
		}
	}()

	for i := range a.samples {
		p := &a.samples[i]
		if p.s.deleted {
			p.s = db.getOrCreate(p.s.lset)
		}
		s := p.s
		below := p.t < minValid
		if below {
			// Only the out-of-order path is open below the minimum valid
			// time; judgeBelowMinValid counts a rejection.
			if p.verdict = db.judgeBelowMinValid(p.t, maxT, win); p.verdict == verdictReject {
				continue
			}
		}
		if s.pending == 0 {
			// First sample of this series in the commit: start from the
			// applied state (written only under commitMu, which we hold).
			a.states = append(a.states, seriesState{t: s.lastT, v: s.lastV, has: s.hasInOrder()})
			s.pending = uint32(len(a.states))
		}
		st := &a.states[s.pending-1]
		switch {
		case below:
		case !st.has || p.t > st.t:
			p.verdict = verdictInOrder
			st.t, st.v, st.has = p.t, p.v, true
			maxT = max(maxT, p.t)
		case p.t == st.t:
			if math.Float64bits(p.v) == math.Float64bits(st.v) {
				p.verdict = verdictSkip
			} else {
				p.verdict = verdictReject
				db.metrics.rejectedDuplicate.Inc()
			}
		case win > 0 && p.t >= oooBoundary(maxT, win):
			p.verdict = verdictOutOfOrder
		default:
			p.verdict = verdictReject
			if win > 0 {
				db.metrics.rejectedTooOld.Inc()
			} else {
				db.metrics.rejectedOutOfOrder.Inc()
				db.metrics.oooRejected.Inc()
			}
		}
		if p.verdict != verdictInOrder && p.verdict != verdictOutOfOrder {
			continue
		}
		if !s.logged && !st.queued {
			st.queued = true
			a.newSeries = append(a.newSeries, s)
			a.walSeries = append(a.walSeries, record.RefSeries{Ref: s.ref, Labels: s.lset})
		}
		rs := record.RefSample{Ref: s.ref, T: p.t, V: p.v}
		a.walSamples = append(a.walSamples, rs)
		if p.verdict == verdictOutOfOrder {
			a.wblSamples = append(a.wblSamples, rs)
		}
	}
	return maxT
}

// apply adds the judged samples to their series. Callers hold commitMu.
func (a *appender) apply() {
	var inOrder, ooo int
	for i := range a.samples {
		p := &a.samples[i]
		switch p.verdict {
		case verdictInOrder:
			p.s.mu.Lock()
			p.s.appendInOrder(p.t, p.v, &a.db.copts)
			p.s.mu.Unlock()
			inOrder++
		case verdictOutOfOrder:
			p.s.mu.Lock()
			inserted, dup := p.s.insertOOO(p.t, p.v)
			p.s.mu.Unlock()
			switch {
			case inserted:
				a.db.noteOOO(p.t)
				ooo++
			case dup:
				a.db.metrics.rejectedDuplicate.Inc()
			}
		}
	}
	a.db.metrics.samplesAppended.Add(float64(inOrder + ooo))
	a.db.metrics.oooAppended.Add(float64(ooo))
}

// Rollback discards the batch. Series it created stay in the head, empty.
func (a *appender) Rollback() error {
	a.release()
	return nil
}

// release clears the batch and returns the appender to the pool.
func (a *appender) release() {
	clear(a.samples)
	a.samples = a.samples[:0]
	clear(a.newSeries)
	a.newSeries = a.newSeries[:0]
	a.walSeries = a.walSeries[:0]
	a.ctx = nil
	// A huge batch should not pin its buffers forever.
	if cap(a.samples) > 1<<20 || cap(a.samplesBuf) > 64<<20 {
		*a = appender{db: a.db}
	}
	a.db.appenderPool.Put(a)
}

// getOrCreate returns the head series for lset, creating and indexing it.
func (db *DB) getOrCreate(lset labels.Labels) *memSeries {
	s, created := db.series.getOrCreate(lset.Hash(), lset, db.newRef)
	if created {
		db.postings.add(s.ref, lset)
		db.numSer.Add(1)
		db.metrics.seriesCreated.Inc()
	}
	return s
}

// checkOutOfOrder says whether a sample older than its series' newest one
// is accepted, counting the rejection if not.
func (db *DB) checkOutOfOrder(t int64) error {
	win := db.oooWin.Load()
	if win == 0 {
		db.metrics.rejectedOutOfOrder.Inc()
		db.metrics.oooRejected.Inc()
		return storage.ErrOutOfOrderSample
	}
	if t < oooBoundary(db.maxT.Load(), win) {
		db.metrics.rejectedTooOld.Inc()
		return storage.ErrTooOldSample
	}
	return nil
}

func validateLabels(l labels.Labels) error {
	if l.IsEmpty() {
		return fmt.Errorf("%w: empty label set", ErrInvalidLabels)
	}
	var (
		prev string
		err  error
		i    int
	)
	l.Range(func(lb labels.Label) {
		switch {
		case err != nil:
		case lb.Name == "":
			err = fmt.Errorf("%w: empty label name in %s", ErrInvalidLabels, l)
		case i > 0 && lb.Name == prev:
			err = fmt.Errorf("%w: duplicate label name %q in %s", ErrInvalidLabels, lb.Name, l)
		case i > 0 && lb.Name < prev:
			err = fmt.Errorf("%w: labels not sorted (%q after %q) in %s", ErrInvalidLabels, lb.Name, prev, l)
		}
		prev = lb.Name
		i++
	})
	return err
}

// oooBoundary is the oldest timestamp the out-of-order window of win
// milliseconds admits behind maxT, without overflowing.
func oooBoundary(maxT, win int64) int64 {
	if maxT < math.MinInt64+win {
		return math.MinInt64
	}
	return maxT - win
}

// appendMinValid is the oldest timestamp an append may have: nothing older
// than what the head was truncated to or is being cut into a block, and,
// without an out-of-order window, nothing more than half a block range
// behind the head's newest sample, as Prometheus rules, so that the range
// compaction will cut next is complete before it does.
func (db *DB) appendMinValid() int64 {
	mv := db.minValid.Load()
	if db.oooWin.Load() > 0 {
		return mv
	}
	if maxT := db.maxT.Load(); maxT > math.MinInt64+db.blockRange/2 {
		mv = max(mv, maxT-db.blockRange/2)
	}
	return mv
}
