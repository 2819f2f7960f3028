package scrape

import (
	"fmt"
	"strings"
	"testing"
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

// BenchmarkScrapeAppend measures parse, label resolution, relabeling and
// append for a ~10,000-series target into a storage that does nothing, so the
// figure is the scrape path alone. "repeat" is the steady state (every series
// in the cache); "first" is a target's first scrape.
func BenchmarkScrapeAppend(b *testing.B) {
	body := nodeExporterPayload(10000)
	series := 0
	for _, line := range strings.Split(string(body), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			series++
		}
	}
	b.Logf("payload: %d series, %d bytes", series, len(body))

	for _, repeat := range []bool{true, false} {
		name := "first"
		if repeat {
			name = "repeat"
		}
		b.Run(name, func(b *testing.B) {
			sl := testLoop(b, jobConfig("node", "node-1:9100"), nopAppendable{})
			app := nopAppender{}
			if _, err := sl.appendExposition(app, body, "text/plain; version=0.0.4", t0); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if !repeat {
					sl.cache = newSeriesCache()
				}
				if _, err := sl.appendExposition(app, body, "text/plain; version=0.0.4", t0); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(series)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
			b.ReportMetric(float64(series), "series/op")
		})
	}
}
