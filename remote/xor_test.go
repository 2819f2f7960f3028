package remote

import (
	"math"
	"testing"

	"github.com/prometheus/prometheus/prompb"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/chunkenc"
)

// sliceIterator serves samples from a slice.
type sliceIterator struct {
	s []prompb.Sample
	i int
}

func (it *sliceIterator) Next() storage.ValueType {
	it.i++
	if it.i >= len(it.s) {
		return storage.ValNone
	}
	return storage.ValFloat
}

func (it *sliceIterator) SeekTo(t int64) storage.ValueType {
	if it.i < 0 {
		it.i = 0
	}
	for ; it.i < len(it.s); it.i++ {
		if it.s[it.i].Timestamp >= t {
			return storage.ValFloat
		}
	}
	return storage.ValNone
}

func (it *sliceIterator) At() (int64, float64) { return it.s[it.i].Timestamp, it.s[it.i].Value }
func (it *sliceIterator) AtT() int64           { return it.s[it.i].Timestamp }
func (it *sliceIterator) Err() error           { return nil }

func TestEncodeXORChunks(t *testing.T) {
	var samples []prompb.Sample
	for i := range 300 {
		samples = append(samples, prompb.Sample{Timestamp: int64(i) * 1000, Value: float64(i) / 3})
	}
	samples[7].Value = math.NaN()
	for _, tc := range []struct {
		name       string
		mint, maxt int64
		wantSizes  []int
		first      int64
	}{
		{"everything", math.MinInt64, math.MaxInt64, []int{120, 120, 60}, 0},
		{"trimmed to the range", 5000, 130_000, []int{120, 6}, 5000},
		{"exact chunk", 0, 119_000, []int{120}, 0},
		{"nothing in range", 400_000, 500_000, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []prompb.Chunk
			it := &sliceIterator{s: samples, i: -1}
			if err := EncodeXORChunks(it, tc.mint, tc.maxt, 0, func(c prompb.Chunk) error { got = append(got, c); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.wantSizes) {
				t.Fatalf("%d chunks, want %d", len(got), len(tc.wantSizes))
			}
			next := tc.first
			for i, c := range got {
				if c.Type != prompb.Chunk_XOR {
					t.Errorf("chunk %d type %v", i, c.Type)
				}
				chk, err := chunkenc.LoadXORChunk(c.Data)
				if err != nil {
					t.Fatal(err)
				}
				if chk.NumSamples() != tc.wantSizes[i] {
					t.Errorf("chunk %d holds %d samples, want %d", i, chk.NumSamples(), tc.wantSizes[i])
				}
				if c.MinTimeMs != next {
					t.Errorf("chunk %d starts at %d, want %d", i, c.MinTimeMs, next)
				}
				ci := chk.Iterator(nil)
				for ci.Next() {
					ts, v := ci.At()
					want := samples[ts/1000]
					if ts != next || (v != want.Value && !(math.IsNaN(v) && math.IsNaN(want.Value))) {
						t.Fatalf("chunk %d sample (%d, %v), want (%d, %v)", i, ts, v, next, want.Value)
					}
					next += 1000
				}
				if c.MaxTimeMs != next-1000 {
					t.Errorf("chunk %d ends at %d, want %d", i, c.MaxTimeMs, next-1000)
				}
			}
		})
	}
}
