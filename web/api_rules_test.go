package web

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/query"
	"github.com/argusmon/argus/rules"
	"github.com/argusmon/argus/tsdb"
)

// The rule files: two groups in the first, one in the second. Over the
// test data (up is 1 for job a, 0 for job b), InstanceDown fires for job
// b, Flapping stays pending for job a, and Broken fails to evaluate.
const (
	rulesFileA = `groups:
  - name: recording
    interval: 30s
    limit: 10
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
        labels: {team: infra}
  - name: alerts
    rules:
      - alert: InstanceDown
        expr: up == 0
        for: 20s
        keep_firing_for: 1m
        labels: {severity: page}
        annotations: {summary: "{{ $labels.instance }} is down"}
      - alert: Flapping
        expr: up == 1
        for: 1h
      - record: broken
        expr: up + on() up
`
	rulesFileB = `groups:
  - name: other
    rules:
      - record: up:count
        expr: count(up)
`
)

// newRulesHandler serves the API with a real rule manager over the test
// data, its groups evaluated at 50s and 80s.
func newRulesHandler(t *testing.T) (*Handler, *rules.Manager, string) {
	t.Helper()
	dir := t.TempDir()
	fileA, fileB := filepath.Join(dir, "a.yml"), filepath.Join(dir, "b.yml")
	for file, text := range map[string]string{fileA: rulesFileA, fileB: rulesFileB} {
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	h, db := newTestHandler(t, Options{})
	engine := query.NewEngine(query.EngineOpts{MaxSamples: 1000, Timeout: time.Minute, MaxConcurrent: 2})
	mgr := rules.NewManager(rules.ManagerOptions{QueryFunc: rules.EngineQueryFunc(engine, db), Appendable: db})
	t.Cleanup(mgr.Stop)
	if err := mgr.Update(time.Minute, []string{fileA, fileB}, labels.EmptyLabels(), "", nil); err != nil {
		t.Fatal(err)
	}
	h.opts.Rules = mgr
	return h, mgr, dir
}

func evalAll(mgr *rules.Manager, at ...time.Duration) {
	for _, d := range at {
		for _, g := range mgr.RuleGroups() {
			g.Eval(context.Background(), time.Unix(0, 0).Add(d).UTC())
		}
	}
}

// wallClock matches the evaluation timings, which come from the wall
// clock; unset ones (the zero time, 0s) are left as they are.
var wallClock = regexp.MustCompile(`"(lastEvaluation|evaluationTime)":("[^"]*"|[0-9.e+-]+)`)

func normalizeTimings(s string) string {
	return wallClock.ReplaceAllStringFunc(s, func(m string) string {
		sub := wallClock.FindStringSubmatch(m)
		if sub[2] == `"0001-01-01T00:00:00Z"` || sub[2] == "0" {
			return m
		}
		return `"` + sub[1] + `":"<set>"`
	})
}

// Expected answers, with DIR for the rule files' directory.
const (
	instanceDownJSON = `{"state":"firing","name":"InstanceDown","query":"up == 0","duration":20,"keepFiringFor":60,"labels":{"severity":"page"},"annotations":{"summary":"{{ $labels.instance }} is down"},` +
		`"alerts":[` + instanceDownAlert + `],"health":"ok","evaluationTime":"<set>","lastEvaluation":"<set>","type":"alerting"}`
	instanceDownAlert = `{"labels":{"alertname":"InstanceDown","instance":"y","job":"b","severity":"page"},"annotations":{"summary":"y is down"},"state":"firing","activeAt":"1970-01-01T00:00:50Z","value":"0e+00"}`
	flappingJSON      = `{"state":"pending","name":"Flapping","query":"up == 1","duration":3600,"keepFiringFor":0,"labels":{},"annotations":{},` +
		`"alerts":[` + flappingAlert + `],"health":"ok","evaluationTime":"<set>","lastEvaluation":"<set>","type":"alerting"}`
	flappingAlert = `{"labels":{"alertname":"Flapping","instance":"x","job":"a"},"annotations":{},"state":"pending","activeAt":"1970-01-01T00:00:50Z","value":"1e+00"}`
	brokenJSON    = `{"name":"broken","query":"up + on () up","labels":{},"health":"err","lastError":"found duplicate series for the match group {} on the right hand-side of the operation: [{__name__=\"up\", instance=\"x\", job=\"a\"}, {__name__=\"up\", instance=\"y\", job=\"b\"}];many-to-many matching not allowed: matching labels must be unique on one side",` +
		`"evaluationTime":"<set>","lastEvaluation":"<set>","type":"recording"}`
	jobUpJSON   = `{"name":"job:up:sum","query":"sum by (job) (up)","labels":{"team":"infra"},"health":"ok","evaluationTime":"<set>","lastEvaluation":"<set>","type":"recording"}`
	upCountJSON = `{"name":"up:count","query":"count(up)","labels":{},"health":"ok","evaluationTime":"<set>","lastEvaluation":"<set>","type":"recording"}`

	groupTail      = `"evaluationTime":"<set>","lastEvaluation":"<set>"}`
	alertsGroup    = `{"name":"alerts","file":"DIR/a.yml","rules":[`
	alertsTail     = `],"interval":60,"limit":0,` + groupTail
	recordingGroup = `{"name":"recording","file":"DIR/a.yml","rules":[` + jobUpJSON + `],"interval":30,"limit":10,` + groupTail
	otherGroup     = `{"name":"other","file":"DIR/b.yml","rules":[` + upCountJSON + `],"interval":60,"limit":0,` + groupTail
)

func rulesAnswer(groups ...string) string {
	return `{"status":"success","data":{"groups":[` + strings.Join(groups, ",") + `]}}`
}

// token is Prometheus's group_next_token for a group.
func token(file, group string) string {
	sum := sha256.Sum256([]byte(file + ";" + group))
	return hex.EncodeToString(sum[:])
}

func badParam(name, msg string) string {
	return `{"status":"error","errorType":"bad_data","error":"invalid parameter \"` + name + `\": ` + msg + `"}`
}

func TestRulesAPI(t *testing.T) {
	h, mgr, dir := newRulesHandler(t)
	evalAll(mgr, 50*time.Second, 80*time.Second)
	tokRecording := token(filepath.Join(dir, "a.yml"), "recording")
	tokOther := token(filepath.Join(dir, "b.yml"), "other")
	allAlerts := alertsGroup + instanceDownJSON + "," + flappingJSON + "," + brokenJSON + alertsTail

	for _, tc := range []struct {
		name, target string
		code         int
		body         string
	}{
		{"all groups, sorted by file then name", "/api/v1/rules", 200, rulesAnswer(allAlerts, recordingGroup, otherGroup)},
		{"alerting rules only", "/api/v1/rules?type=alert", 200,
			rulesAnswer(alertsGroup + instanceDownJSON + "," + flappingJSON + alertsTail)},
		{"recording rules only, type is case-insensitive", "/api/v1/rules?type=RECORD", 200,
			rulesAnswer(alertsGroup+brokenJSON+alertsTail, recordingGroup, otherGroup)},
		{"by rule name", "/api/v1/rules?rule_name[]=InstanceDown&rule_name[]=up:count", 200,
			rulesAnswer(alertsGroup+instanceDownJSON+alertsTail, otherGroup)},
		{"by group name", "/api/v1/rules?rule_group[]=recording", 200, rulesAnswer(recordingGroup)},
		{"by file", "/api/v1/rules?file[]=DIR/b.yml", 200, rulesAnswer(otherGroup)},
		{"by file and group, nothing matches both", "/api/v1/rules?file[]=DIR/b.yml&rule_group[]=recording", 200, rulesAnswer()},
		{"by rule labels", "/api/v1/rules?match[]={severity=%22page%22}&match[]={team=%22infra%22}", 200,
			rulesAnswer(alertsGroup+instanceDownJSON+alertsTail, recordingGroup)},
		{"alerts excluded are null", "/api/v1/rules?exclude_alerts=TRUE&rule_name[]=Flapping", 200,
			rulesAnswer(alertsGroup + strings.Replace(flappingJSON, `[`+flappingAlert+`]`, "null", 1) + alertsTail)},
		{"exclude_alerts=false keeps them", "/api/v1/rules?exclude_alerts=0&rule_name[]=Flapping", 200,
			rulesAnswer(alertsGroup + flappingJSON + alertsTail)},
		{"first page", "/api/v1/rules?group_limit=1", 200,
			`{"status":"success","data":{"groups":[` + allAlerts + `],"groupNextToken":"` + tokRecording + `"}}`},
		{"second page", "/api/v1/rules?group_limit=1&group_next_token=" + tokRecording, 200,
			`{"status":"success","data":{"groups":[` + recordingGroup + `],"groupNextToken":"` + tokOther + `"}}`},
		{"last page has no token", "/api/v1/rules?group_limit=5&group_next_token=" + tokOther, 200, rulesAnswer(otherGroup)},
		{"pages count only groups left after filtering", "/api/v1/rules?group_limit=1&type=record&rule_group[]=recording&rule_group[]=other", 200,
			`{"status":"success","data":{"groups":[` + recordingGroup + `],"groupNextToken":"` + tokOther + `"}}`},

		{"unknown type", "/api/v1/rules?type=alerts", 400, badParam("type", `not supported value \"alerts\"`)},
		{"bad exclude_alerts", "/api/v1/rules?exclude_alerts=maybe", 400,
			badParam("exclude_alerts", `error converting exclude_alerts: strconv.ParseBool: parsing \"maybe\": invalid syntax`)},
		{"token without limit", "/api/v1/rules?group_next_token=" + tokOther, 400,
			badParam("group_next_token", "group_limit needs to be present in order to paginate over the groups")},
		{"limit not a number", "/api/v1/rules?group_limit=ten", 400,
			badParam("group_limit", `group_limit needs to be a valid number: strconv.ParseInt: parsing \"ten\": invalid syntax`)},
		{"limit zero", "/api/v1/rules?group_limit=0", 400, badParam("group_limit", "group_limit needs to be greater than 0")},
		{"unknown token", "/api/v1/rules?group_limit=1&group_next_token=abc", 400,
			badParam("group_next_token", "invalid group_next_token 'abc'. were rule groups changed?")},
		{"match[] selecting everything", "/api/v1/rules?match[]={job=~%22.*%22}", 400,
			`{"status":"error","errorType":"bad_data","error":"match[] must contain at least one non-empty matcher"}`},

		{"active alerts", "/api/v1/alerts", 200, `{"status":"success","data":{"alerts":[` + instanceDownAlert + "," + flappingAlert + `]}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := strings.ReplaceAll(tc.target, "DIR", dir)
			rec := do(h, http.MethodGet, target, nil, nil)
			got := normalizeTimings(rec.Body.String())
			want := strings.ReplaceAll(tc.body, "DIR", dir)
			if rec.Code != tc.code || got != want {
				t.Errorf("GET %s\ngot  %d %s\nwant %d %s", target, rec.Code, got, tc.code, want)
			}
		})
	}
}

// TestRulesAPIBeforeEvaluation shows rules as loaded: unknown state and
// health, zero times, no alerts yet.
func TestRulesAPIBeforeEvaluation(t *testing.T) {
	h, _, dir := newRulesHandler(t)
	runAPICases(t, h, []apiCase{
		{
			name: "unevaluated rules", method: "GET", target: "/api/v1/rules?rule_name[]=Flapping&rule_name[]=up:count", code: 200,
			body: strings.ReplaceAll(`{"status":"success","data":{"groups":[`+
				`{"name":"alerts","file":"DIR/a.yml","rules":[{"state":"unknown","name":"Flapping","query":"up == 1","duration":3600,"keepFiringFor":0,"labels":{},"annotations":{},"alerts":[],"health":"unknown","evaluationTime":0,"lastEvaluation":"0001-01-01T00:00:00Z","type":"alerting"}],"interval":60,"limit":0,"evaluationTime":0,"lastEvaluation":"0001-01-01T00:00:00Z"},`+
				`{"name":"other","file":"DIR/b.yml","rules":[{"name":"up:count","query":"count(up)","labels":{},"health":"unknown","evaluationTime":0,"lastEvaluation":"0001-01-01T00:00:00Z","type":"recording"}],"interval":60,"limit":0,"evaluationTime":0,"lastEvaluation":"0001-01-01T00:00:00Z"}]}}`, "DIR", dir),
		},
		{name: "no alerts", method: "GET", target: "/api/v1/alerts", code: 200, body: `{"status":"success","data":{"alerts":[]}}`},
	})
}

// TestAlertsKeepFiring: once job b is back up, InstanceDown keeps firing
// for keep_firing_for and says since when.
func TestAlertsKeepFiring(t *testing.T) {
	h, mgr, _ := newRulesHandler(t)
	evalAll(mgr, 50*time.Second, 80*time.Second)
	appendSample(t, h.opts.Storage.(*tsdb.DB), labels.FromStrings("__name__", "up", "job", "b", "instance", "y"), 110_000, 1)
	evalAll(mgr, 110*time.Second)
	runAPICases(t, h, []apiCase{{
		name: "kept firing", method: "GET", target: "/api/v1/alerts", code: 200,
		body: `{"status":"success","data":{"alerts":[` +
			`{"labels":{"alertname":"InstanceDown","instance":"y","job":"b","severity":"page"},"annotations":{"summary":"y is down"},"state":"firing","activeAt":"1970-01-01T00:00:50Z","keepFiringSince":"1970-01-01T00:01:50Z","value":"0e+00"},` +
			flappingAlert + `,` +
			`{"labels":{"alertname":"Flapping","instance":"y","job":"b"},"annotations":{},"state":"pending","activeAt":"1970-01-01T00:01:50Z","value":"1e+00"}]}}`,
	}})
}

func TestRulesAPIWithoutRuleManager(t *testing.T) {
	h, _ := newTestHandler(t, Options{})
	runAPICases(t, h, []apiCase{
		{name: "rules", method: "GET", target: "/api/v1/rules", code: 200, body: `{"status":"success","data":{"groups":[]}}`},
		{name: "alerts", method: "GET", target: "/api/v1/alerts", code: 200, body: `{"status":"success","data":{"alerts":[]}}`},
		{name: "bad parameters are still rejected", method: "GET", target: "/api/v1/rules?type=x", code: 400, body: badParam("type", `not supported value \"x\"`)},
	})
}

// TestPrometheusGoClientRules decodes the rules and alerts answers with
// Prometheus's Go client, whose rule decoder rejects unknown rule types.
func TestPrometheusGoClientRules(t *testing.T) {
	h, mgr, dir := newRulesHandler(t)
	evalAll(mgr, 50*time.Second, 80*time.Second)
	srv := httptest.NewServer(h)
	defer srv.Close()
	client, err := api.NewClient(api.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	p := v1.NewAPI(client)
	ctx := context.Background()

	res, err := p.Rules(ctx, nil)
	if err != nil || len(res.Groups) != 3 {
		t.Fatalf("Rules = %+v, %v", res, err)
	}
	g := res.Groups[0]
	if g.Name != "alerts" || g.File != filepath.Join(dir, "a.yml") || g.Interval != 60 || len(g.Rules) != 3 {
		t.Fatalf("first group = %+v", g)
	}
	down, ok := g.Rules[0].(v1.AlertingRule)
	if !ok || down.Name != "InstanceDown" || down.State != "firing" || down.Duration != 20 || down.Health != v1.RuleHealthGood ||
		len(down.Alerts) != 1 || down.Alerts[0].Labels["instance"] != "y" || down.Alerts[0].Value != "0e+00" ||
		!down.Alerts[0].ActiveAt.Equal(time.Unix(50, 0)) || down.LastEvaluation.IsZero() {
		t.Errorf("InstanceDown = %+v", g.Rules[0])
	}
	broken, ok := g.Rules[2].(v1.RecordingRule)
	if !ok || broken.Health != v1.RuleHealthBad || !strings.Contains(broken.LastError, "many-to-many") {
		t.Errorf("broken = %+v", g.Rules[2])
	}
	if rec, ok := res.Groups[1].Rules[0].(v1.RecordingRule); !ok || rec.Labels["team"] != "infra" || rec.Query != "sum by (job) (up)" {
		t.Errorf("job:up:sum = %+v", res.Groups[1].Rules[0])
	}

	matched, err := p.Rules(ctx, []string{`{severity="page"}`})
	if err != nil || len(matched.Groups) != 1 || len(matched.Groups[0].Rules) != 1 {
		t.Errorf("Rules with match[] = %+v, %v", matched, err)
	}

	alerts, err := p.Alerts(ctx)
	if err != nil || len(alerts.Alerts) != 2 {
		t.Fatalf("Alerts = %+v, %v", alerts, err)
	}
	if a := alerts.Alerts[1]; a.State != v1.AlertStatePending || a.Labels["alertname"] != "Flapping" || a.Value != "1e+00" {
		t.Errorf("second alert = %+v", a)
	}
}
