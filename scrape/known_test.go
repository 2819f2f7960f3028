package scrape

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/prometheus/prometheus/model/timestamp"

	"github.com/argusmon/argus/config"
	"github.com/argusmon/argus/storage"
)

// recordStorage hands out references by label set and refuses samples older
// than the newest committed one of their series, as the head does. It
// records what each scrape appended, in order, including rejected samples.
type recordStorage struct {
	refs   map[string]storage.SeriesRef
	newest map[storage.SeriesRef]int64
}

func newRecordStorage() *recordStorage {
	return &recordStorage{refs: map[string]storage.SeriesRef{}, newest: map[storage.SeriesRef]int64{}}
}

type recordAppender struct {
	s       *recordStorage
	log     []string
	pending map[storage.SeriesRef]int64
}

func (s *recordStorage) appender() *recordAppender {
	return &recordAppender{s: s, pending: map[storage.SeriesRef]int64{}}
}

func (a *recordAppender) Append(ref storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	key := l.String()
	got, ok := a.s.refs[key]
	if !ok {
		got = storage.SeriesRef(len(a.s.refs) + 1)
		a.s.refs[key] = got
	}
	a.log = append(a.log, fmt.Sprintf("%s ref=%d t=%d v=%#x", key, ref, t, math.Float64bits(v)))
	if newest, ok := a.s.newest[got]; ok && t < newest {
		return 0, storage.ErrOutOfOrderSample
	}
	a.pending[got] = max(a.pending[got], t)
	return got, nil
}

func (a *recordAppender) Commit() error {
	for ref, t := range a.pending {
		a.s.newest[ref] = max(a.s.newest[ref], t)
	}
	return nil
}

func (a *recordAppender) Rollback() error { return nil }

// scrapeOutcome is everything a scrape's append produced that a user could
// see: samples (rolled-back ones included, in order), the error, the report
// counts and the target's metadata.
type scrapeOutcome struct {
	appended []string
	stale    []string // markers written after a failed scrape, sorted.
	err      string
	res      appendResult
	meta     string
}

// driveScrape appends body as scrapeAndReport does. With known false it
// forces the text parser; it reports whether the known path took the body.
func driveScrape(sl *scrapeLoop, st *recordStorage, body []byte, contentType string, ts time.Time, known bool) (out scrapeOutcome, tookKnown bool) {
	app := st.appender()
	var (
		res appendResult
		err error
	)
	if known {
		res, tookKnown, err = sl.appendKnown(app, body, contentType, ts)
	}
	if !tookKnown {
		res, err = sl.appendParsed(app, body, contentType, ts)
	}
	// Staleness markers come in map order: compare sets.
	out.appended, out.res = app.log, res
	slicesSort(out.appended)
	if err != nil {
		out.err = err.Error()
		app2 := st.appender()
		sl.markAllStale(app2, timestamp.FromTime(ts))
		slicesSort(app2.log)
		out.stale = app2.log
		_ = app2.Commit()
	} else {
		_ = app.Commit()
	}
	if md, changed := sl.meta.commit(err == nil); changed {
		out.meta = fmt.Sprint(md)
	}
	return out, tookKnown
}

