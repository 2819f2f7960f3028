package tsdb

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/tsdb"
	upstreamenc "github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/argusmon/argus/tsdb/chunkenc"
)

// diskSeries is one series of the disk benchmark's workload: its samples
// are at consecutive scrapes from scrape first on.
type diskSeries struct {
	lset  labels.Labels
	first int
	vals  []float64
}

// diskWorkload is 3 h of 15 s scrapes (enough for both databases to cut
// one 2 h block) over a realistic mix, per target: counters, gauges with
// noise, and classic histograms (cumulative bucket counters, _sum, _count).
// A tenth of the targets are replaced during the run, as pods are, their
// series ending with a stale marker. Scrape timestamps jitter by a few
// milliseconds.
type diskWorkload struct {
	series  []diskSeries
	times   []int64 // scrape timestamps
	inBlock int     // samples in the first 2 h, the block both cut
}

func newDiskWorkload(targets int) *diskWorkload {
	const scrapes = 730
	rng := rand.New(rand.NewPCG(7, 11))
	w := &diskWorkload{times: make([]int64, scrapes)}
	for i := range w.times {
		// Prometheus snaps scrape times within 2 ms of the interval to it;
		// the rest are late by a few milliseconds.
		w.times[i] = tenHoursStart + 5_000 + int64(i)*15_000
		if rng.IntN(20) == 0 {
			w.times[i] += 3 + rng.Int64N(10)
		}
	}
	for tgt := range targets {
		w.addTarget(rng, fmt.Sprintf("pod-%d", tgt), 0, scrapes)
	}
	// Churn: a tenth of the targets (at least one) end at a random scrape
	// and a new pod takes over from the next one.
	for tgt := range max(1, targets/10) {
		end := 1 + rng.IntN(scrapes-2)
		pod := fmt.Sprintf("pod-%d", tgt*10)
		for i := range w.series {
			if s := &w.series[i]; s.lset.Get("pod") == pod {
				s.vals = append(s.vals[:end], math.Float64frombits(value.StaleNaN))
			}
		}
		w.addTarget(rng, pod+"-b", end+1, scrapes)
	}
	for _, s := range w.series {
		for k := range s.vals {
			if w.times[s.first+k] < tenHoursStart+defaultChunkRange {
				w.inBlock++
			}
		}
	}
	return w
}

// addTarget adds the series of one target scraped from scrape first up to
// (not including) end.
func (w *diskWorkload) addTarget(rng *rand.Rand, pod string, first, end int) {
	n := end - first
	add := func(name string, vals []float64, extra ...string) {
		l := append([]string{"__name__", name, "job", "app", "pod", pod}, extra...)
		w.series = append(w.series, diskSeries{lset: labels.FromStrings(l...), first: first, vals: vals})
	}
	// Counters: request counts at a steady rate with bursts, and a CPU
	// seconds counter of float increments.
	for _, cr := range []struct {
		code string
		rate float64 // per second
	}{{"200", 1 + rng.Float64()*200}, {"404", 0.05}, {"500", 0.002}} {
		rate := cr.rate
		c := math.Floor(rng.Float64() * 1e6 * rate)
		vals := make([]float64, n)
		for i := range vals {
			// A Poisson-like count: its mean, with noise, at high rates;
			// a rare event at low ones.
			if inc := rate * 15; inc >= 1 {
				c += math.Floor(inc * (0.8 + 0.4*rng.Float64()))
			} else if rng.Float64() < inc {
				c++
			}
			vals[i] = c
		}
		add("http_requests_total", vals, "code", cr.code)
	}
	cpu := make([]float64, n)
	c := rng.Float64() * 1e4
	for i := range cpu {
		c += 15 * rng.Float64() * 0.3
		cpu[i] = c
	}
	add("process_cpu_seconds_total", cpu)

	// Gauges: memory bytes that move by pages half the time, a
	// temperature with one decimal that drifts, a queue length that is
	// mostly constant.
	mem := make([]float64, n)
	m := 4096 * math.Floor(5e4+rng.Float64()*3e4)
	for i := range mem {
		if rng.IntN(2) == 0 {
			m += 4096 * math.Round(rng.NormFloat64()*20)
		}
		mem[i] = m
	}
	add("process_resident_memory_bytes", mem)
	temp := make([]float64, n)
	deci := 400 + rng.IntN(100) // tenths of a degree
	for i := range temp {
		if rng.IntN(3) == 0 {
			deci += rng.IntN(3) - 1
		}
		temp[i] = float64(deci) / 10
	}
	add("node_temperature_celsius", temp)
	queue := make([]float64, n)
	q := 0.0
	for i := range queue {
		if rng.IntN(20) == 0 {
			q = float64(rng.IntN(10))
		}
		queue[i] = q
	}
	add("queue_length", queue)

	// A classic histogram of request durations: 11 cumulative buckets,
	// _sum and _count.
	bounds := []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	buckets := make([][]float64, len(bounds)+1)
	for b := range buckets {
		buckets[b] = make([]float64, n)
	}
	sum := make([]float64, n)
	counts := make([]float64, len(buckets))
	var total float64
	for i := range n {
		for range rng.IntN(40) {
			d := math.Exp(rng.NormFloat64() - 3)
			total += d
			for b, ub := range bounds {
				if d <= ub {
					counts[b]++
				}
			}
			counts[len(bounds)]++
		}
		for b := range buckets {
			buckets[b][i] = counts[b]
		}
		sum[i] = total
	}
	for b, ub := range bounds {
		add("http_request_duration_seconds_bucket", buckets[b], "le", fmt.Sprint(ub))
	}
	add("http_request_duration_seconds_bucket", buckets[len(bounds)], "le", "+Inf")
	add("http_request_duration_seconds_count", buckets[len(bounds)])
	add("http_request_duration_seconds_sum", sum)
}

