package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestScrapeConfigFilesMerged(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"main.yml":   "global:\n  scrape_interval: 20s\nscrape_config_files: ['jobs/*.yml']\nscrape_configs:\n  - job_name: main\n",
		"jobs/b.yml": "scrape_configs:\n  - job_name: b\n    authorization:\n      credentials_file: token\n",
		"jobs/a.yml": "scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n",
	})
	cfg, err := LoadFile(filepath.Join(dir, "main.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sc := range cfg.ScrapeConfigs {
		names = append(names, sc.JobName)
	}
	if got := strings.Join(names, ","); got != "main,a,b" {
		t.Fatalf("jobs = %s, want main,a,b (main file first, then files in name order)", got)
	}
	a, b := cfg.ScrapeConfigs[1], cfg.ScrapeConfigs[2]
	if time.Duration(a.ScrapeInterval) != 5*time.Second || time.Duration(b.ScrapeInterval) != 20*time.Second {
		t.Errorf("intervals a=%s b=%s, want 5s and the global 20s", a.ScrapeInterval, b.ScrapeInterval)
	}
	if b.MetricsPath != "/metrics" || !b.HonorTimestamps {
		t.Errorf("job b lacks the job defaults: %+v", b)
	}
	if want := filepath.Join(dir, "jobs", "token"); b.HTTPClientConfig.Authorization.CredentialsFile != want {
		t.Errorf("credentials_file = %q, want it resolved against its own file's directory: %q", b.HTTPClientConfig.Authorization.CredentialsFile, want)
	}
}

func TestScrapeConfigFilesErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{
			name: "duplicate job across files",
			files: map[string]string{
				"main.yml":   "scrape_config_files: ['jobs/*.yml']\nscrape_configs:\n  - job_name: dup\n",
				"jobs/x.yml": "scrape_configs:\n  - job_name: dup\n",
			},
			want: []string{"x.yml", `found multiple scrape configs with job name "dup"`, "main.yml"},
		},
		{
			name: "unknown field in a scrape config file",
			files: map[string]string{
				"main.yml":   "scrape_config_files: ['jobs/*.yml']\n",
				"jobs/x.yml": "scrape_configs:\n  - job_name: x\n    scrape_intervall: 5s\n",
			},
			want: []string{"x.yml:3:", "scrape_intervall"},
		},
		{
			name: "timeout above interval in a scrape config file",
			files: map[string]string{
				"main.yml":   "scrape_config_files: ['jobs/*.yml']\n",
				"jobs/x.yml": "scrape_configs:\n  - job_name: x\n    scrape_interval: 5s\n    scrape_timeout: 6s\n",
			},
			want: []string{"x.yml:4:", "scrape timeout greater than scrape interval"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			_, err := LoadFile(filepath.Join(dir, "main.yml"))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
