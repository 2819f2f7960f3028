package web

import (
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
)

func TestFederation(t *testing.T) {
	// The test database holds up{job="a"} and up{job="b"} every 10s from 0s
	// to 100s; the clock stands at 150s, so their latest samples (100s) are
	// within the 5m lookback.
	h, db := newTestHandler(t, Options{ExternalLabels: func() labels.Labels { return labels.FromStrings("region", "eu", "job", "global") }})
	h.now = func() time.Time { return time.Unix(150, 0) }
	app := db.Appender(t.Context())
	for _, s := range []struct {
		lset labels.Labels
		t    int64
		v    float64
	}{
		{labels.FromStrings("__name__", "stale_metric", "job", "c"), 90_000, 1},
		{labels.FromStrings("__name__", "stale_metric", "job", "c"), 100_000, math.Float64frombits(value.StaleNaN)},
		{labels.FromStrings("__name__", "old_metric"), 1_000, 1}, // Outside the lookback from 150s... only with a short lookback.
		{labels.FromStrings("__name__", "go_info", "version", "go1.26", "instance", "i:1"), 120_000, 1},
		{labels.FromStrings("__name__", "future_metric"), 151_000, 1},
		{labels.FromStrings("__name__", "rate", "region", "us"), 140_000, 0.5},
	} {
		if _, err := app.Append(0, s.lset, s.t, s.v); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		matches []string
		code    int
		body    string
	}{
		{
			name:    "one selector",
			matches: []string{`up`},
			code:    200,
			body: `# TYPE up untyped
up{instance="x",job="a",region="eu"} 1 100000
up{instance="y",job="b",region="eu"} 0 100000
`,
		},
		{
			name:    "overlapping selectors, grouped by name, stale and future samples skipped",
			matches: []string{`{__name__=~".+"}`, `up{job="a"}`},
			code:    200,
			body: `# TYPE go_info untyped
go_info{instance="i:1",version="go1.26",job="global",region="eu"} 1 120000
# TYPE old_metric untyped
old_metric{instance="",job="global",region="eu"} 1 1000
# TYPE rate untyped
rate{region="us",instance="",job="global"} 0.5 140000
# TYPE up untyped
up{instance="x",job="a",region="eu"} 1 100000
up{instance="y",job="b",region="eu"} 0 100000
`,
		},
		{name: "no selector", code: 200, body: ""},
		{name: "bad selector", matches: []string{`up{`}, code: 400, body: "unexpected end of input"},
		{name: "empty matcher", matches: []string{`{job=~".*"}`}, code: 400, body: "at least one non-empty matcher"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(h, "GET", "/federate?"+url.Values{"match[]": tc.matches}.Encode(), nil, nil)
			if rec.Code != tc.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.code, rec.Body.String())
			}
			if tc.code != 200 {
				if !strings.Contains(rec.Body.String(), tc.body) {
					t.Errorf("body %q, want it to contain %q", rec.Body.String(), tc.body)
				}
				return
			}
			if got := rec.Body.String(); got != tc.body {
				t.Errorf("body:\n%s\nwant:\n%s", got, tc.body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}

	h.opts.LookbackDelta = time.Minute
	if got := do(h, "GET", "/federate?match[]=old_metric", nil, nil).Body.String(); got != "" {
		t.Errorf("sample older than the lookback delta federated: %q", got)
	}
}

// TestFederationRoundTrip parses /federate's answer as a scraping
// Prometheus would and checks that every series, value and timestamp
// survives.
func TestFederationRoundTrip(t *testing.T) {
	h, _ := newTestHandler(t, Options{})
	h.now = func() time.Time { return time.Unix(100, 0) }
	rec := do(h, "GET", "/federate?match[]=up", nil, http.Header{"Accept-Encoding": {"identity"}})
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("parse federation output: %v\n%s", err, rec.Body.String())
	}
	up := fams["up"]
	if len(fams) != 1 || up == nil || up.GetType().String() != "UNTYPED" || len(up.Metric) != 2 {
		t.Fatalf("parsed families %v", fams)
	}
	for i, want := range []struct {
		instance, job string
		v             float64
	}{{"x", "a", 1}, {"y", "b", 0}} {
		m := up.Metric[i]
		got := map[string]string{}
		for _, l := range m.Label {
			got[l.GetName()] = l.GetValue()
		}
		if got["instance"] != want.instance || got["job"] != want.job || m.GetUntyped().GetValue() != want.v || m.GetTimestampMs() != 100_000 {
			t.Errorf("metric %d = %v", i, m)
		}
	}
}
