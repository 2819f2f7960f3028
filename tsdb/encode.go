package tsdb

import (
	"fmt"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/block"
	"github.com/argusmon/argus/tsdb/chunkenc"
)

// encodeChunks reads it to its end and encodes the samples into XOR chunks
// of samplesPerChunk samples, appended to dst. Re-encoding rather than
// copying chunks lets a block start and end exactly at its boundaries and
// merge the samples of several sources.
func encodeChunks(it storage.Iterator, dst []block.Chunk) ([]block.Chunk, error) {
	var (
		c   *chunkenc.XORChunk
		app *chunkenc.XORAppender
		cur block.Chunk
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
		if c != nil && c.NumSamples() >= samplesPerChunk {
			flush()
		}
		if c == nil {
			c = chunkenc.NewXORChunk()
			app, _ = c.Appender() // an empty chunk never fails
			cur = block.Chunk{MinTime: t, Encoding: chunkenc.EncXOR}
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
// series re-encoded into chunks.
type chunkSource struct {
	set    storage.SeriesSet
	it     storage.Iterator
	lset   labels.Labels
	chunks []block.Chunk
	err    error
}

func (s *chunkSource) Next() bool {
	if s.err != nil {
		return false
	}
	for s.set.Next() {
		series := s.set.At()
		s.it = series.Iterator(s.it)
		var err error
		s.chunks, err = encodeChunks(s.it, s.chunks[:0])
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
