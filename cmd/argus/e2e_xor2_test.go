package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"

	"github.com/argusmon/argus/tsdb/chunkenc"
)

// TestFloatChunkEncodingConfig checks that storage.tsdb.chunk_encoding.floats
// reaches the disk: with xor2 the full head chunk the binary writes to
// chunks_head is XOR2, and its samples read back over the API after a
// restart.
func TestFloatChunkEncodingConfig(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "argus.yml")
	writeConfig(t, cfgPath, "storage:\n  tsdb:\n    chunk_encoding:\n      floats: xor2\n")
	dataDir := filepath.Join(dir, "data")
	p := startArgus(t, "--config.file="+cfgPath, "--storage.tsdb.path="+dataDir, "--web.enable-remote-write-receiver")

	// 200 samples 15s apart from the start of a 2h block range: the first
	// 120 fill a chunk, which the head writes to chunks_head when it cuts
	// the next one. (Nearer the end of a range the head would stretch one
	// chunk to the range's end instead, as Prometheus does.)
	const blockRange = 2 * time.Hour
	base := time.Now().Add(-2 * blockRange).Truncate(blockRange).UnixMilli()
	req := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{
		Labels: []prompb.Label{{Name: "__name__", Value: "xor2_test"}},
	}}}
	for i := range 200 {
		req.Timeseries[0].Samples = append(req.Timeseries[0].Samples, prompb.Sample{Timestamp: base + int64(i)*15_000, Value: float64(i) * 1.5})
	}
	if ok, err := postWrite(p.addr, req); err != nil || !ok {
		t.Fatalf("remote write: ok=%v err=%v", ok, err)
	}

	// The head writes full chunks to chunks_head through a buffer that a
	// clean shutdown flushes. A head chunks file: 8 header bytes, then per
	// chunk the series reference, min and max time (8 bytes each) and the
	// encoding byte.
	p.signal(syscall.SIGTERM)
	if code := p.waitExit(20 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	const encodingOffset = 8 + 3*8
	b, err := os.ReadFile(filepath.Join(dataDir, "chunks_head", "000001"))
	if err != nil || len(b) <= encodingOffset {
		t.Fatalf("no full chunk in chunks_head (%d bytes): %v", len(b), err)
	}
	enc := chunkenc.Encoding(b[encodingOffset])
	if enc != chunkenc.EncXOR2 {
		t.Fatalf("head chunk encoding %s, want %s", enc, chunkenc.EncXOR2)
	}
	// Restarted, Argus reads the XOR2 chunk back from chunks_head.
	p = startArgus(t, "--config.file="+cfgPath, "--storage.tsdb.path="+dataDir)
	at := time.UnixMilli(base + 100*15_000).UTC().Format(time.RFC3339Nano)
	got, err := p.instant("xor2_test", at)
	if err != nil || len(got) != 1 || got[0].float(t) != 150 {
		t.Fatalf("xor2_test at sample 100 = %v (err %v), want 150", got, err)
	}
}
