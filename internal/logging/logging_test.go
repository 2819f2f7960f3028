package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
)

func TestRequestIDInEveryLine(t *testing.T) {
	for _, format := range []string{"logfmt", "json"} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			l, err := New(&buf, "debug", format)
			if err != nil {
				t.Fatal(err)
			}
			ctx := WithRequestID(context.Background(), "abc123")
			l.With("component", "web").InfoContext(ctx, "query", "q", "up")
			l.InfoContext(context.Background(), "no id")
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != 2 {
				t.Fatalf("got %d lines: %q", len(lines), buf.String())
			}
			if format == "json" {
				var m map[string]any
				if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
					t.Fatal(err)
				}
				if m["request_id"] != "abc123" || m["component"] != "web" {
					t.Errorf("first line lacks request_id/component: %s", lines[0])
				}
			} else if !strings.Contains(lines[0], "request_id=abc123") || !strings.Contains(lines[0], "component=web") {
				t.Errorf("first line lacks request_id/component: %s", lines[0])
			}
			if strings.Contains(lines[1], "request_id") {
				t.Errorf("line without request context has a request_id: %s", lines[1])
			}
		})
	}
}

func TestNewRejectsBadSettings(t *testing.T) {
	for _, tc := range []struct{ level, format, want string }{
		{"loud", "logfmt", `unrecognized log level "loud"`},
		{"info", "xml", `unrecognized log format "xml"`},
	} {
		if _, err := New(&bytes.Buffer{}, tc.level, tc.format); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%q, %q) error = %v, want %q", tc.level, tc.format, err, tc.want)
		}
	}
}
