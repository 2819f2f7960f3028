package tsdb

import "github.com/argusmon/argus/tsdb/record"

// replayBelowMinValid restores from the WBL an out-of-order sample older
// than the head's minimum valid time: one accepted after the head was cut
// past it and not compacted into a block yet (or compacted just before a
// crash kept the WBL from being truncated, a copy the merge of blocks and
// head reads once). It goes straight to the series' out-of-order samples:
// no replay worker may append it in order, below what the blocks hold.
func (r *replayer) replayBelowMinValid(s *memSeries, rs record.RefSample) {
	s.mu.Lock()
	inserted, _ := s.insertOOO(rs.T, rs.V)
	s.mu.Unlock()
	if inserted {
		r.oooSamples++
		r.numSamples++
	}
}
