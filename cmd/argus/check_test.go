package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckConfig(t *testing.T) {
	for _, tc := range []struct {
		name     string
		yaml     string
		wantCode int
		// wantErr are substrings of stderr: the file:line and the problem.
		wantErr []string
	}{
		{
			name:     "valid",
			yaml:     "global:\n  scrape_interval: 30s\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['localhost:9100']\n",
			wantCode: 0,
		},
		{
			name:     "unknown field",
			yaml:     "global:\n  scrape_interval: 30s\nscrape_configs:\n  - job_name: node\n    scrape_intervall: 10s\n",
			wantCode: 1,
			wantErr:  []string{"unknown_field.yml:5", "scrape_intervall"},
		},
		{
			name:     "bad duration",
			yaml:     "global:\n  scrape_interval: 30x\n",
			wantCode: 1,
			wantErr:  []string{"bad_duration.yml:2", `"30x"`},
		},
		{
			name:     "timeout above interval",
			yaml:     "scrape_configs:\n  - job_name: node\n    scrape_interval: 5s\n    scrape_timeout: 10s\n",
			wantCode: 1,
			wantErr:  []string{"timeout_above_interval.yml:4", `scrape timeout greater than scrape interval for scrape config with job "node"`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), strings.ReplaceAll(tc.name, " ", "_")+".yml")
			if err := os.WriteFile(file, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			code := run([]string{"check", "config", file}, &stdout, &stderr)
			if code != tc.wantCode {
				t.Fatalf("exit code %d, want %d; stdout %q stderr %q", code, tc.wantCode, stdout.String(), stderr.String())
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(stderr.String(), want) {
					t.Errorf("stderr %q lacks %q", stderr.String(), want)
				}
			}
			if tc.wantCode == 0 && !strings.Contains(stdout.String(), "SUCCESS") {
				t.Errorf("stdout %q lacks SUCCESS", stdout.String())
			}
		})
	}
}

// TestCheckConfigBinary runs the subcommand through the real binary, exit
// status included, with one good and one bad file in one call.
func TestCheckConfigBinary(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yml")
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(good, []byte("scrape_configs: []\n"), 0o644)
	os.WriteFile(bad, []byte("global:\n  evaluation_interval: soon\n"), 0o644)
	out, err := exec.Command(argusBinary, "check", "config", good, bad).CombinedOutput()
	var exitErr *exec.ExitError
	if err == nil || !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
		t.Fatalf("check config good+bad: err %v, want exit 1\n%s", err, out)
	}
	if !strings.Contains(string(out), "SUCCESS: "+good) || !strings.Contains(string(out), "bad.yml:2") {
		t.Errorf("output does not report both files:\n%s", out)
	}
	if out, err := exec.Command(argusBinary, "check", "config", good).CombinedOutput(); err != nil {
		t.Errorf("check config on a valid file: %v\n%s", err, out)
	}
}