// appendAll feeds the workload scrape by scrape to append and commit.
func (w *diskWorkload) appendAll(b testing.TB, app func(l labels.Labels, t int64, v float64) error, commit func() error) {
	for i, ts := range w.times {
		for _, s := range w.series {
			if k := i - s.first; k >= 0 && k < len(s.vals) {
				if err := app(s.lset, ts, s.vals[k]); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// blockBytes returns the size of every block directory under dir and of
// their chunk files alone.
func blockBytes(b testing.TB, dir string) (total, chunkBytes int64) {
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		parts := strings.Split(rel, string(filepath.Separator))
		if len(parts) < 2 || !strings.HasPrefix(parts[0], "01") {
			return nil // not inside a block
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		total += fi.Size()
		if parts[1] == "chunks" {
			chunkBytes += fi.Size()
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return total, chunkBytes
}

// BenchmarkDiskBytesPerSample writes the same workload into Argus and into
// Prometheus's tsdb, lets each cut its first 2 h block, and reports the
// block directories' bytes per sample (and their chunk files' alone) and
// Argus's over Prometheus's, for each float chunk encoding.
func BenchmarkDiskBytesPerSample(b *testing.B) {
	w := newDiskWorkload(100)
	for _, enc := range []chunkenc.Encoding{chunkenc.EncXOR, chunkenc.EncXOR2} {
		b.Run("enc="+enc.String(), func(b *testing.B) {
			var argus, argusChunks, up, upChunks int64
			for b.Loop() {
				argus, argusChunks = w.argusBlock(b, enc)
				up, upChunks = w.upstreamBlock(b, upstreamenc.Encoding(enc))
			}
			n := float64(w.inBlock)
			b.ReportMetric(float64(argus)/n, "argus-B/sample")
			b.ReportMetric(float64(up)/n, "upstream-B/sample")
			b.ReportMetric(float64(argus)/float64(up), "ratio")
			b.ReportMetric(float64(argusChunks)/n, "argus-chunk-B/sample")
			b.ReportMetric(float64(upChunks)/n, "upstream-chunk-B/sample")
			b.ReportMetric(float64(argusChunks)/float64(upChunks), "chunk-ratio")
		})
	}
}

func (w *diskWorkload) argusBlock(b testing.TB, enc chunkenc.Encoding) (total, chunkBytes int64) {
	return blockBytes(b, w.argusDir(b, enc))
}

// argusDir writes the workload into a new Argus data directory, cuts its
// first block and returns the directory.
func (w *diskWorkload) argusDir(b testing.TB, enc chunkenc.Encoding) string {
	dir := b.TempDir()
	db := openDB(b, dir, &Options{FloatChunkEncoding: enc})
	var app = db.Appender(context.Background())
	w.appendAll(b, func(l labels.Labels, t int64, v float64) error {
		_, err := app.Append(0, l, t, v)
		return err
	}, func() error {
		err := app.Commit()
		app = db.Appender(context.Background())
		return err
	})
	if err := db.Compact(context.Background()); err != nil {
		b.Fatal(err)
	}
	if blocks := db.Blocks(); len(blocks) != 1 || blocks[0].Stats.NumSamples != uint64(w.inBlock) {
		b.Fatalf("Argus cut blocks %+v, want one of %d samples", blocks, w.inBlock)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	return dir
}

func (w *diskWorkload) upstreamBlock(b testing.TB, enc upstreamenc.Encoding) (total, chunkBytes int64) {
	return blockBytes(b, w.upstreamDir(b, enc))
}

// upstreamDir is argusDir with Prometheus's tsdb.
func (w *diskWorkload) upstreamDir(b testing.TB, enc upstreamenc.Encoding) string {
	dir := b.TempDir()
	opts := tsdb.DefaultOptions()
	opts.FloatChunkEncoding = enc
	udb, err := tsdb.Open(dir, nil, nil, opts, nil)
	if err != nil {
		b.Fatal(err)
	}
	udb.DisableCompactions()
	app := udb.Appender(context.Background())
	w.appendAll(b, func(l labels.Labels, t int64, v float64) error {
		_, err := app.Append(0, l, t, v)
		return err
	}, func() error {
		err := app.Commit()
		app = udb.Appender(context.Background())
		return err
	})
	udb.EnableCompactions()
	if err := udb.Compact(context.Background()); err != nil {
		b.Fatal(err)
	}
	if blocks := udb.Blocks(); len(blocks) != 1 || blocks[0].Meta().Stats.NumSamples != uint64(w.inBlock) {
		b.Fatalf("upstream cut %d blocks, want one of %d samples", len(blocks), w.inBlock)
	}
	if err := udb.Close(); err != nil {
		b.Fatal(err)
	}
	return dir
}