func slicesSort(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// compareKnownPath scrapes bodies in turn with two loops of the same
// configuration, one allowed the known path and one held to the text
// parser, and fails on any difference. It returns which scrapes the known
// path took.
func compareKnownPath(t testing.TB, cfg *config.ScrapeConfig, contentType string, bodies []string) []bool {
	t.Helper()
	return compareKnownPathTypes(t, cfg, []string{contentType}, bodies)
}

// compareKnownPathTypes is compareKnownPath with scrape i served as
// contentTypes[i%len(contentTypes)].
func compareKnownPathTypes(t testing.TB, cfg *config.ScrapeConfig, contentTypes, bodies []string) []bool {
	t.Helper()
	fast, full := testLoop(t, cfg, nopAppendable{}), testLoop(t, cfg, nopAppendable{})
	fastSt, fullSt := newRecordStorage(), newRecordStorage()
	took := make([]bool, len(bodies))
	for i, body := range bodies {
		ts := t0.Add(time.Duration(i) * 15 * time.Second)
		ct := contentTypes[i%len(contentTypes)]
		got, known := driveScrape(fast, fastSt, []byte(body), ct, ts, true)
		want, _ := driveScrape(full, fullSt, []byte(body), ct, ts, false)
		took[i] = known
		if diff := diffOutcomes(got, want); diff != "" {
			t.Fatalf("scrape %d (known path %v) of %q:\n%s", i+1, known, body, diff)
		}
	}
	return took
}

func diffOutcomes(got, want scrapeOutcome) string {
	var sb strings.Builder
	if got.err != want.err {
		fmt.Fprintf(&sb, "error: got %q, want %q\n", got.err, want.err)
	}
	if got.res != want.res {
		fmt.Fprintf(&sb, "counts: got %+v, want %+v\n", got.res, want.res)
	}
	if got.meta != want.meta {
		fmt.Fprintf(&sb, "metadata: got %s, want %s\n", got.meta, want.meta)
	}
	for _, l := range [][2][]string{{got.appended, want.appended}, {got.stale, want.stale}} {
		g, w := strings.Join(l[0], "\n"), strings.Join(l[1], "\n")
		if g != w {
			fmt.Fprintf(&sb, "samples: got\n%s\nwant\n%s\n", g, w)
		}
	}
	return sb.String()
}

const knownBase = "# HELP a_total Things.\n# TYPE a_total counter\na_total{code=\"200\"} 10\na_total{code=\"500\"} 2\n# a plain comment\nb 1.5\n"

func TestKnownPathMatchesParser(t *testing.T) {
	om := "application/openmetrics-text; version=1.0.0; charset=utf-8"
	dropB := func(c *config.ScrapeConfig) {
		c.MetricRelabelConfigs = []*relabel.Config{rule(relabel.Drop, func(r *relabel.Config) {
			r.SourceLabels = model.LabelNames{model.MetricNameLabel}
			r.Regex = re("b")
		})}
	}
	cases := []struct {
		name        string
		mod         func(*config.ScrapeConfig)
		contentType string
		bodies      []string
		known       []bool // which scrapes the known path must take.
	}{
		{
			name:   "unchanged body",
			bodies: []string{knownBase, knownBase, knownBase},
			known:  []bool{false, true, true},
		},
		{
			// After a body the known path gave up on, the next is tried
			// again; after two in a row one scrape skips it.
			name: "values change, special values",
			bodies: []string{knownBase,
				strings.NewReplacer(" 10\n", " NaN\n", " 2\n", " +Inf\n", " 1.5\n", " -Inf\n").Replace(knownBase),
				strings.NewReplacer(" 10\n", " 1e3\n", " 2\n", " -0\n", " 1.5\n", " 1e-3\n").Replace(knownBase),
				strings.NewReplacer(" 10\n", " 1_000\n").Replace(knownBase),
				knownBase,
				strings.NewReplacer(" 10\n", " 0x1p-2\n").Replace(knownBase),
				knownBase,
				strings.NewReplacer(" 10\n", " 0x1F\n").Replace(knownBase),
				knownBase,
				strings.NewReplacer(" 10\n", " nan\n", " 2\n", " inf\n", " 1.5\n", " .5\n").Replace(knownBase),
				strings.NewReplacer(" 10\n", " 123456789012345678\n", " 2\n", " 0.1234567890123456789\n", " 1.5\n", " 1.\n").Replace(knownBase),
			},
			known: []bool{false, true, true, false, true, false, true, false, true, true, true},
		},
		{
			// The text format cannot carry the stale marker's NaN payload:
			// every NaN is stored as the normal NaN.
			name: "stale-looking and out of range values",
			bodies: []string{knownBase,
				strings.Replace(knownBase, " 10\n", " NaN\n", 1),
				strings.Replace(knownBase, " 10\n", " -NaN\n", 1),
				knownBase,
				strings.Replace(knownBase, " 10\n", " 1e-400\n", 1),
				strings.Replace(knownBase, " 10\n", " 1e400\n", 1),
				knownBase,
				strings.Replace(knownBase, " 10\n", " Infinity\n", 1),
			},
			known: []bool{false, true, false, true, true, false, true, true},
		},
		{
			name: "HELP and TYPE change between scrapes",
			bodies: []string{knownBase,
				strings.Replace(knownBase, "Things.", "Other things.", 1),
				strings.Replace(knownBase, "Things.", "Other things.", 1),
				strings.Replace(knownBase, "counter", "gauge", 1),
				strings.Replace(knownBase, "# HELP a_total Things.\n", "", 1),
				strings.Replace(knownBase, "Things.", `Esc\\aped\nhelp`, 1),
				strings.Replace(knownBase, "Things.", `Esc\\aped\nhelp`, 1),
			},
			// The full parse of scrape 4 forgot the old TYPE line, so
			// scrape 5 needs the parser; two misses make scrape 6 skip.
			known: []bool{false, false, true, false, false, false, true},
		},
		{
			name: "new series then disappearing series",
			bodies: []string{knownBase,
				knownBase + "c 3\n",
				knownBase + "c 4\n",
				knownBase,
				strings.Replace(knownBase, "b 1.5\n", "", 1),
			},
			known: []bool{false, false, true, true, true},
		},
		{
			name: "duplicate lines",
			bodies: []string{knownBase,
				knownBase + "b 2\n",
				knownBase + "b 2\nb 3 1714564800000\n",
			},
			known: []bool{false, true, true},
		},
		{
			name: "timestamps",
			bodies: []string{
				"a 1 1714564800000\nb 2\n",
				"a 2 1714564815000\nb 3 1714564815000\n",
				"a 3 1714564800000\nb 4 99999999999999999999\n",
				"a 4 1714564830000\nb 5 -1\n",
				"a 5 17145648450000000\nb 5\n",
				"a 6 17145648460000000\nb 6\n",
			},
			known: []bool{false, true, false, false, false, true},
		},
		{
			name:   "honor_timestamps false",
			mod:    func(c *config.ScrapeConfig) { c.HonorTimestamps = false },
			bodies: []string{"a 1 1714564800000\nb 2\n", "a 2 1714564815000\nb 3\n", "a 2 1\nb 3 1\n"},
			known:  []bool{false, true, true},
		},
		{
			name:   "track_timestamps_staleness",
			mod:    func(c *config.ScrapeConfig) { c.TrackTimestampsStaleness = true },
			bodies: []string{"a 1 1714564800000\nb 2\n", "a 2 1714564815000\n", "b 3\n"},
			known:  []bool{false, true, true},
		},
		{
			name: "escaped label values and odd spacing",
			bodies: []string{
				"m{a=\"x y\",b=\"q\\\"u\\\\o\\nte\"} 1\nm {a=\"z\"} 2\nn{ a=\"1\" , } 3\n{\"utf8.name\",a=\"b\"} 4\n",
				"m{a=\"x y\",b=\"q\\\"u\\\\o\\nte\"} 5\nm {a=\"z\"} 6\nn{ a=\"1\" , } 7\n{\"utf8.name\",a=\"b\"} 8\n",
				"m{a=\"x y\",b=\"q\\\"u\\\\o\\nte\"}  5\nm {a=\"z\"} 6\nn{ a=\"1\" , } 7\n{\"utf8.name\",a=\"b\"} 8\n",
				"m{a=\"x y\",b=\"q\\\"u\\\\o\\nte\"}\t5\nm {a=\"z\"} 6\nn{ a=\"1\" , } 7\n{\"utf8.name\",a=\"b\"} 8\n",
				"m{a=\"x y\",b=\"q\\\"u\\\\o\\nte\"} 5 \nm {a=\"z\"} 6\nn{ a=\"1\" , } 7\n{\"utf8.name\",a=\"b\"} 8\n",
			},
			known: []bool{false, true, false, false, false},
		},
		{
			name: "blank lines, CRLF and a missing final newline",
			bodies: []string{
				"a 1\n\nb 2\n",
				"a 1\n\nb 3\n",
				"a 1\r\nb 2\r\n",
				"a 1\nb 2",
				"a 1\n  \nb 2\n",
				"# only a comment without newline",
			},
			known: []bool{false, true, false, false, false, false},
		},
		{
			name:   "label value with a newline",
			bodies: []string{"m{a=\"x\ny\"} 1\n", "m{a=\"x\ny\"} 2\n"},
			known:  []bool{false, false},
		},
		{
			name:   "dropped series",
			mod:    dropB,
			bodies: []string{knownBase, knownBase, strings.Replace(knownBase, "b 1.5", "b 7", 1), knownBase + "b 8\n"},
			known:  []bool{false, true, true, true},
		},
		{
			name:   "sample limit",
			mod:    func(c *config.ScrapeConfig) { c.SampleLimit = 3 },
			bodies: []string{knownBase, knownBase, knownBase + "b 2\n", knownBase + "c 1\n", knownBase + "c 1\n"},
			known:  []bool{false, true, true, false, false},
		},
		{
			name:   "out of order samples",
			bodies: []string{"a 1 1714564800000\n", "a 2 1714564700000\n", "a 2 1714564900000\n"},
			known:  []bool{false, true, true},
		},
		{
			name:   "parse error after known lines",
			bodies: []string{knownBase, knownBase + "b 2 3 4\n", knownBase + "b{ 1\n", knownBase, knownBase},
			known:  []bool{false, false, false, false, true},
		},
		{
			name:        "OpenMetrics with EOF and exemplars",
			contentType: om,
			bodies: []string{
				"# TYPE a counter\na_total 1 # {trace_id=\"x\"} 1 1714564800.000\n# EOF\n",
				"# TYPE a counter\na_total 2 # {trace_id=\"y\"} 1 1714564815.000\n# EOF\n",
				"# TYPE a counter\na_total 3\n# EOF\n",
			},
			// Scrape 2's exemplar sends it to the parser; scrape 3 is known.
			known: []bool{false, false, true},
		},
		{
			name:        "content type switches",
			contentType: "",
			mod:         func(c *config.ScrapeConfig) { c.ScrapeFallbackProtocol = "PrometheusText0.0.4" },
			bodies:      []string{knownBase, knownBase},
			known:       []bool{false, true},
		},
		{
			name:   "empty body",
			bodies: []string{knownBase, "", "\n", knownBase, knownBase},
			known:  []bool{false, false, true, false, true},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := jobConfig("j", "target:9100")
			if tc.mod != nil {
				tc.mod(cfg)
			}
			ct := tc.contentType
			if ct == "" && cfg.ScrapeFallbackProtocol == "" {
				ct = "text/plain; version=0.0.4"
			}
			took := compareKnownPath(t, cfg, ct, tc.bodies)
			if fmt.Sprint(took) != fmt.Sprint(tc.known) {
				t.Errorf("known path took scrapes %v, want %v", took, tc.known)
			}
		})
	}
}

