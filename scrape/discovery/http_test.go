package discovery

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	commoncfg "github.com/prometheus/common/config"

	"github.com/argusmon/argus/config"
)

func TestHTTPProvider(t *testing.T) {
	var (
		mu          sync.Mutex
		status      int
		contentType string
		body        string
		refreshHdr  string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		refreshHdr = r.Header.Get("X-Prometheus-Refresh-Interval-Seconds")
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)

	h, err := NewHTTP(&config.HTTPSDConfig{URL: srv.URL, HTTPClientConfig: commoncfg.DefaultHTTPClientConfig}, HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	src := func(i string) string { return srv.URL + ":" + i }
	cases := []struct {
		name, ct, body string
		status         int
		want           map[string][]string
		wantErr        string
	}{
		{name: "two groups", status: 200, ct: "application/json; charset=utf-8",
			body: `[{"targets":["a:1"],"labels":{"x":"y"}},{"targets":["b:1","b:2"]}]`,
			want: map[string][]string{src("0"): {"a:1"}, src("1"): {"b:1", "b:2"}}},
		{name: "non-200 keeps the last good", status: 503, ct: "application/json", body: `[]`, wantErr: "503"},
		{name: "wrong content type", status: 200, ct: "text/plain", body: `[]`, wantErr: "unsupported content type"},
		{name: "bad JSON", status: 200, ct: "application/json", body: `[{"targets":`, wantErr: "parsing response"},
		{name: "shrunk list removes the last group", status: 200, ct: "application/json",
			body: `[{"targets":["a:2"]}]`,
			want: map[string][]string{src("0"): {"a:2"}, src("1"): {}}},
	}
	for _, tc := range cases {
		mu.Lock()
		status, contentType, body = tc.status, tc.ct, tc.body
		mu.Unlock()
		groups, err := h.fetch(context.Background())
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("%s: err = %v, want %q", tc.name, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if diff := compareSummary(summary(groups), tc.want); diff != "" {
			t.Fatalf("%s: %s", tc.name, diff)
		}
		for _, g := range groups {
			if len(g.Targets) > 0 && string(g.Labels[urlLabel]) != srv.URL {
				t.Fatalf("%s: __meta_url = %q", tc.name, g.Labels[urlLabel])
			}
		}
	}
	if refreshHdr != "60" {
		t.Fatalf("refresh interval header = %q, want 60", refreshHdr)
	}
}
