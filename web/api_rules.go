package web

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/rules"
)

// RulesRetriever lists the loaded rule groups and alerting rules;
// *rules.Manager satisfies it.
type RulesRetriever interface {
	RuleGroups() []*rules.Group
	AlertingRules() []*rules.AlertingRule
}

// noRules stands in when the server has no rule manager.
type noRules struct{}

func (noRules) RuleGroups() []*rules.Group           { return nil }
func (noRules) AlertingRules() []*rules.AlertingRule { return nil }

func (h *Handler) rulesRetriever() RulesRetriever {
	if h.opts.Rules == nil {
		return noRules{}
	}
	return h.opts.Rules
}

// apiAlert is one pending or firing alert as the API shows it.
type apiAlert struct {
	Labels          labels.Labels `json:"labels"`
	Annotations     labels.Labels `json:"annotations"`
	State           string        `json:"state"`
	ActiveAt        *time.Time    `json:"activeAt,omitempty"`
	KeepFiringSince *time.Time    `json:"keepFiringSince,omitempty"`
	// Value is a string in exponent notation ("1e+00"), unlike the plain
	// decimals of query results, as Prometheus writes it.
	Value string `json:"value"`
}

func toAPIAlerts(as []*rules.Alert) []*apiAlert {
	out := make([]*apiAlert, len(as))
	for i, a := range as {
		out[i] = &apiAlert{
			Labels:      a.Labels,
			Annotations: a.Annotations,
			State:       a.State.String(),
			ActiveAt:    &a.ActiveAt,
			Value:       strconv.FormatFloat(a.Value, 'e', -1, 64),
		}
		if !a.KeepFiringSince.IsZero() {
			out[i].KeepFiringSince = &a.KeepFiringSince
		}
	}
	return out
}

func (h *Handler) alerts(*http.Request) ([]byte, *annotations, *apiError) {
	alerts := []*apiAlert{}
	for _, r := range h.rulesRetriever().AlertingRules() {
		alerts = append(alerts, toAPIAlerts(r.ActiveAlerts())...)
	}
	return marshalData(struct {
		Alerts []*apiAlert `json:"alerts"`
	}{alerts})
}

type ruleDiscovery struct {
	Groups         []*apiRuleGroup `json:"groups"`
	GroupNextToken string          `json:"groupNextToken,omitempty"`
}

type apiRuleGroup struct {
	Name string `json:"name"`
	File string `json:"file"`
	// Rules mixes alerting and recording rules to keep the group's order.
	Rules          []any     `json:"rules"`
	Interval       float64   `json:"interval"`
	Limit          int       `json:"limit"`
	EvaluationTime float64   `json:"evaluationTime"`
	LastEvaluation time.Time `json:"lastEvaluation"`
}

type apiAlertingRule struct {
	State          string           `json:"state"`
	Name           string           `json:"name"`
	Query          string           `json:"query"`
	Duration       float64          `json:"duration"`
	KeepFiringFor  float64          `json:"keepFiringFor"`
	Labels         labels.Labels    `json:"labels"`
	Annotations    labels.Labels    `json:"annotations"`
	Alerts         []*apiAlert      `json:"alerts"`
	Health         rules.RuleHealth `json:"health"`
	LastError      string           `json:"lastError,omitempty"`
	EvaluationTime float64          `json:"evaluationTime"`
	LastEvaluation time.Time        `json:"lastEvaluation"`
	Type           string           `json:"type"`
}

type apiRecordingRule struct {
	Name           string           `json:"name"`
	Query          string           `json:"query"`
	Labels         labels.Labels    `json:"labels"`
	Health         rules.RuleHealth `json:"health"`
	LastError      string           `json:"lastError,omitempty"`
	EvaluationTime float64          `json:"evaluationTime"`
	LastEvaluation time.Time        `json:"lastEvaluation"`
	Type           string           `json:"type"`
}

// rulesFilter is what the parameters of /api/v1/rules select.
type rulesFilter struct {
	names, groups, files map[string]bool
	matchers             [][]*labels.Matcher
	alerting, recording  bool
	excludeAlerts        bool
	// groupLimit is the page size, 0 for no paging; nextToken names the
	// first group of the page.
	groupLimit int
	nextToken  string
}

// parseRulesFilter reads the parameters as Prometheus does: the list
// filters from the URL or a form body, the others from the URL only.
func (h *Handler) parseRulesFilter(r *http.Request) (*rulesFilter, *apiError) {
	if err := r.ParseForm(); err != nil {
		return nil, &apiError{errorBadData, fmt.Errorf("error parsing form values: %w", err)}
	}
	f := &rulesFilter{
		names:  stringSet(r.Form["rule_name[]"]),
		groups: stringSet(r.Form["rule_group[]"]),
		files:  stringSet(r.Form["file[]"]),
	}
	if sel := r.Form["match[]"]; len(sel) > 0 {
		sets, err := parseMatchers(h.parser, sel)
		if err != nil {
			return nil, &apiError{errorBadData, err}
		}
		f.matchers = sets
	}
	q := r.URL.Query()
	switch typ := strings.ToLower(q.Get("type")); typ {
	case "":
		f.alerting, f.recording = true, true
	case "alert":
		f.alerting = true
	case "record":
		f.recording = true
	default:
		return nil, invalidParam("type", fmt.Errorf("not supported value %q", typ))
	}
	if s := strings.ToLower(q.Get("exclude_alerts")); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, invalidParam("exclude_alerts", fmt.Errorf("error converting exclude_alerts: %w", err))
		}
		f.excludeAlerts = b
	}
	limit, token := q.Get("group_limit"), q.Get("group_next_token")
	if token != "" && limit == "" {
		return nil, invalidParam("group_next_token", errors.New("group_limit needs to be present in order to paginate over the groups"))
	}
	if limit != "" {
		n, err := strconv.ParseInt(limit, 10, 32)
		if err != nil {
			return nil, invalidParam("group_limit", fmt.Errorf("group_limit needs to be a valid number: %w", err))
		}
		if n <= 0 {
			return nil, invalidParam("group_limit", errors.New("group_limit needs to be greater than 0"))
		}
		f.groupLimit, f.nextToken = int(n), token
	}
	return f, nil
}

