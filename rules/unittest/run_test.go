package unittest

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	cases := []struct {
		file string
		code int
		// stdoutHas and stderrHas must all appear in the output.
		stdoutHas, stderrHas []string
	}{
		{file: "example_test.yml", code: 0, stdoutHas: []string{"Processing test file:", "SUCCESS"}},
		{
			file: "fail_alert_labels_test.yml", code: 1,
			stderrHas: []string{
				"FAILED:", "name: wrong alert labels,", "alertname: InstanceDown, time: 10m",
				`exp:[`, `severity="warning"`, `got:[`, `severity="page"`,
			},
		},
		{
			file: "fail_annotation_test.yml", code: 1,
			stderrHas: []string{"FAILED:", `summary="Instance api-1 down"`, `summary="Instance api-1:9090 down"`},
		},
		{
			file: "fail_expr_value_test.yml", code: 1,
			stderrHas: []string{
				"FAILED:", `expr: "job:http_requests:rate5m", time: 10m`,
				`exp: {__name__="job:http_requests:rate5m", job="api"} 3E+00`,
				`got: {__name__="job:http_requests:rate5m", job="api"} 1E+00`,
			},
		},
		{
			file: "fail_missing_alert_test.yml", code: 1,
			stderrHas: []string{"alertname: InstanceDown, time: 6m", "got:[]"},
		},
		{
			file: "fail_unknown_field_test.yml", code: 1,
			stderrHas: []string{"FAILED:", "field input_serie not found"},
		},
		{file: "group_order_test.yml", code: 0, stdoutHas: []string{"SUCCESS"}},
		{
			file: "fail_group_order_test.yml", code: 1,
			stderrHas: []string{"name: unnamed#0,", `expr: "doubled", time: 0s`, "got: nil"},
		},
		{
			file: "fail_missing_alertname_test.yml", code: 1,
			stderrHas: []string{"misses required attribute alertname at eval_time 1m"},
		},
		{file: "does_not_exist.yml", code: 1, stderrHas: []string{"FAILED:", "reading test file"}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Run([]string{filepath.Join("testdata", tc.file)}, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout.String(), stderr.String())
			}
			for _, s := range tc.stdoutHas {
				if !strings.Contains(stdout.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, stdout.String())
				}
			}
			for _, s := range tc.stderrHas {
				if !strings.Contains(stderr.String(), s) {
					t.Errorf("stderr lacks %q:\n%s", s, stderr.String())
				}
			}
			if tc.code == 0 && stderr.Len() > 0 {
				t.Errorf("passing run wrote to stderr:\n%s", stderr.String())
			}
			if tc.code != 0 && strings.Contains(stdout.String(), "SUCCESS") {
				t.Errorf("failing run reported SUCCESS:\n%s", stdout.String())
			}
		})
	}
}

// A failing file must not hide the result of the others, and any failure
// makes the whole run fail.
func TestRunSeveralFiles(t *testing.T) {
	var stdout, stderr bytes.Buffer
	files := []string{
		filepath.Join("testdata", "fail_expr_value_test.yml"),
		filepath.Join("testdata", "example_test.yml"),
	}
	if code := Run(files, &stdout, &stderr); code != 1 {
		t.Errorf("exit code = %d, want 1", code)
	}
	if got := strings.Count(stdout.String(), "Processing test file:"); got != 2 {
		t.Errorf("processed %d files, want 2:\n%s", got, stdout.String())
	}
	if !strings.Contains(stdout.String(), "SUCCESS") {
		t.Errorf("the passing file was not reported:\n%s", stdout.String())
	}
}
