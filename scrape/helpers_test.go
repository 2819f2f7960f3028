package scrape

import (
	"compress/gzip"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/prometheus/prometheus/model/value"

	"github.com/argusmon/argus/config"
	"github.com/argusmon/argus/scrape/discovery"
	"github.com/argusmon/argus/storage"
)

// staticGroups returns the target groups of a job's static_configs, as the
// discovery manager would deliver them.
func staticGroups(cfg *config.ScrapeConfig) []*discovery.Group {
	return discovery.StaticGroups(cfg.StaticConfigs)
}

// sample is one committed sample as the fake storage saw it.
type sample struct {
	lset labels.Labels
	t    int64
	v    float64
}

func (s sample) stale() bool { return value.IsStaleNaN(s.v) }

// fakeStorage is an Appendable that records every commit and enforces the
// in-order rule per series like the TSDB head does.
type fakeStorage struct {
	mu        sync.Mutex
	refs      map[string]storage.SeriesRef
	newest    map[storage.SeriesRef]int64
	commits   [][]sample
	rollbacks int
	// reject, if set, is consulted for every Append.
	reject func(lset labels.Labels) error
}

func newFakeStorage() *fakeStorage {
	return &fakeStorage{refs: map[string]storage.SeriesRef{}, newest: map[storage.SeriesRef]int64{}}
}

func (s *fakeStorage) Appender(context.Context) storage.Appender { return &fakeAppender{s: s} }

// allCommits returns a copy of the commits so far.
func (s *fakeStorage) allCommits() [][]sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]sample(nil), s.commits...)
}

func (s *fakeStorage) lastCommit(t *testing.T) []sample {
	t.Helper()
	c := s.allCommits()
	if len(c) == 0 {
		t.Fatal("nothing committed")
	}
	return c[len(c)-1]
}

type fakeAppender struct {
	s       *fakeStorage
	pending []sample
}

func (a *fakeAppender) Append(_ storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	if a.s.reject != nil {
		if err := a.s.reject(l); err != nil {
			return 0, err
		}
	}
	key := l.String()
	ref, ok := a.s.refs[key]
	if !ok {
		ref = storage.SeriesRef(len(a.s.refs) + 1)
		a.s.refs[key] = ref
	}
	if newest, ok := a.s.newest[ref]; ok && t < newest {
		return 0, storage.ErrOutOfOrderSample
	}
	a.pending = append(a.pending, sample{lset: l, t: t, v: v})
	return ref, nil
}

func (a *fakeAppender) Commit() error {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	for _, smp := range a.pending {
		ref := a.s.refs[smp.lset.String()]
		if smp.t > a.s.newest[ref] {
			a.s.newest[ref] = smp.t
		}
	}
	a.s.commits = append(a.s.commits, a.pending)
	a.pending = nil
	return nil
}

func (a *fakeAppender) Rollback() error {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	a.s.rollbacks++
	a.pending = nil
	return nil
}

// find returns the sample of the series whose String() is series.
func find(samples []sample, series string) (sample, bool) {
	for _, s := range samples {
		if s.lset.String() == series {
			return s, true
		}
	}
	return sample{}, false
}

// scrapedNames returns the metric names in samples, report series excluded.
func scrapedSeries(samples []sample) []string {
	var out []string
	for _, s := range samples {
		name := s.lset.Get(model.MetricNameLabel)
		isReport := false
		for _, r := range reportNames {
			isReport = isReport || name == r
		}
		if !isReport {
			out = append(out, s.lset.String())
		}
	}
	return out
}

// testServer is an httptest server whose response the test can change.
type testServer struct {
	*httptest.Server
	mu          sync.Mutex
	body        string
	contentType string
	status      int
	gzip        bool
	lastReq     *http.Request
}

func newTestServer(t *testing.T, body string) *testServer {
	tg := &testServer{body: body, contentType: "text/plain; version=0.0.4", status: http.StatusOK}
	tg.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tg.mu.Lock()
		body, ct, status, gz := tg.body, tg.contentType, tg.status, tg.gzip
		tg.lastReq = r.Clone(context.Background())
		tg.mu.Unlock()
		w.Header().Set("Content-Type", ct)
		if gz {
			w.Header().Set("Content-Encoding", "gzip")
			w.WriteHeader(status)
			zw := gzip.NewWriter(w)
			_, _ = zw.Write([]byte(body))
			_ = zw.Close()
			return
		}
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(tg.Close)
	return tg
}

func (tg *testServer) set(f func(tg *testServer)) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	f(tg)
}

func (tg *testServer) request() *http.Request {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.lastReq
}

func (tg *testServer) addr() string { return strings.TrimPrefix(tg.URL, "http://") }

// jobConfig returns a scrape config with the defaults the config loader fills
// in, using a short interval so tests run fast. The timeout equals the
// interval to leave a loaded machine as much room as allowed.
func jobConfig(job string, targets ...string) *config.ScrapeConfig {
	return &config.ScrapeConfig{
		JobName:           job,
		ScrapeInterval:    model.Duration(50 * time.Millisecond),
		ScrapeTimeout:     model.Duration(50 * time.Millisecond),
		MetricsPath:       "/metrics",
		Scheme:            "http",
		HonorTimestamps:   true,
		EnableCompression: true,
		StaticConfigs:     []*config.StaticConfig{{Targets: targets}},
		HTTPClientConfig:  commoncfg.DefaultHTTPClientConfig,
	}
}

func rule(action relabel.Action, mod func(*relabel.Config)) *relabel.Config {
	c := relabel.DefaultRelabelConfig
	c.Action = action
	c.NameValidationScheme = model.UTF8Validation
	if mod != nil {
		mod(&c)
	}
	return &c
}

func re(s string) relabel.Regexp { return relabel.MustNewRegexp(s) }

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// testLoop builds the loop the manager would run for the first target of
// cfg, without starting it, so a test can drive scrapes one by one.
//
// Its scrapes are driven by the test, so the interval does not matter; the
// timeout is generous so a loaded machine does not fail them.
func testLoop(t testing.TB, cfg *config.ScrapeConfig, app Appendable) *scrapeLoop {
	t.Helper()
	cp := *cfg
	cfg = &cp
	cfg.ScrapeInterval = model.Duration(time.Minute)
	cfg.ScrapeTimeout = model.Duration(10 * time.Second)
	settings, err := newPoolSettings(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	active, _, failures := buildTargets(cfg, settings.targetRelabel, staticGroups(cfg))
	if len(failures) > 0 || len(active) == 0 {
		t.Fatalf("no target: %v", failures)
	}
	client, err := commoncfg.NewClientFromConfig(cfg.HTTPClientConfig, cfg.JobName)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := newTargetScraper(active[0], client, settings.accept, settings.acceptEncoding, "Argus/test", settings.bodySizeLimit)
	if err != nil {
		t.Fatal(err)
	}
	deps := loopDeps{
		appendable: app,
		appCtx:     context.Background(),
		scrapeCtx:  context.Background(),
		buffers:    newBufferPool(),
		lines:      newLinePool(),
		metrics:    newMetrics(nil, discardLogger()),
		logger:     discardLogger(),
	}
	return newScrapeLoop(deps, active[0], settings, sc, nil)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
