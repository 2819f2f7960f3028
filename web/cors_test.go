package web

import (
	"net/http"
	"testing"
)

func TestCORS(t *testing.T) {
	only, err := CompileCORSOrigin(`https://(grafana|dash)\.example\.com`)
	if err != nil {
		t.Fatal(err)
	}
	any, err := CompileCORSOrigin(".*")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		opts       Options
		method     string
		path       string
		origin     string
		wantCode   int
		wantOrigin string
	}{
		{"default allows any origin", Options{}, "GET", "/api/v1/labels", "https://x.example", 200, "*"},
		{"explicit .* is *", Options{CORSOrigin: any}, "GET", "/api/v1/query?query=1", "https://x.example", 200, "*"},
		{"matching origin echoed", Options{CORSOrigin: only}, "GET", "/api/v1/status/buildinfo", "https://grafana.example.com", 200, "https://grafana.example.com"},
		{"anchored: suffix does not match", Options{CORSOrigin: only}, "GET", "/api/v1/labels", "https://grafana.example.com.evil", 200, ""},
		{"other origin refused", Options{CORSOrigin: only}, "GET", "/api/v1/labels", "https://evil.example", 200, ""},
		{"errors carry CORS headers too", Options{}, "GET", "/api/v1/series", "https://x.example", 400, "*"},
		{"preflight", Options{CORSOrigin: only}, "OPTIONS", "/api/v1/query_range", "https://dash.example.com", 204, "https://dash.example.com"},
		{"preflight on any API path", Options{}, "OPTIONS", "/api/v1/label/job/values", "https://x.example", 204, "*"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newTestHandler(t, tc.opts)
			rec := do(h, tc.method, tc.path, nil, http.Header{"Origin": {tc.origin}})
			if rec.Code != tc.wantCode {
				t.Errorf("code %d, want %d: %s", rec.Code, tc.wantCode, rec.Body.String())
			}
			if got := rec.Header().Get("Access-Control-Allow-Origin"); got != tc.wantOrigin {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got, tc.wantOrigin)
			}
			if got := rec.Header().Get("Vary"); got != "Origin" {
				t.Errorf("Vary = %q, want Origin", got)
			}
			if tc.wantOrigin != "" {
				if got := rec.Header().Get("Access-Control-Allow-Methods"); got != "GET, POST, OPTIONS" {
					t.Errorf("Access-Control-Allow-Methods = %q", got)
				}
				if got := rec.Header().Get("Access-Control-Allow-Headers"); got != "Accept, Authorization, Content-Type, Origin" {
					t.Errorf("Access-Control-Allow-Headers = %q", got)
				}
			}
		})
	}
	// Same-origin requests get no CORS headers.
	h, _ := newTestHandler(t, Options{})
	if rec := do(h, "GET", "/api/v1/labels", nil, nil); rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS header on a request without Origin")
	}
	if _, err := CompileCORSOrigin("("); err == nil {
		t.Error("CompileCORSOrigin accepted an invalid regexp")
	}
}
