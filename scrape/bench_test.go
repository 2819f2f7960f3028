package scrape

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	utsdb "github.com/prometheus/prometheus/tsdb"

	"github.com/argusmon/argus/internal/cputime"
	"github.com/argusmon/argus/tsdb"
)

// nodeExporterPayload returns a text exposition of about n series shaped like
// node_exporter's: HELP/TYPE lines, per-CPU and per-device families, label
// sets of one to four labels, histograms with le buckets.
func nodeExporterPayload(n int) []byte {
	var sb strings.Builder
	modes := []string{"idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"}
	buckets := []string{"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"}
	count := 0
	for fam := 0; count < n; fam++ {
		switch fam % 4 {
		case 0:
			name := fmt.Sprintf("node_cpu_seconds_total_%d", fam)
			fmt.Fprintf(&sb, "# HELP %s Seconds the CPUs spent in each mode.\n# TYPE %s counter\n", name, name)
			for cpu := 0; cpu < 32 && count < n; cpu++ {
				for _, m := range modes {
					fmt.Fprintf(&sb, "%s{cpu=\"%d\",mode=\"%s\"} %d.%02d\n", name, cpu, m, 100000+cpu*37, cpu%100)
					count++
				}
			}
		case 1:
			name := fmt.Sprintf("node_filesystem_avail_bytes_%d", fam)
			fmt.Fprintf(&sb, "# HELP %s Filesystem space available to non-root users in bytes.\n# TYPE %s gauge\n", name, name)
			for d := 0; d < 64 && count < n; d++ {
				fmt.Fprintf(&sb, "%s{device=\"/dev/nvme%dn1p%d\",fstype=\"ext4\",mountpoint=\"/data/vol%d\"} %.6e\n", name, d/4, d%4, d, float64(d)*1.2345e11)
				count++
			}
		case 2:
			name := fmt.Sprintf("node_network_receive_bytes_total_%d", fam)
			fmt.Fprintf(&sb, "# HELP %s Network device statistic receive_bytes.\n# TYPE %s counter\n", name, name)
			for d := 0; d < 48 && count < n; d++ {
				fmt.Fprintf(&sb, "%s{device=\"eth%d\"} %d\n", name, d, 987654321*d)
				count++
			}
		case 3:
			name := fmt.Sprintf("node_disk_io_time_seconds_%d", fam)
			fmt.Fprintf(&sb, "# HELP %s IO latency.\n# TYPE %s histogram\n", name, name)
			for d := 0; d < 8 && count < n; d++ {
				for _, le := range buckets {
					fmt.Fprintf(&sb, "%s_bucket{device=\"sd%c\",le=\"%s\"} %d\n", name, 'a'+d, le, 1000+d)
					count++
				}
				fmt.Fprintf(&sb, "%s_sum{device=\"sd%c\"} 123.456\n%s_count{device=\"sd%c\"} %d\n", name, 'a'+d, name, 'a'+d, 1000+d)
				count += 2
			}
		}
	}
	return []byte(sb.String())
}

// benchInterval advances the scrape timestamp between repeat scrapes.
const benchInterval = 15 * time.Second

// benchContentType is what node_exporter answers to a text-only Accept.
const benchContentType = "text/plain; version=0.0.4"

// BenchmarkScrapeAppend measures parse, label resolution, relabeling and
// append for a node_exporter-like target of 10,010 series.
//
//   - nop/repeat, nop/first: into a storage that does nothing, so the figure
//     is the scrape path alone, in the steady state (every series cached) and
//     on a target's first scrape.
//   - head/argus: the scrape loop's append path into an Argus head opened as
//     the binary opens it (WAL on), committing every scrape, timestamps 15 s
//     apart.
//   - head/upstream: the baseline, Prometheus's way in the same binary:
//     upstream textparse, a scrapeCache-like map from series text to the
//     upstream reference, appending into an upstream TSDB with its WAL on.
//
// samples/cpu-s divides samples by the process CPU time the benchmark used,
// background goroutines (WAL, GC) included: samples per second per core.
func BenchmarkScrapeAppend(b *testing.B) {
	body := nodeExporterPayload(10000)
	series := countSeries(body)
	b.Logf("payload: %d series, %d bytes", series, len(body))

	benchRepeat(b, series, body, benchContentType)
	b.Run("nop/first", func(b *testing.B) {
		sl := testLoop(b, jobConfig("node", "node-1:9100"), nopAppendable{})
		benchScrapes(b, series, body, func(t time.Time) error {
			sl.cache = newSeriesCache()
			_, err := sl.appendExposition(nopAppender{}, body, benchContentType, t)
			return err
		})
	})
	benchHeads(b, series, body, benchContentType)
}

// benchRepeat is the nop/repeat case for body served as contentType.
func benchRepeat(b *testing.B, series int, body []byte, contentType string) {
	b.Run("nop/repeat", func(b *testing.B) {
		sl := testLoop(b, jobConfig("node", "node-1:9100"), nopAppendable{})
		benchScrapes(b, series, body, func(t time.Time) error {
			_, err := sl.appendExposition(nopAppender{}, body, contentType, t)
			return err
		})
	})
}

// benchHeads is the head/argus and head/upstream pair for body served as
// contentType.
func benchHeads(b *testing.B, series int, body []byte, contentType string) {
	b.Run("head/argus", func(b *testing.B) {
		db, err := tsdb.Open(b.TempDir(), &tsdb.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = db.Close() })
		sl := testLoop(b, jobConfig("node", "node-1:9100"), db)
		benchScrapes(b, series, body, func(t time.Time) error {
			app := db.Appender(context.Background())
			if _, err := sl.appendExposition(app, body, contentType, t); err != nil {
				_ = app.Rollback()
				return err
			}
			return app.Commit()
		})
	})
	b.Run("head/upstream", func(b *testing.B) {
		udb, err := utsdb.Open(b.TempDir(), nil, nil, utsdb.DefaultOptions(), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = udb.Close() })
		ul := newUpstreamLoop(labels.FromStrings("instance", "node-1:9100", "job", "node"))
		benchScrapes(b, series, body, func(t time.Time) error {
			app := udb.Appender(context.Background())
			if err := ul.append(app, body, contentType, t); err != nil {
				_ = app.Rollback()
				return err
			}
			return app.Commit()
		})
	})
}

// benchScrapes runs one scrape untimed to fill the caches, then repeat
// scrapes 15 s apart, and reports throughput per wall and CPU second and
// allocations per sample.
func benchScrapes(b *testing.B, series int, body []byte, scrape func(time.Time) error) {
	b.Helper()
	ts := benchStart
	if err := scrape(ts); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := cputime.Process()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ts = ts.Add(benchInterval)
		if err := scrape(ts); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu := cputime.Process() - cpu0
	runtime.ReadMemStats(&after)
	samples := float64(series) * float64(b.N)
	b.ReportMetric(samples/b.Elapsed().Seconds(), "samples/s")
	if cpu > 0 {
		b.ReportMetric(samples/cpu.Seconds(), "samples/cpu-s")
	}
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/samples, "allocs/sample")
}

// benchStart is aligned to a 2 h block boundary so that a benchmark run
// stays inside one head chunk range.
var benchStart = time.UnixMilli(1_699_999_200_000)

func countSeries(body []byte) int {
	n := 0
	for _, line := range strings.Split(string(body), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			n++
		}
	}
	return n
}
