package remote

import (
	"fmt"

	"github.com/prometheus/prometheus/prompb"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/chunkenc"
)

// SamplesPerChunk is how many samples a streamed chunk holds at most, the
// size Prometheus cuts its head chunks at.
const SamplesPerChunk = 120

// EncodeXORChunks re-encodes the samples of it within [mint, maxt] into XOR
// chunks of up to samplesPerChunk samples (SamplesPerChunk if not positive),
// handing each to emit in time order. Argus's querier yields samples, not
// stored chunks; encoding afresh also trims the chunks to the range exactly.
// Each emitted chunk owns its Data.
func EncodeXORChunks(it storage.Iterator, mint, maxt int64, samplesPerChunk int, emit func(prompb.Chunk) error) error {
	if samplesPerChunk <= 0 {
		samplesPerChunk = SamplesPerChunk
	}
	var (
		chk *chunkenc.XORChunk
		app *chunkenc.XORAppender
		cur prompb.Chunk
		n   int
	)
	cut := func() error {
		if n == 0 {
			return nil
		}
		cur.Data = chk.Bytes()
		n = 0
		return emit(cur)
	}
	for typ := it.SeekTo(mint); typ != storage.ValNone; typ = it.Next() {
		if typ != storage.ValFloat {
			return fmt.Errorf("unsupported value type %d at %d", typ, it.AtT())
		}
		t, v := it.At()
		if t > maxt {
			break
		}
		if n == samplesPerChunk {
			if err := cut(); err != nil {
				return err
			}
		}
		if n == 0 {
			chk = chunkenc.NewXORChunk()
			var err error
			if app, err = chk.Appender(); err != nil {
				return fmt.Errorf("new XOR appender: %w", err)
			}
			cur = prompb.Chunk{Type: prompb.Chunk_XOR, MinTimeMs: t}
		}
		if err := app.Append(t, v); err != nil {
			return fmt.Errorf("encode sample at %d: %w", t, err)
		}
		cur.MaxTimeMs = t
		n++
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("read samples: %w", err)
	}
	return cut()
}
