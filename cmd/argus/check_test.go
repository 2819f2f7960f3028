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

func TestCheckRules(t *testing.T) {
	for _, tc := range []struct {
		name     string
		yaml     string
		wantCode int
		wantOut  []string
		wantErr  []string
	}{
		{
			name:     "valid",
			yaml:     "groups:\n  - name: g\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n      - alert: Down\n        expr: up == 0\n        for: 5m\n        annotations:\n          summary: '{{ $labels.instance }} is down'\n",
			wantCode: 0,
			wantOut:  []string{"SUCCESS: 2 rules found"},
		},
		{
			name:     "bad promql",
			yaml:     "groups:\n  - name: g\n    rules:\n      - record: x\n        expr: sum(\n",
			wantCode: 1,
			wantErr:  []string{"bad_promql.yml:5", "parse error"},
		},
		{
			name:     "bad template",
			yaml:     "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up == 0\n        annotations:\n          summary: '{{ $labels.instance '\n",
			wantCode: 1,
			wantErr:  []string{"bad_template.yml:7", "template"},
		},
		{
			name:     "unknown field",
			yaml:     "groups:\n  - name: g\n    rules:\n      - record: x\n        expr: up\n        fore: 5m\n",
			wantCode: 1,
			wantErr:  []string{"unknown_field.yml:6", "fore"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), strings.ReplaceAll(tc.name, " ", "_")+".yml")
			if err := os.WriteFile(file, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			if code := run([]string{"check", "rules", file}, &stdout, &stderr); code != tc.wantCode {
				t.Fatalf("exit code %d, want %d; stdout %q stderr %q", code, tc.wantCode, stdout.String(), stderr.String())
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout %q lacks %q", stdout.String(), w)
				}
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr %q lacks %q", stderr.String(), w)
				}
			}
		})
	}
}

// TestCheckConfigChecksRuleFiles: a config is only as valid as the rule
// files it names.
func TestCheckConfigChecksRuleFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "argus.yml"), []byte("rule_files: ['rules/*.yml']\n"), 0o644)
	os.MkdirAll(filepath.Join(dir, "rules"), 0o755)
	os.WriteFile(filepath.Join(dir, "rules", "bad.yml"), []byte("groups:\n  - name: g\n    rules:\n      - record: x\n        expr: rate(\n"), 0o644)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"check", "config", filepath.Join(dir, "argus.yml")}, &stdout, &stderr); code != 1 {
		t.Fatalf("exit code %d, want 1; stdout %q stderr %q", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "bad.yml:5") {
		t.Errorf("stderr %q does not point at the bad rule", stderr.String())
	}
}

// TestRulesExampleInDocs runs the rule unit tests shipped in docs/examples
// through `argus test rules`, so the documented example keeps working.
func TestRulesExampleInDocs(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"test", "rules", filepath.Join("..", "..", "docs", "examples", "rules_test.yml")}, &stdout, &stderr); code != 0 {
		t.Fatalf("argus test rules on the docs example: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "SUCCESS") {
		t.Errorf("no SUCCESS in %q", stdout.String())
	}
	if code := run([]string{"check", "rules", filepath.Join("..", "..", "docs", "examples", "rules.yml")}, &stdout, &stderr); code != 0 {
		t.Errorf("argus check rules on the docs example: exit %d\n%s", code, stderr.String())
	}
}
