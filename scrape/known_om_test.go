package scrape

import (
	"fmt"
	"strings"
	"testing"

	"github.com/argusmon/argus/config"
)

const omType = "application/openmetrics-text; version=1.0.0; charset=utf-8"

// omBase has what client_golang and the OpenMetrics spec put in a body:
// UNIT, counters with _total and _created, a histogram with its _created,
// info, stateset and gaugehistogram families, and a quoted UTF-8 name.
const omBase = `# HELP req_seconds Time serving.
# TYPE req_seconds counter
# UNIT req_seconds seconds
req_seconds_total{code="200"} 10.5
req_seconds_created{code="200"} 1.7145648e+09
req_seconds_total{code="500"} 2
req_seconds_created{code="500"} 1714564800.123
# HELP lat Latency.
# TYPE lat histogram
lat_bucket{le="0.5"} 1
lat_bucket{le="+Inf"} 2
lat_sum 0.75
lat_count 2
lat_created 1714564800.5
# TYPE build info
build_info{version="1.2",rev="abc"} 1
# TYPE state stateset
state{state="on"} 1
state{state="off"} 0
# TYPE queue gaugehistogram
queue_bucket{le="+Inf"} 3
queue_gcount 3
queue_gsum 4
# TYPE "utf8.metric" gauge
{"utf8.metric",a="b"} 7
# EOF
`

// omWith replaces the value of the first line starting with series.
func omWith(series, rest string) string {
	lines := strings.Split(omBase, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, series+" ") {
			lines[i] = series + " " + rest
			break
		}
	}
	return strings.Join(lines, "\n")
}

