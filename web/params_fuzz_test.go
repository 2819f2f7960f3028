package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/promql/parser"
)

// FuzzParamParsing feeds arbitrary strings to the parameter parsers: none
// may panic, and a parsed time must survive the round trip to milliseconds.
func FuzzParamParsing(f *testing.F) {
	for _, s := range []string{"", "0", "1.5", "-1e300", "NaN", "+Inf", "1e19", "5m", "1h30m", "2015-07-01T20:10:51.781Z",
		"-292273086-05-16T16:47:06Z", "292277026596-12-04T15:30:07.999999999Z", `up{job="a"}`, `{__name__=~".+"}`, "{", `{"a.b"="c"}`} {
		f.Add(s)
	}
	p := parser.NewParser(parser.Options{})
	f.Fuzz(func(t *testing.T, s string) {
		if tm, err := parseTime(s); err == nil {
			_ = tm.UnixMilli()
		}
		if d, err := parseDuration(s); err == nil && strings.TrimSpace(s) == "" {
			t.Errorf("parseDuration(%q) = %v, want an error", s, d)
		}
		_, _ = parseLimit(s)
		if sets, err := parseMatchers(p, []string{s, s}); err == nil {
			for _, set := range sets {
				if !hasNonEmptyMatcher(set) {
					t.Errorf("parseMatchers(%q) accepted a selector matching every series", s)
				}
			}
		}
	})
}

// FuzzAPIQueryString sends arbitrary query strings to the parameter-heavy
// endpoints: every answer must be well-formed JSON with a sane status code.
func FuzzAPIQueryString(f *testing.F) {
	paths := []string{"/api/v1/series", "/api/v1/labels", "/api/v1/label/job/values", "/api/v1/query_exemplars",
		"/api/v1/format_query", "/api/v1/parse_query", "/api/v1/targets", "/api/v1/metadata", "/api/v1/targets/metadata"}
	for i, q := range []string{"match[]=up", "match[]=up&limit=1&start=0&end=100", "start=NaN&end=-Inf", "query=up&start=1&end=0",
		"query=sum(rate(up[5m]))", "query=%ff", "match[]=%7B", "limit=9223372036854775808", "state=dropped&scrapePool=x",
		"match_target=%7Bjob%3D%22a%22%7D&limit=-1"} {
		f.Add(uint8(i), q)
	}
	h, _ := newTestHandler(f, Options{})
	f.Fuzz(func(t *testing.T, which uint8, rawQuery string) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL.Path = paths[int(which)%len(paths)]
		req.URL.RawQuery = rawQuery
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusUnprocessableEntity:
			if !json.Valid(rec.Body.Bytes()) {
				t.Fatalf("%s?%s: invalid JSON %q", req.URL.Path, rawQuery, rec.Body.String())
			}
		case http.StatusNoContent:
		default:
			t.Fatalf("%s?%s: status %d %s", req.URL.Path, rawQuery, rec.Code, rec.Body.String())
		}
	})
}
