package block

import (
	"fmt"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/chunkenc"
	"github.com/argusmon/argus/tsdb/chunks"
	"github.com/argusmon/argus/tsdb/index"
	"github.com/argusmon/argus/tsdb/tombstones"
)

// chunkSeriesIterator walks one series' samples in [mint, maxt] across its
// chunks, decoding one chunk at a time and skipping deleted samples.
type chunkSeriesIterator struct {
	cr         *chunks.Reader
	chunks     []index.ChunkMeta
	dels       tombstones.Intervals
	mint, maxt int64

	ci     int // chunk being decoded
	active bool
	cit    chunkenc.XORIterator
	t      int64
	v      float64
	done   bool
	err    error
}

func (it *chunkSeriesIterator) reset(cr *chunks.Reader, chks []index.ChunkMeta, dels tombstones.Intervals, mint, maxt int64) {
	*it = chunkSeriesIterator{cr: cr, chunks: chks, dels: dels, mint: mint, maxt: maxt, ci: -1, cit: it.cit}
}

// advance moves to the next live sample with timestamp >= from.
func (it *chunkSeriesIterator) advance(from int64) storage.ValueType {
	if it.done {
		return storage.ValNone
	}
	from = max(from, it.mint)
	for {
		if !it.active {
			it.ci++
			if it.ci >= len(it.chunks) {
				return it.finish(nil)
			}
			c := it.chunks[it.ci]
			if c.MaxTime < from {
				continue
			}
			if c.MinTime > it.maxt {
				return it.finish(nil)
			}
			enc, data, err := it.cr.Chunk(chunks.Ref(c.Ref))
			if err != nil {
				return it.finish(err)
			}
			it.cit.Reset(chunkenc.Encoding(enc), data)
			it.active = true
		}
		if !it.cit.SeekTo(from) {
			if err := it.cit.Err(); err != nil {
				return it.finish(fmt.Errorf("chunk %s: %w", chunks.Ref(it.chunks[it.ci].Ref), err))
			}
			it.active = false
			continue
		}
		t, v := it.cit.At()
		if t > it.maxt {
			return it.finish(nil)
		}
		if it.dels.Covers(t) {
			from = t + 1
			if !it.cit.Next() {
				if err := it.cit.Err(); err != nil {
					return it.finish(err)
				}
				it.active = false
			}
			continue
		}
		it.t, it.v = t, v
		return storage.ValFloat
	}
}

func (it *chunkSeriesIterator) finish(err error) storage.ValueType {
	it.done, it.err = true, err
	return storage.ValNone
}

// Next advances to the next sample.
func (it *chunkSeriesIterator) Next() storage.ValueType {
	if it.ci < 0 {
		return it.advance(it.mint)
	}
	if it.done {
		return storage.ValNone
	}
	if !it.cit.Next() {
		if err := it.cit.Err(); err != nil {
			return it.finish(err)
		}
		it.active = false
	}
	if it.active {
		t, v := it.cit.At()
		// The common step: inside the chunk and the range, nothing deleted.
		if t <= it.maxt && len(it.dels) == 0 {
			it.t, it.v = t, v
			return storage.ValFloat
		}
		return it.advance(t)
	}
	return it.advance(it.t + 1)
}

// SeekTo advances to the first sample at or after t; it never moves back.
func (it *chunkSeriesIterator) SeekTo(t int64) storage.ValueType {
	if it.ci >= 0 && !it.done && it.t >= t {
		return storage.ValFloat
	}
	return it.advance(t)
}

func (it *chunkSeriesIterator) At() (int64, float64) { return it.t, it.v }
func (it *chunkSeriesIterator) AtT() int64           { return it.t }
func (it *chunkSeriesIterator) Err() error           { return it.err }
