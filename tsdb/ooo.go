package tsdb

import (
	"math"

	"github.com/argusmon/argus/storage"
)

// Out-of-order samples older than the head's minimum valid time.
//
// Prometheus accepts a sample older than what the head still holds in
// order (the newest block cut from it) into its out-of-order head, as long
// as it is within the out-of-order window of the head's newest sample, and
// writes such samples out as blocks of their own, which may overlap older
// blocks, when it next compacts the head. Argus does the same: such a
// sample goes into its series' out-of-order samples and the WBL (the WAL
// checkpoint drops it, being older than the checkpoint's minimum time),
// queries read the head down to the oldest of them, and compactOOO writes
// them out as blocks after the head is cut, then truncates the WBL.

// oooReference is the newest time the out-of-order window is measured from
// for a sample older than the head's minimum valid time: the head's newest
// in-order sample or, if the head is still empty (just after a restart),
// the minimum valid time itself, the end of the data the blocks hold.
func (db *DB) oooReference(maxT int64) int64 {
	return max(maxT, db.minValid.Load())
}

// checkBelowMinValid says whether Append takes a sample older than the
// head's minimum valid time, counting the rejection if not. Without an
// out-of-order window the answer is storage.ErrOutOfBounds, as before.
func (db *DB) checkBelowMinValid(t int64) error {
	win := db.oooWin.Load()
	if win == 0 {
		db.metrics.rejectedOutOfBounds.Inc()
		return storage.ErrOutOfBounds
	}
	if t < oooBoundary(db.oooReference(db.maxT.Load()), win) {
		db.metrics.rejectedTooOld.Inc()
		return storage.ErrTooOldSample
	}
	return nil
}

// judgeBelowMinValid is checkBelowMinValid at commit time, against the head
// as this commit leaves it (newest time maxT): the sample goes out of order
// or is rejected, and the rejection is counted.
func (db *DB) judgeBelowMinValid(t, maxT, win int64) uint8 {
	if win > 0 && t >= oooBoundary(db.oooReference(maxT), win) {
		return verdictOutOfOrder
	}
	if win > 0 {
		db.metrics.rejectedTooOld.Inc()
	} else {
		db.metrics.rejectedOutOfBounds.Inc()
	}
	return verdictReject
}

// noteOOO lowers the bound on the head's oldest out-of-order sample to t.
// Callers hold commitMu (or replay, before the DB is shared), which
// refreshOOOMinT relies on.
func (db *DB) noteOOO(t int64) {
	if t < db.oooMinT.Load() {
		db.oooMinT.Store(t)
	}
	db.oooNotes++
}

// headReadFloor is the oldest time a read of the head must cover, given
// floor, the time below which its in-order data is in blocks: lower when
// out-of-order samples older than floor await compaction.
func (db *DB) headReadFloor(floor int64) int64 {
	return min(floor, db.oooMinT.Load())
}

// scanOOOMinT returns the oldest out-of-order sample in the head
// (math.MaxInt64 if none).
func (db *DB) scanOOOMinT() int64 {
	oldest := int64(math.MaxInt64)
	db.series.each(func(s *memSeries) bool {
		s.mu.Lock()
		if ooo := s.oooList(); len(ooo) > 0 {
			oldest = min(oldest, ooo[0].t)
		}
		s.mu.Unlock()
		return true
	})
	return oldest
}

// refreshOOOMinT raises the bound on the head's oldest out-of-order sample
// to its true value after compaction removed samples. A commit that noted
// an older sample during the scan keeps the bound where it put it: a bound
// too low costs queries a little work, one too high would hide samples.
func (db *DB) refreshOOOMinT() {
	db.commitMu.Lock()
	notes := db.oooNotes
	db.commitMu.Unlock()
	oldest := db.scanOOOMinT()
	db.commitMu.Lock()
	if db.oooNotes == notes {
		db.oooMinT.Store(oldest)
	}
	db.commitMu.Unlock()
}
