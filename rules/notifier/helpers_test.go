package notifier

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/argusmon/argus/config"
)

// receivedAlert is an alert as an Alertmanager v2 receiver decodes it.
type receivedAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

// receiver is a fake Alertmanager recording the accepted POST
// /api/v2/alerts requests; it answers 503 while down.
type receiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	down     bool
	batches  [][]receivedAlert
	paths    []string
	types    []string
	rejected int
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	r := &receiver{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.down {
			r.rejected++
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		var alerts []receivedAlert
		if req.Method != http.MethodPost || json.Unmarshal(body, &alerts) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		r.batches = append(r.batches, alerts)
		r.paths = append(r.paths, req.URL.Path)
		r.types = append(r.types, req.Header.Get("Content-Type"))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) host() string {
	u, _ := url.Parse(r.srv.URL)
	return u.Host
}

func (r *receiver) setDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

// alerts returns every alert received, in order.
func (r *receiver) alerts() []receivedAlert {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []receivedAlert
	for _, b := range r.batches {
		out = append(out, b...)
	}
	return out
}

func (r *receiver) batchSizes() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int
	for _, b := range r.batches {
		out = append(out, len(b))
	}
	return out
}

func (r *receiver) rejections() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rejected
}

// amConfig is an alertmanagers entry pointing at the receivers.
func amConfig(rs ...*receiver) *config.AlertmanagerConfig {
	var targets []string
	for _, r := range rs {
		targets = append(targets, r.host())
	}
	return &config.AlertmanagerConfig{
		APIVersion:    "v2",
		Timeout:       model.Duration(2 * time.Second),
		StaticConfigs: []*config.StaticConfig{{Targets: targets}},
	}
}

// eventually fails the test unless cond holds within a few seconds.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
