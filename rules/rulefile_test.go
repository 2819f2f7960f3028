package rules

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

func TestParseGoodFile(t *testing.T) {
	groups, errs := ParseFiles([]string{"testdata/good.yml"})
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if len(groups) != 2 {
		t.Fatalf("%d groups, want 2", len(groups))
	}
	rec, alert := groups[0], groups[1]
	if rec.Name != "recording" || rec.Interval != 30*time.Second || rec.Limit != 100 ||
		rec.QueryOffset == nil || *rec.QueryOffset != 10*time.Second || rec.File != "testdata/good.yml" {
		t.Errorf("recording group = %+v", rec)
	}
	if alert.QueryOffset != nil || alert.Interval != 0 {
		t.Errorf("alerting group without interval/offset = %+v, want defaults", alert)
	}
	r := rec.Rules[0]
	if want := labels.FromStrings("source", "recording", "team", "infra"); !labels.Equal(r.Labels, want) {
		t.Errorf("rule labels %v, want group labels merged: %v", r.Labels, want)
	}
	if r.Line != 10 {
		t.Errorf("rule line %d, want 10", r.Line)
	}
	a := alert.Rules[0]
	if a.Name() != "HighErrorRate" || a.For != 5*time.Minute || a.KeepFiringFor != 10*time.Minute ||
		a.Annotations.Get("summary") == "" || a.Labels.Get("severity") != "page" {
		t.Errorf("alerting rule = %+v", a)
	}
}

func TestParseErrorsNameFileAndLine(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    []string
	}{
		{
			name:    "bad expression and template",
			content: mustRead(t, "testdata/bad.yml"),
			want: []string{
				`f.yml:7:15: group "broken", rule 2, "BadExpr": could not parse expression: 1:7: parse error: unclosed left parenthesis`,
				`f.yml:11:11: group "broken", rule 3, "BadTemplate": annotation "summary": template: __alert_BadTemplate:1: unclosed action`,
			},
		},
		{
			name:    "YAML syntax",
			content: "groups:\n  - name: a\n    rules: [\n",
			want:    []string{`f.yml:3: did not find expected node content`},
		},
		{
			name:    "unknown fields",
			content: "groups:\n  - name: a\n    intervall: 1m\n    rules:\n      - record: x\n        expr: up\n        lables: {}\nfoo: 1\n",
			want: []string{
				`f.yml:3:5: group "a": unknown field "intervall" in group`,
				`f.yml:7:9: group "a", rule 1, "x": unknown field "lables" in rule`,
				`f.yml:8:1: unknown field "foo" at the top level (only "groups" is allowed)`,
			},
		},
		{
			name:    "recording rule with alerting fields",
			content: "groups:\n  - name: a\n    rules:\n      - record: x\n        expr: up\n        for: 1m\n        annotations: {a: b}\n",
			want: []string{
				`f.yml:6:9: group "a", rule 1, "x": invalid field "for" in recording rule`,
				`f.yml:7:9: group "a", rule 1, "x": invalid field "annotations" in recording rule`,
			},
		},
		{
			name:    "record and alert",
			content: "groups:\n  - name: a\n    rules:\n      - expr: up\n      - record: a\n        alert: b\n        expr: up\n      - alert: c\n",
			want: []string{
				`f.yml:4:9: group "a", rule 1: one of 'record' or 'alert' must be set`,
				`f.yml:5:9: group "a", rule 2, "b": only one of 'record' and 'alert' may be set`,
				`f.yml:8:9: group "a", rule 3, "c": field 'expr' must be set in rule`,
			},
		},
		{
			name:    "group problems",
			content: "groups:\n  - name: a\n    interval: 5x\n    limit: -1\n  - name: a\n  - rules: []\n",
			want: []string{
				`f.yml:3:15: group "a": interval: unknown unit "x" in duration "5x"`,
				`f.yml:4:12: group "a": limit must not be negative, got -1`,
				`f.yml:5:5: group name "a" is repeated in the same file`,
				`f.yml:6:5: group name must not be empty`,
			},
		},
		{
			name:    "labels",
			content: "groups:\n  - name: a\n    rules:\n      - record: 'x{a=\"b\"}'\n        expr: up\n        labels:\n          __name__: y\n          ok: [1]\n",
			want: []string{
				`f.yml:4:9: group "a", rule 1, "x{a=\"b\"}": braces present in the recording rule name; should it be in expr?: x{a="b"}`,
				`f.yml:7:11: group "a", rule 1, "x{a=\"b\"}": invalid label name "__name__"`,
				`f.yml:8:15: group "a", rule 1, "x{a=\"b\"}": labels "ok" must be a string, got a list`,
			},
		},
		{
			name:    "wrong shapes",
			content: "groups: 3\n",
			want:    []string{`f.yml:1:9: groups must be a list, got "3"`},
		},
		{name: "empty file", content: "", want: nil},
		{name: "no groups", content: "groups:\n", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := Parse("f.yml", []byte(tc.content))
			var got []string
			for _, err := range errs {
				var pe *ParseError
				if !errors.As(err, &pe) {
					t.Errorf("error %v is not a *ParseError", err)
				}
				got = append(got, err.Error())
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestParseFilesMissingFile(t *testing.T) {
	_, errs := ParseFiles([]string{"testdata/good.yml", "testdata/nonexistent.yml"})
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "testdata/nonexistent.yml: reading rule file: ") {
		t.Fatalf("errors %v, want one naming the missing file", errs)
	}
}

func mustRead(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
