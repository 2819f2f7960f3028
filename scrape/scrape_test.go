package scrape

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/prometheus/prometheus/model/timestamp"

	"github.com/argusmon/argus/config"
	"github.com/argusmon/argus/storage"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func TestScrapeSamples(t *testing.T) {
	cases := []struct {
		name   string
		body   string
		mod    func(*config.ScrapeConfig)
		want   []string // series with $ADDR for the target address, sorted.
		wantTS []int64  // timestamps of want; nil means the scrape time.
	}{
		{
			name: "target labels are attached",
			body: "metric_a 1\nmetric_b{x=\"y\"} 2\n",
			want: []string{
				`{__name__="metric_a", instance="$ADDR", job="j"}`,
				`{__name__="metric_b", instance="$ADDR", job="j", x="y"}`,
			},
		},
		{
			name: "metric_relabel_configs drop",
			body: "metric_a 1\nmetric_b 2\n",
			mod: func(c *config.ScrapeConfig) {
				c.MetricRelabelConfigs = []*relabel.Config{rule(relabel.Drop, func(r *relabel.Config) {
					r.SourceLabels = model.LabelNames{model.MetricNameLabel}
					r.Regex = re("metric_b")
				})}
			},
			want: []string{`{__name__="metric_a", instance="$ADDR", job="j"}`},
		},
		{
			name: "metric_relabel_configs see target labels",
			body: "metric_a 1\n",
			mod: func(c *config.ScrapeConfig) {
				c.MetricRelabelConfigs = []*relabel.Config{rule(relabel.Replace, func(r *relabel.Config) {
					r.SourceLabels = model.LabelNames{model.JobLabel}
					r.TargetLabel = "from_job"
				})}
			},
			want: []string{`{__name__="metric_a", from_job="j", instance="$ADDR", job="j"}`},
		},
		{
			name: "honor_labels false keeps conflicting exposed labels as exported_",
			body: "m{job=\"other\",instance=\"i\"} 1\n",
			want: []string{`{__name__="m", exported_instance="i", exported_job="other", instance="$ADDR", job="j"}`},
		},
		{
			name: "honor_labels false prefixes again when exported_ is taken",
			body: "m{job=\"x\",exported_job=\"y\"} 1\n",
			want: []string{`{__name__="m", exported_exported_job="x", exported_job="y", instance="$ADDR", job="j"}`},
		},
		{
			name: "honor_labels true keeps exposed values",
			body: "m{job=\"other\",instance=\"i\"} 1\nn 2\n",
			mod:  func(c *config.ScrapeConfig) { c.HonorLabels = true },
			want: []string{
				`{__name__="m", instance="i", job="other"}`,
				`{__name__="n", instance="$ADDR", job="j"}`,
			},
		},
		{
			name:   "honor_timestamps true uses exposed timestamps",
			body:   "m 1 1000\nn 2\n",
			want:   []string{`{__name__="m", instance="$ADDR", job="j"}`, `{__name__="n", instance="$ADDR", job="j"}`},
			wantTS: []int64{1000, timestamp.FromTime(t0)},
		},
		{
			name:   "honor_timestamps false ignores them",
			body:   "m 1 1000\n",
			mod:    func(c *config.ScrapeConfig) { c.HonorTimestamps = false },
			want:   []string{`{__name__="m", instance="$ADDR", job="j"}`},
			wantTS: []int64{timestamp.FromTime(t0)},
		},
		{
			name: "OpenMetrics by Content-Type",
			body: "# TYPE c counter\nc_total 3\nc_created 1000\n# EOF\n",
			want: []string{`{__name__="c_created", instance="$ADDR", job="j"}`, `{__name__="c_total", instance="$ADDR", job="j"}`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t, tc.body)
			if strings.HasSuffix(tc.body, "# EOF\n") {
				srv.contentType = "application/openmetrics-text; version=1.0.0; charset=utf-8"
			}
			cfg := jobConfig("j", srv.addr())
			if tc.mod != nil {
				tc.mod(cfg)
			}
			st := newFakeStorage()
			sl := testLoop(t, cfg, st)
			sl.scrapeAndReport(t0)

			if err := sl.target.LastError(); err != nil {
				t.Fatalf("scrape failed: %v", err)
			}
			commit := st.lastCommit(t)
			got := scrapedSeries(commit)
			slices.Sort(got)
			want := make([]string, len(tc.want))
			for i, w := range tc.want {
				want[i] = strings.ReplaceAll(w, "$ADDR", srv.addr())
			}
			if !slices.Equal(got, want) {
				t.Fatalf("series:\n got %q\nwant %q", got, want)
			}
			for i, ts := range tc.wantTS {
				s, _ := find(commit, want[i])
				if s.t != ts {
					t.Errorf("%s at %d, want %d", want[i], s.t, ts)
				}
			}
		})
	}
}