func TestKnownPathMatchesOpenMetricsParser(t *testing.T) {
	gauge := `{"utf8.metric",a="b"}`
	noEOF := strings.TrimSuffix(omBase, "# EOF\n")
	cases := []struct {
		name   string
		mod    func(*config.ScrapeConfig)
		types  []string // per scrape, cycled; OpenMetrics if nil.
		bodies []string
		known  []bool
	}{
		{
			name:   "unchanged body",
			bodies: []string{omBase, omBase, omBase},
			known:  []bool{false, true, true},
		},
		{
			// OpenMetrics allows what the text format does; both parsers
			// refuse p, P and _ in floats, and fail on a hexadecimal float.
			name: "value spellings",
			bodies: []string{omBase,
				omWith(gauge, "NaN"), omWith(gauge, "+Inf"), omWith(gauge, "-Inf"), omWith(gauge, "1e3"),
				omWith(gauge, "-0"), omWith(gauge, ".5"), omWith(gauge, "inf"), omWith(gauge, "Infinity"),
				omWith(gauge, "1_000"), omBase, omWith(gauge, "0x1p-2"), omBase, omWith(gauge, "0x1F"), omBase,
				omWith(gauge, "1.7976931348623157e309"), omBase, omWith(gauge, "123456789012345678"),
			},
			known: []bool{false, true, true, true, true, true, true, true, true, false, true, false, true, false, true, false, true, true},
		},
		{
			// Timestamps are float seconds, truncated to milliseconds.
			name: "timestamps",
			bodies: []string{omBase,
				omWith(gauge, "1 1714564800.789"), omWith(gauge, "2 1714564815"), omWith(gauge, "3 1.714564830e9"),
				omWith(gauge, "4 1714564845.0009"), omWith(gauge, "5 -1.5"), omWith(gauge, "6 0.0001"),
				omWith(gauge, "7 NaN"), omBase, omWith(gauge, "8 +Inf"), omBase, omWith(gauge, "9 1_714_564_860"),
				omBase, omWith(gauge, "10 1714564875 1"), omBase, omWith(gauge, "11 1e400"), omBase,
				omWith(gauge, "12 0x1p30"), omBase, omWith(gauge, "13 9.3e15"), omWith(gauge, "14 1714564890.0000001"),
			},
			known: []bool{false, true, true, true, true, true, true, false, true, false, true, false, true, false, true, false, true, false, true, true, true},
		},
		{
			name:   "honor_timestamps false",
			mod:    func(c *config.ScrapeConfig) { c.HonorTimestamps = false },
			bodies: []string{omBase, omWith(gauge, "1 1714564800.789"), omWith(gauge, "2 1")},
			known:  []bool{false, true, true},
		},
		{
			// Exemplars go to the parser, which reads and checks them.
			name: "exemplars",
			bodies: []string{omBase,
				omWith(`req_seconds_total{code="200"}`, `11 # {trace_id="x"} 1 1714564800.000`), omBase,
				omWith(`req_seconds_total{code="200"}`, `12 # {trace_id="y"} 1`), omBase,
				omWith(`req_seconds_total{code="200"}`, `13 1714564815 # {trace_id="z"} 2`), omBase,
				omWith(`req_seconds_total{code="200"}`, `14 # {trace_id="z"} x`), omBase,
			},
			known: []bool{false, false, true, false, true, false, true, false, true},
		},
		{
			// The parser's exact error for a body without a lone final # EOF.
			name: "EOF missing, duplicated, followed by text or not last",
			bodies: []string{omBase, omBase,
				noEOF, omBase + "# EOF\n", omBase + "\n", omBase + "x 1\n", strings.TrimSuffix(omBase, "\n"),
				noEOF + "# EOF \n", noEOF + "#  EOF\n", noEOF + "# EOF\r\n", "# EOF\n" + omBase,
				strings.Replace(omBase, "# TYPE build info\n", "# TYPE build info\n\n", 1), omBase,
			},
			known: []bool{false, true, false, false, false, false, true, false, false, false, false, false, false},
		},
		{
			name:   "only EOF",
			bodies: []string{omBase, "# EOF\n", "# EOF", omBase, omBase},
			known:  []bool{false, true, true, false, true},
		},
		{
			name: "HELP, TYPE and UNIT change",
			bodies: []string{omBase,
				strings.Replace(omBase, "Time serving.", `Time \"serving\"\\.`, 1),
				strings.Replace(omBase, "Time serving.", `Time \"serving\"\\.`, 1),
				strings.Replace(omBase, "# UNIT req_seconds seconds\n", "", 1),
				strings.Replace(omBase, "# TYPE build info\n", "# TYPE build unknown\n", 1),
				strings.Replace(omBase, "# UNIT req_seconds seconds\n", "# UNIT req_seconds minutes\n", 1),
				omBase, omBase,
			},
			// Each full parse forgets the comment lines it did not read, and
			// misses in a row make the known path sit out scrapes 6 and 8.
			known: []bool{false, false, true, false, false, false, false, false},
		},
		{
			name:   "a plain comment is an error in OpenMetrics",
			bodies: []string{omBase, "# a comment\n" + omBase, omBase},
			known:  []bool{false, false, true},
		},
		{
			name:   "sample limit",
			mod:    func(c *config.ScrapeConfig) { c.SampleLimit = 20 },
			bodies: []string{omBase, omBase, strings.Replace(omBase, "# EOF\n", "lat_count 3\n# EOF\n", 1), omBase},
			known:  []bool{false, true, true, true},
		},
		{
			// Each switch of parser starts over: the labels a series text
			// gets can differ between them (le="1" and le="1.0").
			name:   "content type switches between text and OpenMetrics",
			types:  []string{omType, omType, "text/plain; version=0.0.4", "text/plain; version=0.0.4"},
			bodies: []string{"# TYPE h histogram\nh_bucket{le=\"1\"} 1\n# EOF\n", "# TYPE h histogram\nh_bucket{le=\"1\"} 2\n# EOF\n", "# TYPE h histogram\nh_bucket{le=\"1\"} 3\n", "# TYPE h histogram\nh_bucket{le=\"1\"} 4\n", "# TYPE h histogram\nh_bucket{le=\"1\"} 5\n# EOF\n", "# TYPE h histogram\nh_bucket{le=\"1\"} 6\n# EOF\n"},
			known:  []bool{false, true, false, true, false, true},
		},
		{
			// A text scrape cached a series text only the text format
			// allows; the known path must not take it for OpenMetrics.
			name:   "series touched by a failed text scrape",
			types:  []string{"text/plain; version=0.0.4", omType, omType},
			bodies: []string{"m {a=\"z\"} 1\nn 2\nbad{\n", "n 2\nm {a=\"z\"} 1\n# EOF\n", "n 2\nm {a=\"z\"} 1\n# EOF\n"},
			known:  []bool{false, false, false},
		},
		{
			name:   "OpenMetrics 2.0 is not read by the known path",
			mod:    func(c *config.ScrapeConfig) { c.ScrapeFallbackProtocol = "OpenMetricsText1.0.0" },
			types:  []string{"application/openmetrics-text; version=2.0.0"},
			bodies: []string{omBase, omBase},
			known:  []bool{false, true},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := jobConfig("j", "target:9100")
			if tc.mod != nil {
				tc.mod(cfg)
			}
			types := tc.types
			if types == nil {
				types = []string{omType}
			}
			took := compareKnownPathTypes(t, cfg, types, tc.bodies)
			if fmt.Sprint(took) != fmt.Sprint(tc.known) {
				t.Errorf("known path took scrapes %v, want %v", took, tc.known)
			}
		})
	}
}

func FuzzKnownPathMatchesOpenMetricsParser(f *testing.F) {
	f.Add([]byte(omBase), []byte(omBase))
	f.Add([]byte(omBase), []byte(omWith(`req_seconds_total{code="500"}`, "3 1714564815.5")))
	f.Add([]byte(omBase), []byte(omWith(`req_seconds_total{code="500"}`, `3 # {a="b"} 1 1714564815.5`)))
	f.Add([]byte(omBase), []byte(strings.TrimSuffix(omBase, "# EOF\n")))
	f.Add([]byte("a 1\n# EOF\n"), []byte("a 2 1.5\n# EOF"))
	f.Fuzz(func(t *testing.T, first, second []byte) {
		compareKnownPath(t, jobConfig("j", "target:9100"), omType,
			[]string{string(first), string(second), string(second), string(first)})
	})
}
