package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad checks that no input panics Load and that every error is an
// *Error naming the file.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "*.yml"))
	bad, _ := filepath.Glob(filepath.Join("testdata", "bad", "*.yml"))
	for _, name := range append(seeds, bad...) {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("scrape_configs:\n  - <<: *x\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("global: {scrape_interval: 0s}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := Load(data, "fuzz.yml")
		if err == nil {
			return
		}
		var cerr *Error
		if !errors.As(err, &cerr) {
			t.Fatalf("error %q is not an *Error", err)
		}
		if !strings.HasPrefix(err.Error(), "fuzz.yml") {
			t.Fatalf("error %q does not name the file", err)
		}
	})
}