func TestReportSeries(t *testing.T) {
	srv := newTestServer(t, "a 1\nb 2\nc 3\n")
	cfg := jobConfig("j", srv.addr())
	cfg.MetricRelabelConfigs = []*relabel.Config{rule(relabel.Drop, func(r *relabel.Config) {
		r.SourceLabels = model.LabelNames{model.MetricNameLabel}
		r.Regex = re("c")
	})}
	st := newFakeStorage()
	sl := testLoop(t, cfg, st)

	for i, wantAdded := range []float64{2, 0} {
		ts := t0.Add(time.Duration(i) * time.Minute)
		sl.scrapeAndReport(ts)
		commit := st.lastCommit(t)
		want := map[string]float64{
			"up":                                    1,
			"scrape_samples_scraped":                3,
			"scrape_samples_post_metric_relabeling": 2,
			"scrape_series_added":                   wantAdded,
		}
		for name, v := range want {
			series := fmt.Sprintf(`{__name__=%q, instance=%q, job="j"}`, name, srv.addr())
			s, ok := find(commit, series)
			if !ok || s.v != v || s.t != timestamp.FromTime(ts) {
				t.Errorf("scrape %d: %s = %v at %d (found %v), want %v at %d", i, series, s.v, s.t, ok, v, timestamp.FromTime(ts))
			}
		}
		dur, ok := find(commit, fmt.Sprintf(`{__name__="scrape_duration_seconds", instance=%q, job="j"}`, srv.addr()))
		if !ok || dur.v <= 0 {
			t.Errorf("scrape %d: scrape_duration_seconds = %v (found %v), want > 0", i, dur.v, ok)
		}
	}
	if sl.target.Health() != HealthGood || !sl.target.LastScrape().Equal(t0.Add(time.Minute)) || sl.target.LastScrapeDuration() <= 0 {
		t.Fatalf("target status: health %s, last scrape %s, duration %s", sl.target.Health(), sl.target.LastScrape(), sl.target.LastScrapeDuration())
	}
}

// TestFailedScrapeCommitsNothing checks the all-or-nothing rule: after a good
// scrape, a failing one commits no scraped sample, only up=0, the other report
// series and staleness markers for everything the good scrape had.
func TestFailedScrapeCommitsNothing(t *testing.T) {
	cases := []struct {
		name      string
		mod       func(*config.ScrapeConfig)
		break_    func(*testServer)
		wantErr   string
		rollback  bool
		wantTotal float64
	}{
		{
			name:      "sample_limit exceeded",
			mod:       func(c *config.ScrapeConfig) { c.SampleLimit = 2 },
			break_:    func(s *testServer) { s.body = "a 1\nb 2\nc 3\n" },
			wantErr:   "sample limit exceeded (3 samples after metric relabeling, limit 2)",
			rollback:  true,
			wantTotal: 3,
		},
		{
			name:      "malformed body names the line",
			break_:    func(s *testServer) { s.body = "a 1\n# HELP b help\n\nb{x=\"1\" 2\nc 3\n" },
			wantErr:   "line 4",
			rollback:  true,
			wantTotal: 1, // what parsed before the error, as Prometheus reports it.
		},
		{
			name:      "OpenMetrics without EOF",
			break_:    func(s *testServer) { s.body = "a 1\n"; s.contentType = "application/openmetrics-text; version=1.0.0" },
			wantErr:   "at end of input",
			rollback:  true,
			wantTotal: 1,
		},
		{
			name:     "unsupported Content-Type",
			break_:   func(s *testServer) { s.contentType = "application/json" },
			wantErr:  `unsupported Content-Type "application/json"`,
			rollback: true,
		},
		{
			name:    "HTTP error status",
			break_:  func(s *testServer) { s.status = http.StatusInternalServerError },
			wantErr: "server returned HTTP status 500 Internal Server Error",
		},
		{
			name:    "body_size_limit",
			mod:     func(c *config.ScrapeConfig) { c.BodySizeLimit = 16 },
			break_:  func(s *testServer) { s.body = "a 1\nb 2\nc 3\nd 4\ne 5\n" },
			wantErr: "body size limit exceeded",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := newTestServer(t, "a 1\nb 2\n")
			cfg := jobConfig("j", srv.addr())
			if tc.mod != nil {
				tc.mod(cfg)
			}
			st := newFakeStorage()
			sl := testLoop(t, cfg, st)
			sl.scrapeAndReport(t0)
			if err := sl.target.LastError(); err != nil {
				t.Fatalf("first scrape failed: %v", err)
			}

			srv.set(tc.break_)
			ts := t0.Add(time.Minute)
			sl.scrapeAndReport(ts)

			err := sl.target.LastError()
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("last error = %v, want it to contain %q", err, tc.wantErr)
			}
			if sl.target.Health() != HealthBad {
				t.Errorf("health = %s, want down", sl.target.Health())
			}
			if got := st.rollbacks > 0; got != tc.rollback {
				t.Errorf("rolled back = %v, want %v", got, tc.rollback)
			}
			commit := st.lastCommit(t)
			for _, name := range []string{"a", "b"} {
				s, ok := find(commit, fmt.Sprintf(`{__name__=%q, instance=%q, job="j"}`, name, srv.addr()))
				if !ok || !s.stale() || s.t != timestamp.FromTime(ts) {
					t.Errorf("%s: got %+v (found %v), want a staleness marker at the scrape time", name, s, ok)
				}
			}
			if n := len(scrapedSeries(commit)); n != 2 {
				t.Errorf("committed %d scraped series, want only the 2 staleness markers", n)
			}
			up, _ := find(commit, fmt.Sprintf(`{__name__="up", instance=%q, job="j"}`, srv.addr()))
			if up.v != 0 {
				t.Errorf("up = %v, want 0", up.v)
			}
			scraped, _ := find(commit, fmt.Sprintf(`{__name__="scrape_samples_scraped", instance=%q, job="j"}`, srv.addr()))
			if scraped.v != tc.wantTotal {
				t.Errorf("scrape_samples_scraped = %v, want %v", scraped.v, tc.wantTotal)
			}

			// Recovery: the next good scrape has no staleness markers left to write.
			srv.set(func(s *testServer) { s.body, s.status, s.contentType = "a 1\nb 2\n", 200, "text/plain" })
			sl.scrapeAndReport(t0.Add(2 * time.Minute))
			for _, s := range st.lastCommit(t) {
				if s.stale() {
					t.Errorf("unexpected staleness marker after recovery: %s", s.lset)
				}
			}
			if sl.target.Health() != HealthGood {
				t.Errorf("health after recovery = %s (%v)", sl.target.Health(), sl.target.LastError())
			}
		})
	}
}

