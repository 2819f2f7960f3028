package scrape

import (
	"bytes"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// benchOMContentType is what client_golang answers to Argus's default
// Accept header.
const benchOMContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8"

// openMetricsPayload re-encodes text, a text exposition, as client_golang
// writes OpenMetrics with created lines on: counter families named without
// _total and their samples with it, a _created line after every counter and
// histogram, float values with a decimal point and a final # EOF.
func openMetricsPayload(tb testing.TB, text []byte) []byte {
	tb.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		tb.Fatal(err)
	}
	created := timestamppb.New(time.Unix(1_699_000_000, 123_000_000))
	var out bytes.Buffer
	// Write in the text body's order so that both benchmarks scrape alike.
	for _, line := range strings.Split(string(text), "\n") {
		name, ok := strings.CutPrefix(line, "# TYPE ")
		if !ok {
			continue
		}
		mf := families[strings.Fields(name)[0]]
		if mf.GetType() == dto.MetricType_COUNTER {
			// node_cpu_seconds_total_0 becomes node_cpu_seconds_0_total.
			n := strings.Replace(mf.GetName(), "_total_", "_", 1) + "_total"
			mf.Name = &n
		}
		for _, m := range mf.Metric {
			switch {
			case m.Counter != nil:
				m.Counter.CreatedTimestamp = created
			case m.Histogram != nil:
				m.Histogram.CreatedTimestamp = created
			}
		}
		if _, err := expfmt.MetricFamilyToOpenMetrics(&out, mf, expfmt.WithCreatedLines()); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := expfmt.FinalizeOpenMetrics(&out); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

// BenchmarkScrapeAppendOpenMetrics is BenchmarkScrapeAppend's head pair for
// the same series served as OpenMetrics, _created lines included; the
// upstream loop parses with upstream textparse's OpenMetrics parser.
func BenchmarkScrapeAppendOpenMetrics(b *testing.B) {
	body := openMetricsPayload(b, nodeExporterPayload(10000))
	series := countSeries(body)
	b.Logf("payload: %d samples, %d bytes", series, len(body))

	benchRepeat(b, series, body, benchOMContentType)
	benchHeads(b, series, body, benchOMContentType)
}

// TestOpenMetricsBenchPayloadTakesKnownPath guards the benchmark: its body
// must parse, and repeat scrapes of it must take the known path.
func TestOpenMetricsBenchPayloadTakesKnownPath(t *testing.T) {
	body := openMetricsPayload(t, nodeExporterPayload(1000))
	for _, want := range []string{"# TYPE node_cpu_seconds_0 counter\n", "node_cpu_seconds_0_total{", "node_cpu_seconds_0_created{", "_created{device=\"sda\"} 1.69900000012", "\n# EOF\n"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Fatalf("payload lacks %q:\n%s", want, body[:min(len(body), 2000)])
		}
	}
	sl := testLoop(t, jobConfig("node", "node-1:9100"), nopAppendable{})
	for i := range 2 {
		ts := t0.Add(time.Duration(i) * benchInterval)
		res, known, err := sl.appendKnown(nopAppender{}, body, benchOMContentType, ts)
		if !known {
			res, err = sl.appendParsed(nopAppender{}, body, benchOMContentType, ts)
		}
		if err != nil || res.total != countSeries(body) {
			t.Fatalf("scrape %d: %d samples, %v", i+1, res.total, err)
		}
		if known != (i == 1) {
			t.Fatalf("scrape %d took the known path: %v", i+1, known)
		}
	}
}