func stringSet(vals []string) map[string]bool {
	set := make(map[string]bool, len(vals))
	for _, v := range vals {
		set[v] = true
	}
	return set
}

// groupToken is the opaque group_next_token of a group, the same hash
// Prometheus uses so a token survives a switch between the two.
func groupToken(g *rules.Group) string {
	sum := sha256.Sum256([]byte(rules.GroupKey(g.File(), g.Name())))
	return hex.EncodeToString(sum[:])
}

func (h *Handler) rules(r *http.Request) ([]byte, *annotations, *apiError) {
	f, apiErr := h.parseRulesFilter(r)
	if apiErr != nil {
		return nil, nil, apiErr
	}
	res := ruleDiscovery{Groups: []*apiRuleGroup{}}
	// Without a token the page starts at the first group.
	found := f.nextToken == ""
	for _, g := range h.rulesRetriever().RuleGroups() {
		if !found {
			if groupToken(g) != f.nextToken {
				continue
			}
			found = true
		}
		if (len(f.groups) > 0 && !f.groups[g.Name()]) || (len(f.files) > 0 && !f.files[g.File()]) {
			continue
		}
		ag := f.group(g)
		// A group whose rules were all filtered out is left out.
		if len(ag.Rules) == 0 {
			continue
		}
		if f.groupLimit > 0 && len(res.Groups) == f.groupLimit {
			res.GroupNextToken = groupToken(g)
			break
		}
		res.Groups = append(res.Groups, ag)
	}
	if !found {
		return nil, nil, invalidParam("group_next_token", fmt.Errorf("invalid group_next_token '%v'. were rule groups changed?", f.nextToken))
	}
	return marshalData(res)
}

// group renders the rules of g that f selects.
func (f *rulesFilter) group(g *rules.Group) *apiRuleGroup {
	ag := &apiRuleGroup{
		Name:           g.Name(),
		File:           g.File(),
		Rules:          []any{},
		Interval:       g.Interval().Seconds(),
		Limit:          g.Limit(),
		EvaluationTime: g.EvaluationTime().Seconds(),
		LastEvaluation: g.LastEvaluation(),
	}
	for _, rule := range g.Rules() {
		if (len(f.names) > 0 && !f.names[rule.Name()]) || !matchesAny(f.matchers, rule.Labels()) {
			continue
		}
		lastErr := ""
		if err := rule.LastError(); err != nil {
			lastErr = err.Error()
		}
		// rules.Rule is sealed (it has an unexported method), so these two
		// cases are every rule there is.
		switch rule := rule.(type) {
		case *rules.AlertingRule:
			if !f.alerting {
				continue
			}
			// Excluded alerts are null, no alerts an empty list, as in
			// Prometheus.
			var alerts []*apiAlert
			if !f.excludeAlerts {
				alerts = toAPIAlerts(rule.ActiveAlerts())
			}
			ag.Rules = append(ag.Rules, apiAlertingRule{
				State:          rule.State().String(),
				Name:           rule.Name(),
				Query:          rule.Query(),
				Duration:       rule.HoldDuration().Seconds(),
				KeepFiringFor:  rule.KeepFiringFor().Seconds(),
				Labels:         rule.Labels(),
				Annotations:    rule.Annotations(),
				Alerts:         alerts,
				Health:         rule.Health(),
				LastError:      lastErr,
				EvaluationTime: rule.EvaluationDuration().Seconds(),
				LastEvaluation: rule.LastEvaluation(),
				Type:           "alerting",
			})
		case *rules.RecordingRule:
			if !f.recording {
				continue
			}
			ag.Rules = append(ag.Rules, apiRecordingRule{
				Name:           rule.Name(),
				Query:          rule.Query(),
				Labels:         rule.Labels(),
				Health:         rule.Health(),
				LastError:      lastErr,
				EvaluationTime: rule.EvaluationDuration().Seconds(),
				LastEvaluation: rule.LastEvaluation(),
				Type:           "recording",
			})
		}
	}
	return ag
}

// matchesAny reports whether ls satisfies every matcher of at least one
// set; no sets match everything.
func matchesAny(sets [][]*labels.Matcher, ls labels.Labels) bool {
	if len(sets) == 0 {
		return true
	}
	for _, set := range sets {
		ok := true
		for _, m := range set {
			if !m.Matches(ls.Get(m.Name)) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}
