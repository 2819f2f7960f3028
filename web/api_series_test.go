package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/tsdb"
)

// apiCase is one request and the exact answer Prometheus gives to it.
type apiCase struct {
	name   string
	method string
	target string
	form   url.Values
	code   int
	body   string
}

func runAPICases(t *testing.T, h http.Handler, cases []apiCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			header := http.Header{}
			if tc.form != nil {
				body = strings.NewReader(tc.form.Encode())
				header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			rec := do(h, tc.method, tc.target, body, header)
			if rec.Code != tc.code || rec.Body.String() != tc.body {
				t.Errorf("%s %s\ngot  %d %s\nwant %d %s", tc.method, tc.target, rec.Code, rec.Body.String(), tc.code, tc.body)
			}
			if tc.body != "" {
				if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q", ct)
				}
			}
		})
	}
}

func appendSample(t *testing.T, db *tsdb.DB, lset labels.Labels, ts int64, v float64) {
	t.Helper()
	app := db.Appender(context.Background())
	if _, err := app.Append(0, lset, ts, v); err != nil {
		t.Fatal(err)
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
}

func TestSeriesAPI(t *testing.T) {
	h, _ := newTestHandler(t, Options{})
	const both = `[{"__name__":"up","instance":"x","job":"a"},{"__name__":"up","instance":"y","job":"b"}]`
	runAPICases(t, h, []apiCase{
		{name: "one selector", method: "GET", target: "/api/v1/series?match[]=up", code: 200,
			body: `{"status":"success","data":` + both + `}`},
		{name: "POST form, selectors merged and deduplicated", method: "POST", target: "/api/v1/series",
			form: url.Values{"match[]": {`up{job="b"}`, `up`, `{instance="x"}`}, "start": {"0"}, "end": {"100"}}, code: 200,
			body: `{"status":"success","data":` + both + `}`},
		{name: "label matcher", method: "GET", target: `/api/v1/series?match[]=up{job="a"}&start=1970-01-01T00:00:00Z&end=1970-01-01T00:01:40Z`, code: 200,
			body: `{"status":"success","data":[{"__name__":"up","instance":"x","job":"a"}]}`},
		{name: "no series in range", method: "GET", target: "/api/v1/series?match[]=up&start=500&end=600", code: 200,
			body: `{"status":"success","data":[]}`},
		{name: "no such metric", method: "GET", target: "/api/v1/series?match[]=nothing", code: 200,
			body: `{"status":"success","data":[]}`},
		{name: "limit truncates with a warning", method: "GET", target: "/api/v1/series?match[]=up&limit=1", code: 200,
			body: `{"status":"success","data":[{"__name__":"up","instance":"x","job":"a"}],"warnings":["results truncated due to limit"]}`},
		{name: "limit equal to the count, no warning", method: "GET", target: "/api/v1/series?match[]=up&limit=2", code: 200,
			body: `{"status":"success","data":` + both + `}`},
		{name: "limit 0 is no limit", method: "GET", target: "/api/v1/series?match[]=up&limit=0", code: 200,
			body: `{"status":"success","data":` + both + `}`},
		{name: "missing match[]", method: "GET", target: "/api/v1/series", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"no match[] parameter provided"}`},
		{name: "selector matching everything", method: "GET", target: `/api/v1/series?match[]={job=~".*"}`, code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"invalid parameter \"match[]\": match[] must contain at least one non-empty matcher"}`},
		{name: "bad selector", method: "GET", target: `/api/v1/series?match[]=up{`, code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"invalid parameter \"match[]\": 1:4: parse error: unexpected end of input inside braces"}`},
		{name: "bad start", method: "GET", target: "/api/v1/series?match[]=up&start=yesterday", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"invalid parameter \"start\": invalid time value for 'start': cannot parse \"yesterday\" to a valid timestamp"}`},
		{name: "bad end", method: "GET", target: "/api/v1/series?match[]=up&end=x", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"invalid parameter \"end\": invalid time value for 'end': cannot parse \"x\" to a valid timestamp"}`},
		{name: "negative limit", method: "GET", target: "/api/v1/series?match[]=up&limit=-1", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"invalid parameter \"limit\": limit must be non-negative"}`},
		{name: "non-numeric limit", method: "GET", target: "/api/v1/series?match[]=up&limit=ten", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"invalid parameter \"limit\": strconv.Atoi: parsing \"ten\": invalid syntax"}`},
		{name: "method not allowed", method: "DELETE", target: "/api/v1/series?match[]=up", code: 405, body: ""},
	})
}

func TestLabelsAPI(t *testing.T) {
	h, db := newTestHandler(t, Options{})
	appendSample(t, db, labels.FromStrings("__name__", "http_requests_total", "service.name", "api", "job", "c"), 50_000, 3)
	runAPICases(t, h, []apiCase{
		{name: "all names", method: "GET", target: "/api/v1/labels", code: 200,
			body: `{"status":"success","data":["__name__","instance","job","service.name"]}`},
		{name: "POST with match[]", method: "POST", target: "/api/v1/labels",
			form: url.Values{"match[]": {"up"}, "start": {"0"}, "end": {"100"}}, code: 200,
			body: `{"status":"success","data":["__name__","instance","job"]}`},
		{name: "union over match[]", method: "GET", target: `/api/v1/labels?match[]=http_requests_total&match[]=up{job="a"}`, code: 200,
			body: `{"status":"success","data":["__name__","instance","job","service.name"]}`},
		{name: "names limit", method: "GET", target: "/api/v1/labels?limit=2", code: 200,
			body: `{"status":"success","data":["__name__","instance"],"warnings":["results truncated due to limit"]}`},
		{name: "names, no match", method: "GET", target: "/api/v1/labels?match[]=nothing", code: 200,
			body: `{"status":"success","data":[]}`},
		{name: "names, bad match[]", method: "GET", target: `/api/v1/labels?match[]={a=""}`, code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"match[] must contain at least one non-empty matcher"}`},
		{name: "names, bad start", method: "GET", target: "/api/v1/labels?start=soon", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"invalid parameter \"start\": invalid time value for 'start': cannot parse \"soon\" to a valid timestamp"}`},
		{name: "names, bad limit", method: "GET", target: "/api/v1/labels?limit=-5", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"invalid parameter \"limit\": limit must be non-negative"}`},

		{name: "values", method: "GET", target: "/api/v1/label/job/values", code: 200,
			body: `{"status":"success","data":["a","b","c"]}`},
		{name: "metric names", method: "GET", target: "/api/v1/label/__name__/values", code: 200,
			body: `{"status":"success","data":["http_requests_total","up"]}`},
		{name: "values, POST with match[]", method: "POST", target: "/api/v1/label/job/values",
			form: url.Values{"match[]": {"up"}}, code: 200,
			body: `{"status":"success","data":["a","b"]}`},
		{name: "values, union over match[]", method: "GET", target: `/api/v1/label/job/values?match[]=http_requests_total&match[]=up{instance="y"}`, code: 200,
			body: `{"status":"success","data":["b","c"]}`},
		{name: "values limit", method: "GET", target: "/api/v1/label/job/values?limit=1", code: 200,
			body: `{"status":"success","data":["a"],"warnings":["results truncated due to limit"]}`},
		{name: "values of an unknown name", method: "GET", target: "/api/v1/label/nope/values", code: 200,
			body: `{"status":"success","data":[]}`},
		{name: "UTF-8 name, escaped", method: "GET", target: "/api/v1/label/U__service_2e_name/values", code: 200,
			body: `{"status":"success","data":["api"]}`},
		{name: "UTF-8 name, plain", method: "GET", target: "/api/v1/label/service.name/values", code: 200,
			body: `{"status":"success","data":["api"]}`},
		{name: "invalid name", method: "GET", target: "/api/v1/label/%ff/values", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"invalid label name: \"\\xff\""}`},
		{name: "values, bad end", method: "GET", target: "/api/v1/label/job/values?end=later", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"invalid parameter \"end\": invalid time value for 'end': cannot parse \"later\" to a valid timestamp"}`},
		{name: "values, bad limit", method: "GET", target: "/api/v1/label/job/values?limit=x", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"invalid parameter \"limit\": strconv.Atoi: parsing \"x\": invalid syntax"}`},
		{name: "values, bad match[]", method: "GET", target: "/api/v1/label/job/values?match[]=up)", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"1:4: parse error: unexpected right parenthesis ')'"}`},
	})
}