func TestSampleLimitMetric(t *testing.T) {
	srv := newTestServer(t, "a 1\nb 2\n")
	cfg := jobConfig("j", srv.addr())
	cfg.SampleLimit = 1
	sl := testLoop(t, cfg, newFakeStorage())
	sl.scrapeAndReport(t0)
	if got := counterValue(sl.metrics.sampleLimitExceeded); got != 1 {
		t.Fatalf("argus_target_scrapes_exceeded_sample_limit_total = %v, want 1", got)
	}
}

func TestStaleness(t *testing.T) {
	srv := newTestServer(t, "a 1\nb 2\nc 3 1000\n")
	st := newFakeStorage()
	sl := testLoop(t, jobConfig("j", srv.addr()), st)
	sl.scrapeAndReport(t0)

	srv.set(func(s *testServer) { s.body = "a 1\n" })
	ts := t0.Add(time.Minute)
	sl.scrapeAndReport(ts)
	commit := st.lastCommit(t)
	series := func(n string) string { return fmt.Sprintf(`{__name__=%q, instance=%q, job="j"}`, n, srv.addr()) }
	if s, ok := find(commit, series("b")); !ok || !s.stale() || s.t != timestamp.FromTime(ts) {
		t.Errorf("b: got %+v (found %v), want a staleness marker at %d", s, ok, timestamp.FromTime(ts))
	}
	if s, ok := find(commit, series("a")); !ok || s.stale() || s.v != 1 {
		t.Errorf("a: got %+v (found %v), want the value 1", s, ok)
	}
	// A series with its own timestamp is the exporter's business.
	if s, ok := find(commit, series("c")); ok {
		t.Errorf("c has an exposed timestamp and must not get a staleness marker, got %+v", s)
	}

	// A series only comes back stale-free.
	srv.set(func(s *testServer) { s.body = "a 1\nb 2\n" })
	sl.scrapeAndReport(t0.Add(2 * time.Minute))
	for _, s := range st.lastCommit(t) {
		if s.stale() {
			t.Errorf("unexpected staleness marker: %s", s.lset)
		}
	}

	// An empty exposition is a good scrape of nothing.
	srv.set(func(s *testServer) { s.body = "" })
	sl.scrapeAndReport(t0.Add(3 * time.Minute))
	commit = st.lastCommit(t)
	for _, n := range []string{"a", "b"} {
		if s, ok := find(commit, series(n)); !ok || !s.stale() {
			t.Errorf("%s after empty scrape: %+v (found %v), want stale", n, s, ok)
		}
	}
	if sl.target.Health() != HealthGood {
		t.Errorf("empty scrape made the target %s", sl.target.Health())
	}
}

