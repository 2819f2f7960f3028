package config

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

func TestDefault(t *testing.T) {
	tests := []struct {
		listen string
		target string
	}{
		{"0.0.0.0:9090", "localhost:9090"},
		{":9090", "localhost:9090"},
		{"[::]:9090", "localhost:9090"},
		{"127.0.0.1:9091", "127.0.0.1:9091"},
		{"argus.internal:80", "argus.internal:80"},
		{"[::1]:9090", "[::1]:9090"},
	}
	for _, tt := range tests {
		t.Run(tt.listen, func(t *testing.T) {
			cfg, err := Default(tt.listen)
			if err != nil {
				t.Fatalf("Default: %v", err)
			}
			if len(cfg.ScrapeConfigs) != 1 {
				t.Fatalf("got %d scrape configs, want 1", len(cfg.ScrapeConfigs))
			}
			job := cfg.ScrapeConfigs[0]
			if job.JobName != "argus" {
				t.Errorf("job = %q, want argus", job.JobName)
			}
			if got := strings.Join(job.StaticConfigs[0].Targets, ","); got != tt.target {
				t.Errorf("target = %q, want %q", got, tt.target)
			}
			fifteen := model.Duration(15 * time.Second)
			if job.ScrapeInterval != fifteen || cfg.GlobalConfig.ScrapeInterval != fifteen || cfg.GlobalConfig.EvaluationInterval != fifteen {
				t.Errorf("intervals: job %s, global scrape %s, evaluation %s; want 15s", job.ScrapeInterval, cfg.GlobalConfig.ScrapeInterval, cfg.GlobalConfig.EvaluationInterval)
			}
			if cfg.Source != "" || !strings.Contains(cfg.Original, tt.target) {
				t.Errorf("Source = %q, Original = %q; want empty source and the text", cfg.Source, cfg.Original)
			}
		})
	}
}

func TestDefaultRejectsBadListenAddress(t *testing.T) {
	for _, addr := range []string{"", "9090", "localhost", "localhost:http", "localhost:0", "localhost:70000"} {
		if _, err := Default(addr); err == nil {
			t.Errorf("Default(%q) succeeded, want an error", addr)
		}
	}
}
