package rules

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/query"
)

func TestTemplateFunctions(t *testing.T) {
	st := newTestStorage()
	for i, inst := range []string{"b:9100", "a:9100"} {
		if err := st.Add(labels.FromStrings("__name__", "up", "instance", inst), at(0).UnixMilli(), float64(i)); err != nil {
			t.Fatal(err)
		}
	}
	extURL, _ := url.Parse("http://argus.example:9090/prefix")
	env := templateEnv{
		ctx:         context.Background(),
		ts:          at(1),
		query:       EngineQueryFunc(query.NewEngine(query.EngineOpts{}), st),
		externalURL: extURL,
	}
	data := templateData{
		Labels:         map[string]string{"instance": "host.example.com:9100", "job": "node"},
		ExternalLabels: map[string]string{"region": "eu"},
		ExternalURL:    extURL.String(),
		Value:          1234.5678,
	}
	tests := []struct {
		text, want string
	}{
		{`{{ $labels.instance }} in {{ $externalLabels.region }}`, "host.example.com:9100 in eu"},
		{`{{ $value }}`, "1234.5678"},
		{`{{ $value | humanize }}`, "1.235k"},
		{`{{ 0.0001234 | humanize }}`, "123.4u"},
		{`{{ 0 | humanize }}`, "0"},
		{`{{ 2048 | humanize1024 }}`, "2ki"},
		{`{{ 90061 | humanizeDuration }}`, "1d 1h 1m 1s"},
		{`{{ 0.1234 | humanizePercentage }}`, "12.34%"},
		{`{{ 1435065584.128 | humanizeTimestamp }}`, "2015-06-23 13:19:44.128 +0000 UTC"},
		{`{{ $labels.instance | stripPort }}`, "host.example.com"},
		{`{{ $labels.instance | stripDomain }}`, "host:9100"},
		{`{{ "hello world" | title }} {{ "Ab" | toUpper }} {{ "Ab" | toLower }}`, "Hello World AB ab"},
		{`{{ reReplaceAll "(.*):.*" "$1" $labels.instance }}`, "host.example.com"},
		{`{{ if match "^node" $labels.job }}yes{{ end }}`, "yes"},
		{`{{ printf "%.1f" $value }}`, "1234.6"},
		{`{{ with args 1 "x" }}{{ .arg0 }}-{{ .arg1 }}{{ end }}`, "1-x"},
		{`{{ "<b>" | safeHtml }}`, "<b>"},
		{`{{ query "sum(up)" | first | value }}`, "1"},
		{`{{ range query "up" | sortByLabel "instance" }}{{ label "instance" . }} {{ end }}`, "a:9100 b:9100 "},
		{`{{ externalURL }} {{ pathPrefix }}`, "http://argus.example:9090/prefix /prefix"},
		{`{{ "up == 1" | tableLink }}`, "/graph?g0.expr=up+%3D%3D+1&g0.tab=1"},
		{`{{ $labels.missing }}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			got, err := env.expand("test", tc.text, data)
			if err != nil {
				t.Fatalf("expand: %v", err)
			}
			if got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTemplateErrors(t *testing.T) {
	env := templateEnv{ctx: context.Background(), ts: at(0)}
	tests := []struct{ text, want string }{
		{`{{ query "up" | first }}`, "query is not available"},
		{`{{ "abc" | humanize }}`, "error executing template"},
		{`{{ reReplaceAll "(" "" "x" }}`, "missing closing )"},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			_, err := env.expand("test", tc.text, templateData{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestAlertTemplates(t *testing.T) {
	e := newTestEnv(t, ManagerOptions{})
	g := e.load(t, `
groups:
  - name: alerts
    rules:
      - alert: DiskFull
        expr: disk_used_ratio > 0.9
        labels:
          severity: '{{ if gt $value 0.95 }}page{{ else }}ticket{{ end }}'
        annotations:
          summary: 'Disk on {{ $labels.instance }} is {{ $value | humanizePercentage }} full'
          runbook: '{{ $externalURL }}/runbooks/{{ $externalLabels.cluster }}'
          broken: '{{ $labels.instance | humanize }}'
`, labels.FromStrings("cluster", "prod"))
	e.add(t, labels.FromStrings("__name__", "disk_used_ratio", "instance", "db1"), at(0), 0.97)
	e.add(t, labels.FromStrings("__name__", "disk_used_ratio", "instance", "db2"), at(0), 0.92)
	g.Eval(context.Background(), at(0))

	alerts := g.AlertingRules()[0].ActiveAlerts()
	if len(alerts) != 2 {
		t.Fatalf("%d alerts, want 2", len(alerts))
	}
	tests := []struct {
		instance, severity, summary string
	}{
		{"db1", "page", "Disk on db1 is 97% full"},
		{"db2", "ticket", "Disk on db2 is 92% full"},
	}
	for i, tc := range tests {
		a := alerts[i]
		if got := a.Labels.Get("instance"); got != tc.instance {
			t.Fatalf("alert %d is for %q, want %q", i, got, tc.instance)
		}
		if got := a.Labels.Get("severity"); got != tc.severity {
			t.Errorf("%s: severity %q, want %q", tc.instance, got, tc.severity)
		}
		if got := a.Annotations.Get("summary"); got != tc.summary {
			t.Errorf("%s: summary %q, want %q", tc.instance, got, tc.summary)
		}
		if got := a.Annotations.Get("runbook"); got != "http://argus.example:9090/runbooks/prod" {
			t.Errorf("%s: runbook %q", tc.instance, got)
		}
		// A template failing at run time still yields the alert, with the
		// error as the annotation's text.
		if got := a.Annotations.Get("broken"); !strings.HasPrefix(got, "<error expanding template: ") {
			t.Errorf("%s: broken annotation %q, want the expansion error", tc.instance, got)
		}
	}
	if h := g.AlertingRules()[0].Health(); h != HealthGood {
		t.Errorf("a template error made the rule %s, want ok", h)
	}
}