func TestPerSampleIngestErrorsAreSkipped(t *testing.T) {
	srv := newTestServer(t, "a 1\nb 2\nc 3\n")
	st := newFakeStorage()
	st.reject = func(l labels.Labels) error {
		if l.Get(model.MetricNameLabel) == "b" {
			return fmt.Errorf("head: %w", storage.ErrOutOfOrderSample)
		}
		return nil
	}
	sl := testLoop(t, jobConfig("j", srv.addr()), st)
	sl.scrapeAndReport(t0)
	if err := sl.target.LastError(); err != nil {
		t.Fatalf("an out-of-order sample failed the scrape: %v", err)
	}
	got := scrapedSeries(st.lastCommit(t))
	if len(got) != 2 {
		t.Fatalf("committed %q, want a and c", got)
	}
	if v := counterValue(sl.metrics.outOfOrder); v != 1 {
		t.Fatalf("argus_target_scrapes_sample_out_of_order_total = %v, want 1", v)
	}
}

func TestStorageErrorRollsBackScrape(t *testing.T) {
	srv := newTestServer(t, "a 1\nb 2\n")
	st := newFakeStorage()
	st.reject = func(l labels.Labels) error {
		if l.Get(model.MetricNameLabel) == "b" {
			return errors.New("disk full")
		}
		return nil
	}
	sl := testLoop(t, jobConfig("j", srv.addr()), st)
	sl.scrapeAndReport(t0)
	if err := sl.target.LastError(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("last error = %v, want disk full", err)
	}
	if got := scrapedSeries(st.lastCommit(t)); len(got) != 0 {
		t.Fatalf("committed %q after a storage error, want nothing", got)
	}
}

func TestDuplicateSeriesInOneScrape(t *testing.T) {
	srv := newTestServer(t, "a 1\na 2\n")
	st := newFakeStorage()
	sl := testLoop(t, jobConfig("j", srv.addr()), st)
	sl.scrapeAndReport(t0)
	if got := scrapedSeries(st.lastCommit(t)); len(got) != 1 {
		t.Fatalf("committed %q, want the first a only", got)
	}
	if v := counterValue(sl.metrics.duplicate); v != 1 {
		t.Fatalf("duplicate counter = %v, want 1", v)
	}
}

func TestRequestHeadersAndGzip(t *testing.T) {
	srv := newTestServer(t, "a 1\n")
	srv.gzip = true
	st := newFakeStorage()
	sl := testLoop(t, jobConfig("j", srv.addr()), st)
	sl.scrapeAndReport(t0)
	if err := sl.target.LastError(); err != nil {
		t.Fatal(err)
	}
	if got := scrapedSeries(st.lastCommit(t)); len(got) != 1 {
		t.Fatalf("gzip body: committed %q, want a", got)
	}
	h := srv.request().Header
	want := map[string]string{
		"Accept":                              "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.7,application/openmetrics-text;version=0.0.1;q=0.6,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=0.0.4;q=0.4,*/*;q=0.3",
		"Accept-Encoding":                     "gzip",
		"User-Agent":                          "Argus/test",
		"X-Prometheus-Scrape-Timeout-Seconds": "10",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func TestSecondScrapeDoesNotAllocatePerSeries(t *testing.T) {
	var sb strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&sb, "metric_%d{a=\"x\",b=\"%d\"} %d\n", i%50, i, i)
	}
	body := []byte(sb.String())
	sl := testLoop(t, jobConfig("j", "x:1"), nopAppendable{})
	app := nopAppender{}
	if _, err := sl.appendExposition(app, body, "text/plain", t0); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := sl.appendExposition(app, body, "text/plain", t0); err != nil {
			t.Fatal(err)
		}
	})
	// The parser itself costs a handful of allocations per scrape; none may
	// scale with the 2000 series.
	if allocs > 20 {
		t.Fatalf("%v allocations per scrape of 2000 known series, want a constant handful", allocs)
	}
}

func TestParseErrorLine(t *testing.T) {
	cases := []struct {
		body string
		want string
	}{
		{"oops\n", "line 1"},
		{"\n\nbad{\n", "line 3"},
		{"a 1\nb 2\n# TYPE c counter\nc 1 2 3\n", "line 4"},
		{"a 1\n\n\nb x\n", "line 4"},
	}
	for _, tc := range cases {
		sl := testLoop(t, jobConfig("j", "x:1"), nopAppendable{})
		_, err := sl.appendExposition(nopAppender{}, []byte(tc.body), "text/plain", t0)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("body %q: error %v, want it to contain %q", tc.body, err, tc.want)
		}
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}