// TestExactDecimalMatchesParseFloat checks the shortcut against strconv on
// the shapes it accepts and around its limits.
func TestExactDecimalMatchesParseFloat(t *testing.T) {
	for _, s := range []string{
		"0", "-0", "+0", "1", "10", "1.5", "-1.5", ".5", "1.", "0.1", "0.3", "123456789012345", "1234567890.12345",
		"0.000000000000001", "999999999999999", "-999999999999999", "9007199254740993", "0.1234567890123456",
		"3.141592653589793", "100000.01", "2.675", "1e3", "", ".", "-", "1..2", "1-", "0x10",
	} {
		v, ok := exactDecimal([]byte(s))
		want, err := strconv.ParseFloat(s, 64)
		if !ok {
			continue
		}
		if err != nil || math.Float64bits(v) != math.Float64bits(want) {
			t.Errorf("exactDecimal(%q) = %v (%#x), ParseFloat = %v (%#x), %v", s, v, math.Float64bits(v), want, math.Float64bits(want), err)
		}
	}
}

func FuzzKnownPathMatchesParser(f *testing.F) {
	f.Add([]byte(knownBase), []byte(knownBase))
	f.Add([]byte(knownBase), []byte(strings.Replace(knownBase, " 10\n", " 11 1714564815000\n", 1)))
	f.Add([]byte("a 1\nb{x=\"y z\"} 2 1714564800000\n"), []byte("a 2\nb{x=\"y z\"} 2 1714564815000\n"))
	f.Add([]byte(knownBase), []byte("# HELP a_total Things.\n# TYPE a_total counter\na_total{code=\"200\"} 1e3\nb -Inf\n"))
	f.Fuzz(func(t *testing.T, first, second []byte) {
		compareKnownPath(t, jobConfig("j", "target:9100"), "text/plain; version=0.0.4",
			[]string{string(first), string(second), string(second), string(first)})
	})
}

