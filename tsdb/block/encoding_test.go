package block

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/chunkenc"
)

// oneChunkSource is a SeriesSource of one series with one given chunk.
type oneChunkSource struct {
	done  bool
	chunk Chunk
}

func (s *oneChunkSource) Next() bool {
	if s.done {
		return false
	}
	s.done = true
	return true
}
func (s *oneChunkSource) At() (labels.Labels, []Chunk) {
	return labels.FromStrings("__name__", "h"), []Chunk{s.chunk}
}
func (s *oneChunkSource) Err() error { return nil }

// A chunk in an encoding Argus does not decode (a Prometheus native
// histogram) fails the query with an error naming it, not a crash or
// silently missing samples.
func TestIteratorReportsUnsupportedEncoding(t *testing.T) {
	dir := t.TempDir()
	src := &oneChunkSource{chunk: Chunk{MinTime: baseT, MaxTime: baseT + 1000, Encoding: chunkenc.Encoding(2), Data: []byte{0, 1, 0, 0, 0}}}
	id, err := Write(context.Background(), dir, baseT, baseT+3600_000, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(filepath.Join(dir, id), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	q, _ := b.Querier(math.MinInt64, math.MaxInt64)
	defer q.Close()
	set := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "h"))
	if !set.Next() {
		t.Fatal("no series")
	}
	it := set.At().Iterator(nil)
	if it.Next() != storage.ValNone || it.Err() == nil || !strings.Contains(it.Err().Error(), "histogram") {
		t.Fatalf("iterating a histogram chunk: error %v, want one naming the encoding", it.Err())
	}
}

// A block whose series mix XOR and XOR2 chunks, as one written after the
// float chunk encoding changed holds, reads back every sample, and its
// meta counts them all.
func TestMixedEncodingsRead(t *testing.T) {
	dir := t.TempDir()
	series := testData(40, 720)
	src := newSliceSource(series)
	src.encs = []chunkenc.Encoding{chunkenc.EncXOR, chunkenc.EncXOR2, chunkenc.EncXOR2}
	id, err := Write(context.Background(), dir, baseT, baseT+3*3600_000, src, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Open(filepath.Join(dir, id), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var samples uint64
	for _, s := range series {
		samples += uint64(len(s.samples))
	}
	if m := b.Meta(); m.Stats.NumSamples != samples || m.Stats.NumFloatSamples != samples {
		t.Fatalf("meta counts %d samples (%d float), want %d", m.Stats.NumSamples, m.Stats.NumFloatSamples, samples)
	}
	q, _ := b.Querier(math.MinInt64, math.MaxInt64)
	defer q.Close()
	assertData(t, wantData(series, nil, math.MinInt64, math.MaxInt64), readAll(t, q))
}