func TestQueryToolsAPI(t *testing.T) {
	h, _ := newTestHandler(t, Options{})
	runAPICases(t, h, []apiCase{
		// The example of Prometheus's api.md.
		{name: "format_query", method: "GET", target: "/api/v1/format_query?query=foo/bar", code: 200,
			body: `{"status":"success","data":"foo / bar"}`},
		{name: "format_query, POST", method: "POST", target: "/api/v1/format_query",
			form: url.Values{"query": {`sum by(job)(rate(up{job="a"}[5m]))`}}, code: 200,
			body: `{"status":"success","data":"sum by (job) (rate(up{job=\"a\"}[5m]))"}`},
		{name: "format_query, parse error", method: "GET", target: "/api/v1/format_query?query=foo/", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unexpected end of input"}`},
		{name: "parse_query", method: "GET", target: "/api/v1/parse_query?query=sum(rate(up[5m]))", code: 200,
			body: `{"status":"success","data":{"expr":{"args":[{"anchored":false,"matchers":[{"name":"__name__","type":"=","value":"up"}],"name":"up","offset":0,"offsetExpr":null,"range":300000,"rangeExpr":null,"smoothed":false,"startOrEnd":null,"timestamp":null,"type":"matrixSelector"}],"func":{"argTypes":["matrix"],"name":"rate","returnType":"vector","variadic":0},"type":"call"},"grouping":[],"op":"sum","param":null,"type":"aggregation","without":false}}`},
		{name: "parse_query, binary with matching", method: "POST", target: "/api/v1/parse_query",
			form: url.Values{"query": {`a / on(x) group_left b offset 1m`}}, code: 200,
			body: `{"status":"success","data":{"bool":false,"lhs":{"anchored":false,"matchers":[{"name":"__name__","type":"=","value":"a"}],"name":"a","offset":0,"offsetExpr":null,"smoothed":false,"startOrEnd":null,"timestamp":null,"type":"vectorSelector"},"matching":{"card":"many-to-one","fillValues":{"lhs":null,"rhs":null},"include":[],"labels":["x"],"on":true},"op":"/","rhs":{"anchored":false,"matchers":[{"name":"__name__","type":"=","value":"b"}],"name":"b","offset":60000,"offsetExpr":null,"smoothed":false,"startOrEnd":null,"timestamp":null,"type":"vectorSelector"},"type":"binaryExpr"}}`},
		{name: "parse_query, type error", method: "GET", target: `/api/v1/parse_query?query=-(max_over_time(x[10m:1m]%20@%20end()))%2B"s"`, code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:37: parse error: binary expression must contain only scalar and instant vector types"}`},
		{name: "parse_query, subquery", method: "GET", target: `/api/v1/parse_query?query=-(max_over_time(x[10m:1m]%20@%20end()))`, code: 200,
			body: `{"status":"success","data":{"expr":{"expr":{"args":[{"expr":{"anchored":false,"matchers":[{"name":"__name__","type":"=","value":"x"}],"name":"x","offset":0,"offsetExpr":null,"smoothed":false,"startOrEnd":null,"timestamp":null,"type":"vectorSelector"},"offset":0,"offsetExpr":null,"range":600000,"rangeExpr":null,"startOrEnd":"end","step":60000,"stepExpr":null,"timestamp":null,"type":"subquery"}],"func":{"argTypes":["matrix"],"name":"max_over_time","returnType":"vector","variadic":0},"type":"call"},"type":"parenExpr"},"op":"-","type":"unaryExpr"}}`},
		{name: "parse_query, string and number", method: "GET", target: `/api/v1/parse_query?query=label_replace(up,"a","$1","b","(.*)")%20>%201.5`, code: 200,
			body: `{"status":"success","data":{"bool":false,"lhs":{"args":[{"anchored":false,"matchers":[{"name":"__name__","type":"=","value":"up"}],"name":"up","offset":0,"offsetExpr":null,"smoothed":false,"startOrEnd":null,"timestamp":null,"type":"vectorSelector"},{"type":"stringLiteral","val":"a"},{"type":"stringLiteral","val":"$1"},{"type":"stringLiteral","val":"b"},{"type":"stringLiteral","val":"(.*)"}],"func":{"argTypes":["vector","string","string","string","string"],"name":"label_replace","returnType":"vector","variadic":0},"type":"call"},"matching":null,"op":"\u003e","rhs":{"type":"numberLiteral","val":"1.5"},"type":"binaryExpr"}}`},
		{name: "parse_query, parse error", method: "GET", target: "/api/v1/parse_query?query=sum(", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error: unclosed left parenthesis"}`},

		{name: "exemplars: none stored", method: "GET", target: "/api/v1/query_exemplars?query=up&start=0&end=100", code: 200,
			body: `{"status":"success","data":[]}`},
		{name: "exemplars, POST", method: "POST", target: "/api/v1/query_exemplars",
			form: url.Values{"query": {"rate(up[5m])"}}, code: 200, body: `{"status":"success","data":[]}`},
		{name: "exemplars: no selector", method: "GET", target: "/api/v1/query_exemplars?query=1", code: 204, body: ""},
		{name: "exemplars: end before start", method: "GET", target: "/api/v1/query_exemplars?query=up&start=10&end=5", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"end timestamp must not be before start timestamp"}`},
		{name: "exemplars: bad start", method: "GET", target: "/api/v1/query_exemplars?query=up&start=x", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"invalid parameter \"start\": invalid time value for 'start': cannot parse \"x\" to a valid timestamp"}`},
		{name: "exemplars: bad query", method: "GET", target: "/api/v1/query_exemplars?query=up{", code: 400,
			body: `{"status":"error","errorType":"bad_data","error":"1:4: parse error: unexpected end of input inside braces"}`},
	})
}
