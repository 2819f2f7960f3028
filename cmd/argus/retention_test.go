package main

import (
	"testing"
	"time"

	"github.com/alecthomas/units"
	"github.com/prometheus/common/model"

	"github.com/argusmon/argus/config"
)

func TestRetentionResolution(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		name       string
		flagTime   time.Duration
		flagSize   units.Base2Bytes
		file       *config.TSDBRetentionConfig
		wantMillis int64
		wantBytes  int64
	}{
		{name: "nothing set keeps 15 days", wantMillis: (15 * day).Milliseconds()},
		{name: "size flag alone has no time limit", flagSize: units.GiB, wantBytes: int64(units.GiB)},
		{name: "time flag", flagTime: 3 * day, wantMillis: (3 * day).Milliseconds()},
		{
			name:     "file wins over flags",
			flagTime: 3 * day, flagSize: units.GiB,
			file:       &config.TSDBRetentionConfig{Time: model.Duration(7 * day), Size: 2 * units.GiB},
			wantMillis: (7 * day).Milliseconds(), wantBytes: int64(2 * units.GiB),
		},
		{
			name:      "a file section replaces both flags",
			flagTime:  3 * day,
			file:      &config.TSDBRetentionConfig{Size: units.MiB},
			wantBytes: int64(units.MiB),
		},
		{
			name:       "an empty file section keeps the flags",
			flagTime:   3 * day,
			file:       &config.TSDBRetentionConfig{},
			wantMillis: (3 * day).Milliseconds(),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &server{flags: &serverFlags{retentionTime: model.Duration(tc.flagTime), retentionSize: tc.flagSize}}
			cfg := &config.Config{StorageConfig: config.StorageConfig{TSDBConfig: &config.TSDBConfig{Retention: tc.file}}}
			ms, bytes := s.retention(cfg)
			if ms != tc.wantMillis || bytes != tc.wantBytes {
				t.Fatalf("retention = %d ms, %d bytes; want %d ms, %d bytes", ms, bytes, tc.wantMillis, tc.wantBytes)
			}
		})
	}
}
