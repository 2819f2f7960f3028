package tsdb

import (
	"cmp"
	"fmt"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/block"
	"github.com/argusmon/argus/tsdb/chunkenc"
)

// encodeChunks reads it to its end and encodes the samples into chunks in
// enc (EncXOR or EncXOR2), appended to dst. Re-encoding rather than copying
// chunks lets a block start and end exactly at its boundaries and merge the
// samples of several sources, and gives every chunk of a block the
// configured encoding whatever the head or the source blocks used.
//
// Chunks are cut where the head cuts them (memSeries.appendInOrder), which
// is where Prometheus's head does: at the chunkRange boundaries, at a time
// predicted to spread each range's samples evenly over chunks of about
// samplesPerChunk, at twice samplesPerChunk, or past 1 KiB. Prometheus's
// compaction copies its head's chunks, so a block holds the same chunks in
// both, and a series that starts or ends mid-range gets one longer chunk
// rather than a short extra one.
func encodeChunks(it storage.Iterator, enc chunkenc.Encoding, chunkRange int64, dst []block.Chunk) ([]block.Chunk, error) {
	var (
		c      *chunkenc.XORChunk
		app    *chunkenc.XORAppender
		cur    block.Chunk
		nextAt int64
	)
	flush := func() {
		if c != nil {
			cur.Data = c.Bytes()
			dst = append(dst, cur)
			c = nil
		}
	}
	for it.Next() == storage.ValFloat {
		t, v := it.At()
		if c != nil {
			n := c.NumSamples()
			if n == samplesPerChunk/4 {
				nextAt = computeChunkEndTime(cur.MinTime, cur.MaxTime, nextAt, 4)
			}
			if len(c.Bytes()) > maxBytesBeforeAppend || t >= nextAt || n >= 2*samplesPerChunk {
				flush()
			}
		}
		if c == nil {
			var err error
			if c, err = chunkenc.NewFloatChunk(enc); err != nil {
				return dst, err
			}
			app, _ = c.Appender() // an empty chunk never fails
			cur = block.Chunk{MinTime: t, Encoding: enc}
			nextAt = rangeForTimestamp(t, chunkRange)
		}
		if err := app.Append(t, v); err != nil {
			return dst, fmt.Errorf("encode sample at %d: %w", t, err)
		}
		cur.MaxTime = t
	}
	if err := it.Err(); err != nil {
		return dst, err
	}
	flush()
	return dst, nil
}

// chunkSource is a block.SeriesSource over a label-sorted series set, each
// series re-encoded into chunks in enc (zero: EncXOR) that do not cross
// multiples of chunkRange (zero: defaultChunkRange).
type chunkSource struct {
	set        storage.SeriesSet
	enc        chunkenc.Encoding
	chunkRange int64
	it         storage.Iterator
	lset       labels.Labels
	chunks     []block.Chunk
	err        error
}

func (s *chunkSource) Next() bool {
	if s.err != nil {
		return false
	}
	for s.set.Next() {
		series := s.set.At()
		s.it = series.Iterator(s.it)
		var err error
		s.chunks, err = encodeChunks(s.it, cmp.Or(s.enc, chunkenc.EncXOR), cmp.Or(s.chunkRange, defaultChunkRange), s.chunks[:0])
		if err != nil {
			s.err = fmt.Errorf("series %s: %w", series.Labels(), err)
			return false
		}
		if len(s.chunks) > 0 {
			s.lset = series.Labels()
			return true
		}
	}
	s.err = s.set.Err()
	return false
}

func (s *chunkSource) At() (labels.Labels, []block.Chunk) { return s.lset, s.chunks }
func (s *chunkSource) Err() error                         { return s.err }