// refAppender stores nothing but hands out a distinct reference per new
// series, as a head does, so that staleness tracking does real work.
type refAppender struct{ last *storage.SeriesRef }

func (a refAppender) Append(ref storage.SeriesRef, _ labels.Labels, _ int64, _ float64) (storage.SeriesRef, error) {
	if ref == 0 {
		*a.last++
		ref = *a.last
	}
	return ref, nil
}
func (refAppender) Commit() error   { return nil }
func (refAppender) Rollback() error { return nil }

func TestKnownPathAllocatesNothingPerScrape(t *testing.T) {
	body := nodeExporterPayload(2000)
	sl := testLoop(t, jobConfig("j", "x:1"), nopAppendable{})
	app := refAppender{last: new(storage.SeriesRef)}
	ts := t0
	known := false
	scrape := func() {
		ts = ts.Add(15 * time.Second)
		var (
			res appendResult
			err error
		)
		res, known, err = sl.appendKnown(app, body, "text/plain; version=0.0.4", ts)
		if !known {
			res, err = sl.appendParsed(app, body, "text/plain; version=0.0.4", ts)
		}
		if err != nil || res.total != 2000 {
			t.Fatalf("scrape: %d samples, %v", res.total, err)
		}
	}
	scrape()
	scrape()
	if !known {
		t.Fatal("a repeat scrape of an unchanged body did not take the known path")
	}
	if raceEnabled {
		return
	}
	// A garbage collection may empty the line pool once; nothing else may
	// allocate.
	if allocs := testing.AllocsPerRun(20, scrape); allocs > 1 {
		t.Fatalf("%v allocations per repeat scrape of 2000 known series, want none", allocs)
	}
}
