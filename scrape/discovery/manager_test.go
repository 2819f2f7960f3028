package discovery

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/argusmon/argus/config"
)

func waitReady(t *testing.T, m *Manager, within time.Duration) time.Time {
	t.Helper()
	select {
	case <-m.Ready():
		return time.Now()
	case <-time.After(within):
		t.Fatalf("no batch within %s", within)
	}
	return time.Time{}
}

// TestManagerDebounce: a new job is ready as soon as its providers report;
// later changes are gathered for the debounce and go out as one batch.
func TestManagerDebounce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "t.json")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`[{"targets":["a:1"]}]`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const debounce = 300 * time.Millisecond
	m := NewManager(ctx, Options{Debounce: debounce, Providers: ProviderOptions{FilePollInterval: 10 * time.Millisecond}})

	jobs := map[string]Config{
		"static": {Static: []*config.StaticConfig{{Targets: []string{"s:1"}}}},
		"file":   {File: []*config.FileSDConfig{{Files: []string{path}, RefreshInterval: 3600e9}}},
	}
	if err := m.ApplyConfig(jobs); err != nil {
		t.Fatal(err)
	}
	// Static groups are there at once; the file job's first read may or may
	// not have landed already, depending on scheduling.
	got := m.Take()
	if len(got["static"]) != 1 {
		t.Fatalf("first take = %v, want the static job in it", got)
	}
	if _, ok := got["file"]; !ok {
		waitReady(t, m, time.Second)
		got = m.Take()
	}
	if len(got["file"]) != 1 || got["file"][0].Targets[0]["__address__"] != "a:1" {
		t.Fatalf("file job batch = %v", got)
	}

	// Two rewrites within the debounce: one batch with the final state.
	start := time.Now()
	write(`[{"targets":["a:2"]}]`)
	time.Sleep(50 * time.Millisecond)
	write(`[{"targets":["a:3","a:4"]}]`)
	at := waitReady(t, m, 2*time.Second)
	if at.Sub(start) < debounce-20*time.Millisecond {
		t.Fatalf("batch after %s, want it debounced by %s", at.Sub(start), debounce)
	}
	got = m.Take()
	if len(got) != 1 || len(got["file"]) != 1 || len(got["file"][0].Targets) != 2 {
		t.Fatalf("debounced batch = %v, want the file job with a:3 and a:4", summary(got["file"]))
	}

	// An unchanged config keeps providers; a removed job is forgotten.
	if err := m.ApplyConfig(map[string]Config{"file": jobs["file"]}); err != nil {
		t.Fatal(err)
	}
	if got := m.Take(); len(got) != 0 {
		t.Fatalf("unchanged job re-sent: %v", got)
	}

	cancel()
	select {
	case _, ok := <-m.Ready():
		for ok {
			_, ok = <-m.Ready()
		}
	case <-time.After(time.Second):
		t.Fatal("Ready not closed after the context ended")
	}
}
