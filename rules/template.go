package rules

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net"
	"net/netip"
	"net/url"
	"sort"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/grafana/regexp"
	"github.com/prometheus/common/helpers/templates"
	"github.com/prometheus/common/model"
	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

// templatePrelude gives alert templates the short variable names
// Prometheus users write ($labels, $value...) on top of the data fields.
const templatePrelude = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}"

// templateData is what an alert's label and annotation templates see.
type templateData struct {
	Labels         map[string]string
	ExternalLabels map[string]string
	ExternalURL    string
	Value          float64
}

// templateSample is a query result element in the shape templates use
// (.Labels, .Value), as Prometheus exposes it.
type templateSample struct {
	Labels map[string]string
	Value  float64
}

type queryResult []*templateSample

// templateEnv is what template functions depend on: the evaluation's
// context and time, the query function behind `query`, and the external URL.
type templateEnv struct {
	ctx         context.Context
	ts          time.Time
	query       QueryFunc
	externalURL *url.URL
}

var titleCaser = cases.Title(language.AmericanEnglish, cases.NoLower)

// funcs returns Prometheus's template function set bound to env.
func (env templateEnv) funcs() texttemplate.FuncMap {
	return texttemplate.FuncMap{
		"query": func(q string) (queryResult, error) {
			if env.query == nil {
				return nil, errors.New("query is not available in this template")
			}
			vec, err := env.query(env.ctx, q, env.ts)
			if err != nil {
				return nil, err
			}
			res := make(queryResult, len(vec))
			for i, s := range vec {
				res[i] = &templateSample{Labels: s.Metric.Map(), Value: s.F}
			}
			return res, nil
		},
		"first": func(v queryResult) (*templateSample, error) {
			if len(v) == 0 {
				return nil, errors.New("first() called on vector with no elements")
			}
			return v[0], nil
		},
		"label":    func(name string, s *templateSample) string { return s.Labels[name] },
		"value":    func(s *templateSample) float64 { return s.Value },
		"strvalue": func(s *templateSample) string { return s.Labels["__value__"] },
		"args": func(args ...any) map[string]any {
			m := make(map[string]any, len(args))
			for i, a := range args {
				m[fmt.Sprintf("arg%d", i)] = a
			}
			return m
		},
		"reReplaceAll": func(pattern, repl, text string) (string, error) {
			re, err := regexp.Compile(pattern)
			if err != nil {
				return "", err
			}
			return re.ReplaceAllString(text, repl), nil
		},
		"match":     regexp.MatchString,
		"safeHtml":  func(s string) template.HTML { return template.HTML(s) },
		"title":     titleCaser.String,
		"toUpper":   strings.ToUpper,
		"toLower":   strings.ToLower,
		"graphLink": func(expr string) string { return "/graph?g0.expr=" + url.QueryEscape(expr) + "&g0.tab=0" },
		"tableLink": tableLink,
		"sortByLabel": func(name string, v queryResult) queryResult {
			sort.SliceStable(v, func(i, j int) bool { return v[i].Labels[name] < v[j].Labels[name] })
			return v
		},
		"stripPort":          stripPort,
		"stripDomain":        stripDomain,
		"humanize":           humanize,
		"humanize1024":       humanize1024,
		"humanizeDuration":   templates.HumanizeDuration,
		"humanizePercentage": humanizePercentage,
		"humanizeTimestamp":  templates.HumanizeTimestamp,
		"toTime": func(i any) (*time.Time, error) {
			v, err := templates.ConvertToFloat(i)
			if err != nil {
				return nil, err
			}
			return templates.FloatToTime(v)
		},
		"toDuration": func(i any) (*time.Duration, error) {
			v, err := templates.ConvertToFloat(i)
			if err != nil {
				return nil, err
			}
			d := time.Duration(v * float64(time.Second))
			return &d, nil
		},
		"now": func() float64 { return float64(env.ts.UnixMilli()) / 1000 },
		"pathPrefix": func() string {
			if env.externalURL == nil {
				return ""
			}
			return env.externalURL.Path
		},
		"externalURL": func() string {
			if env.externalURL == nil {
				return ""
			}
			return env.externalURL.String()
		},
		"parseDuration": func(s string) (float64, error) {
			d, err := model.ParseDurationAllowNegative(s)
			if err != nil {
				return 0, err
			}
			return time.Duration(d).Seconds(), nil
		},
		"urlQueryEscape": url.QueryEscape,
	}
}

// expand runs template text (with the prelude) against data. A template
// bug must not take the server down, so a panic inside a function becomes
// an error.
func (env templateEnv) expand(name, text string, data templateData) (string, error) {
	return expandWith(env.funcs(), name, text, data)
}

// expandWith is expand with a function map built once by the caller, so an
// alerting rule expanding many templates per evaluation builds it once.
func expandWith(funcs texttemplate.FuncMap, name, text string, data templateData) (result string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic expanding template %s: %v", name, r)
		}
	}()
	tmpl, err := texttemplate.New(name).Funcs(funcs).Option("missingkey=zero").Parse(templatePrelude + text)
	if err != nil {
		return "", fmt.Errorf("error parsing template %s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		return "", fmt.Errorf("error executing template %s: %w", name, err)
	}
	return buf.String(), nil
}

// checkTemplate parses an alert's label or annotation template without
// running it, to reject bad templates when rule files are loaded.
func checkTemplate(alert, text string) error {
	_, err := texttemplate.New("__alert_" + alert).Funcs(templateEnv{}.funcs()).Option("missingkey=zero").Parse(templatePrelude + text)
	return err
}

func tableLink(expr string) string {
	return "/graph?g0.expr=" + url.QueryEscape(expr) + "&g0.tab=1"
}

func stripPort(hostPort string) string {
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return hostPort
	}
	return host
}

func stripDomain(hostPort string) string {
	host, port, err := net.SplitHostPort(hostPort)
	if err != nil {
		host = hostPort
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return hostPort
	}
	host, _, _ = strings.Cut(host, ".")
	if port != "" {
		return net.JoinHostPort(host, port)
	}
	return host
}

// humanize formats with SI prefixes: 1234 -> "1.234k", 0.001 -> "1m".
func humanize(i any) (string, error) {
	v, err := templates.ConvertToFloat(i)
	if err != nil {
		return "", err
	}
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprintf("%.4g", v), nil
	}
	prefix := ""
	if math.Abs(v) >= 1 {
		for _, p := range []string{"k", "M", "G", "T", "P", "E", "Z", "Y"} {
			if math.Abs(v) < 1000 {
				break
			}
			prefix, v = p, v/1000
		}
		return fmt.Sprintf("%.4g%s", v, prefix), nil
	}
	for _, p := range []string{"m", "u", "n", "p", "f", "a", "z", "y"} {
		if math.Abs(v) >= 1 {
			break
		}
		prefix, v = p, v*1000
	}
	return fmt.Sprintf("%.4g%s", v, prefix), nil
}

// humanize1024 formats with binary prefixes: 1024 -> "1ki".
func humanize1024(i any) (string, error) {
	v, err := templates.ConvertToFloat(i)
	if err != nil {
		return "", err
	}
	if math.Abs(v) <= 1 || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Sprintf("%.4g", v), nil
	}
	prefix := ""
	for _, p := range []string{"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"} {
		if math.Abs(v) < 1024 {
			break
		}
		prefix, v = p, v/1024
	}
	return fmt.Sprintf("%.4g%s", v, prefix), nil
}

func humanizePercentage(i any) (string, error) {
	v, err := templates.ConvertToFloat(i)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%.4g%%", v*100), nil
}
