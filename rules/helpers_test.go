package rules

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"github.com/argusmon/argus/query"
	"github.com/argusmon/argus/query/promqltest"
	"github.com/argusmon/argus/storage"
)

// testStorage is promqltest's in-memory storage with an Appender that
// commits all or nothing, like the TSDB.
type testStorage struct {
	*promqltest.Storage
	mu      sync.Mutex
	commits int
}

func newTestStorage() *testStorage { return &testStorage{Storage: promqltest.NewStorage()} }

func (s *testStorage) Appender(context.Context) storage.Appender { return &testAppender{s: s} }

type pendingSample struct {
	l labels.Labels
	t int64
	v float64
}

type testAppender struct {
	s       *testStorage
	pending []pendingSample
}

func (a *testAppender) Append(ref storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	a.pending = append(a.pending, pendingSample{l, t, v})
	return ref, nil
}

func (a *testAppender) Commit() error {
	a.s.mu.Lock()
	a.s.commits++
	a.s.mu.Unlock()
	for _, p := range a.pending {
		if err := a.s.Add(p.l, p.t, p.v); err != nil {
			return err
		}
	}
	return nil
}

func (a *testAppender) Rollback() error { a.pending = nil; return nil }

// samples returns the raw samples of the series matching the selector
// (stale markers included), keyed by series.
func (s *testStorage) samples(t *testing.T, matchers ...*labels.Matcher) map[string][]query.FPoint {
	t.Helper()
	q, err := s.Querier(math.MinInt64/2, math.MaxInt64/2)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	out := map[string][]query.FPoint{}
	set := q.Select(context.Background(), true, nil, matchers...)
	for set.Next() {
		series := set.At()
		it := series.Iterator(nil)
		for it.Next() != storage.ValNone {
			ts, v := it.At()
			key := seriesKey(series.Labels())
			out[key] = append(out[key], query.FPoint{T: ts, F: v})
		}
	}
	if err := set.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// seriesKey renders a label set as PromQL writes it: name{a="b", c="d"}.
func seriesKey(l labels.Labels) string {
	var parts []string
	l.Range(func(lb labels.Label) {
		if lb.Name != labels.MetricName {
			parts = append(parts, fmt.Sprintf("%s=%q", lb.Name, lb.Value))
		}
	})
	if len(parts) == 0 {
		return l.Get(labels.MetricName)
	}
	return l.Get(labels.MetricName) + "{" + strings.Join(parts, ", ") + "}"
}

func nameIs(name string) *labels.Matcher {
	return labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, name)
}

func isStale(f float64) bool { return value.IsStaleNaN(f) }

// recordingNotifier records every alert sent.
type recordingNotifier struct {
	mu   sync.Mutex
	sent []Alert
}

func (n *recordingNotifier) Send(alerts ...*Alert) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, a := range alerts {
		n.sent = append(n.sent, *a)
	}
}

func (n *recordingNotifier) take() []Alert {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := n.sent
	n.sent = nil
	return out
}

// testEnv is a manager over a real engine and in-memory storage.
type testEnv struct {
	st       *testStorage
	mgr      *Manager
	notifier *recordingNotifier
	dir      string
}

func newTestEnv(t *testing.T, opts ManagerOptions) *testEnv {
	t.Helper()
	st := newTestStorage()
	n := &recordingNotifier{}
	engine := query.NewEngine(query.EngineOpts{})
	if opts.QueryFunc == nil {
		opts.QueryFunc = EngineQueryFunc(engine, st)
	}
	opts.Appendable = st
	opts.Notifier = n
	m := NewManager(opts)
	t.Cleanup(m.Stop)
	return &testEnv{st: st, mgr: m, notifier: n, dir: t.TempDir()}
}

// load writes content as a rule file and loads it.
func (e *testEnv) load(t *testing.T, content string, ext labels.Labels) *Group {
	t.Helper()
	file := filepath.Join(e.dir, "rules.yml")
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := e.mgr.Update(time.Minute, []string{file}, ext, "http://argus.example:9090", nil); err != nil {
		t.Fatalf("Update: %v", err)
	}
	groups := e.mgr.RuleGroups()
	if len(groups) == 0 {
		t.Fatal("no groups loaded")
	}
	return groups[0]
}

func (e *testEnv) add(t *testing.T, lset labels.Labels, ts time.Time, v float64) {
	t.Helper()
	if err := e.st.Add(lset, ts.UnixMilli(), v); err != nil {
		t.Fatal(err)
	}
}

// at returns the time m minutes after a fixed epoch.
func at(m float64) time.Time {
	return time.Unix(1_700_000_000, 0).UTC().Add(time.Duration(m * float64(time.Minute)))
}

func staleNaN() float64 { return math.Float64frombits(value.StaleNaN) }
