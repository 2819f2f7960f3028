// Upstream's ChunkDiskMapper reads Argus's head chunk files and the other
// way round. Upstream tsdb is a test-only dependency.

package headchunks

import (
	"bytes"
	"testing"

	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
)

// xorChunk encodes n samples with upstream's encoder.
func xorChunk(t *testing.T, start int64, n int) *chunkenc.XORChunk {
	t.Helper()
	c := chunkenc.NewXORChunk()
	app, err := c.Appender()
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		app.Append(0, start+int64(i)*15_000, float64(i)*1.5)
	}
	return c
}

func TestUpstreamReadsArgusHeadChunks(t *testing.T) {
	dir := t.TempDir()
	m, _ := openMapper(t, dir, Options{MaxFileSize: 4096})
	type written struct {
		ref        Ref
		series     uint64
		mint, maxt int64
		data       []byte
	}
	var ws []written
	for i := range 60 {
		c := xorChunk(t, int64(i)*1_800_000, 120)
		mint, maxt := int64(i)*1_800_000, int64(i)*1_800_000+119*15_000
		ref, err := m.Write(uint64(i%5+1), mint, maxt, uint8(chunkenc.EncXOR), c.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, written{ref, uint64(i%5 + 1), mint, maxt, c.Bytes()})
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if len(m.files) != 0 {
		t.Fatal("files still mapped after Close")
	}

	cdm, err := chunks.NewChunkDiskMapper(nil, dir, chunkenc.NewPool(), chunks.DefaultWriteBufferSize, chunks.DefaultWriteQueueSize)
	if err != nil {
		t.Fatalf("upstream open: %v", err)
	}
	defer cdm.Close()
	i := 0
	err = cdm.IterateAllChunks(func(series chunks.HeadSeriesRef, ref chunks.ChunkDiskMapperRef, mint, maxt int64, numSamples uint16, enc chunkenc.Encoding, ooo bool) error {
		w := ws[i]
		if uint64(ref) != uint64(w.ref) || uint64(series) != w.series || mint != w.mint || maxt != w.maxt || numSamples != 120 || enc != chunkenc.EncXOR || ooo {
			t.Fatalf("upstream scan of chunk %d: ref %v series %d [%d,%d] n=%d enc=%v ooo=%v; want %+v", i, ref, series, mint, maxt, numSamples, enc, ooo, w)
		}
		i++
		return nil
	})
	if err != nil || i != len(ws) {
		t.Fatalf("upstream scan: %v after %d of %d chunks", err, i, len(ws))
	}
	for _, w := range ws {
		c, err := cdm.Chunk(chunks.ChunkDiskMapperRef(w.ref))
		if err != nil {
			t.Fatalf("upstream read %s: %v", w.ref, err)
		}
		if !bytes.Equal(c.Bytes(), w.data) {
			t.Fatalf("upstream read %s: data differs", w.ref)
		}
	}
}

func TestArgusReadsUpstreamHeadChunks(t *testing.T) {
	dir := t.TempDir()
	cdm, err := chunks.NewChunkDiskMapper(nil, dir, chunkenc.NewPool(), chunks.DefaultWriteBufferSize, chunks.DefaultWriteQueueSize)
	if err != nil {
		t.Fatal(err)
	}
	if err := cdm.IterateAllChunks(func(chunks.HeadSeriesRef, chunks.ChunkDiskMapperRef, int64, int64, uint16, chunkenc.Encoding, bool) error {
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	type written struct {
		ref  chunks.ChunkDiskMapperRef
		data []byte
		ooo  bool
	}
	var ws []written
	for i := range 40 {
		c := xorChunk(t, int64(i)*1_800_000, 100)
		ooo := i%10 == 9
		ref := cdm.WriteChunk(chunks.HeadSeriesRef(i+1), int64(i), int64(i)+1, c, ooo, func(err error) {
			if err != nil {
				t.Error(err)
			}
		})
		ws = append(ws, written{ref, c.Bytes(), ooo})
		if i == 20 {
			cdm.CutNewFile()
		}
	}
	if err := cdm.Close(); err != nil {
		t.Fatal(err)
	}

	m, got := openMapper(t, dir, Options{})
	defer m.Close()
	if len(got) != len(ws) {
		t.Fatalf("scanned %d chunks, want %d", len(got), len(ws))
	}
	for i, w := range ws {
		g := got[i]
		if uint64(g.Ref) != uint64(w.ref) || g.SeriesRef != uint64(i+1) || g.MinT != int64(i) || g.MaxT != int64(i)+1 ||
			g.Encoding != uint8(chunkenc.EncXOR) || g.OutOfOrder != w.ooo || !bytes.Equal(g.Data, w.data) {
			t.Fatalf("chunk %d: got %+v", i, g)
		}
		enc, data, err := m.Chunk(Ref(w.ref), nil)
		if err != nil || enc != uint8(chunkenc.EncXOR) || !bytes.Equal(data, w.data) {
			t.Fatalf("read chunk %d: %v", i, err)
		}
	}
}
