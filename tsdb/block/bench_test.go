package block

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
)

func dirSize(t testing.TB, dir string) int64 {
	var n int64
	err := filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// BenchmarkWrite reports the on-disk bytes per sample of a block of 1000
// series x 3h at 15s with a realistic mix of counters, gauges and constants.
func BenchmarkWrite(b *testing.B) {
	series := testData(1000, 720)
	var samples int
	for _, s := range series {
		samples += len(s.samples)
	}
	var size int64
	for b.Loop() {
		dir := b.TempDir()
		id := writeTestBlock(b, dir, series)
		size = dirSize(b, filepath.Join(dir, id))
	}
	b.ReportMetric(float64(size)/float64(samples), "bytes/sample")
	b.ReportMetric(float64(samples)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkSelectIterate reads every sample of one job (a third of the
// series) from a block.
func BenchmarkSelectIterate(b *testing.B) {
	dir := b.TempDir()
	id := writeTestBlock(b, dir, testData(1000, 720))
	blk, err := Open(filepath.Join(dir, id), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer blk.Close()
	m := labels.MustNewMatcher(labels.MatchEqual, "job", "api")
	var it storage.Iterator
	var n int
	for b.Loop() {
		q, _ := blk.Querier(math.MinInt64, math.MaxInt64)
		set := q.Select(context.Background(), true, nil, m)
		for set.Next() {
			it = set.At().Iterator(it)
			for it.Next() == storage.ValFloat {
				n++
			}
		}
		q.Close()
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "samples/s")
}
