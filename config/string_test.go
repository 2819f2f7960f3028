package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestStringRedactsSecretsAndReloads(t *testing.T) {
	cfg, err := LoadFile(filepath.Join("testdata", "good.yml"))
	if err != nil {
		t.Fatalf("LoadFile: %v", err)
	}
	out := cfg.String()
	for _, want := range []string{"password: <secret>", "job_name: secure", "scrape_timeout: 10s", "max_shards: 10"} {
		if !strings.Contains(out, want) {
			t.Errorf("String() lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hunter2") {
		t.Errorf("String() leaks a password:\n%s", out)
	}

	// The effective config is itself a valid config that means the same.
	again, err := Load([]byte(out), "effective.yml")
	if err != nil {
		t.Fatalf("reloading String() output: %v\n%s", err, out)
	}
	if again.String() != out {
		t.Errorf("String() is not stable across a reload:\n--- first\n%s\n--- second\n%s", out, again.String())
	}
}

func TestStringRedactsURLPassword(t *testing.T) {
	cfg, err := Load([]byte("remote_write:\n  - url: https://user:pa55@example.org/push\n"), "rw.yml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if out := cfg.String(); strings.Contains(out, "pa55") {
		t.Errorf("String() leaks the URL password:\n%s", out)
	}
}
