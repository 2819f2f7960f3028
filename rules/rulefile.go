package rules

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"gopkg.in/yaml.v3"
)

// GroupSpec is a rule group as written in a rule file, validated.
type GroupSpec struct {
	// File is the name the file was loaded under; with Name it identifies
	// the group (names need only be unique within a file).
	File string
	Name string
	// Interval is the group's evaluation interval; 0 means the global
	// evaluation_interval.
	Interval time.Duration
	// QueryOffset shifts evaluation back in time; nil means the global
	// rule_query_offset.
	QueryOffset *time.Duration
	// Limit bounds the series a recording rule or the alerts an alerting
	// rule may produce; 0 means no limit.
	Limit int
	// Labels are added to every rule's labels, rule labels winning.
	Labels labels.Labels
	Rules  []RuleSpec
}

// RuleSpec is one recording rule (Record set) or alerting rule (Alert set).
type RuleSpec struct {
	Record        string
	Alert         string
	Expr          string
	For           time.Duration
	KeepFiringFor time.Duration
	// Labels are the rule's own labels merged over its group's.
	Labels      labels.Labels
	Annotations labels.Labels
	// Line is where the rule starts in its file.
	Line int

	expr parser.Expr
}

// Name returns the rule's record or alert name.
func (r RuleSpec) Name() string {
	if r.Alert != "" {
		return r.Alert
	}
	return r.Record
}

// ParseFiles reads and validates rule files, as `argus check rules` and a
// configuration reload do. It returns every problem found, each a
// *ParseError naming its file and, when known, line; the groups are only
// meaningful when there are no errors.
func ParseFiles(files []string) ([]*GroupSpec, []error) {
	var groups []*GroupSpec
	var errs []error
	for _, f := range files {
		g, e := ParseFile(f)
		groups = append(groups, g...)
		errs = append(errs, e...)
	}
	return groups, errs
}

// ParseFile reads and validates one rule file.
func ParseFile(file string) ([]*GroupSpec, []error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, []error{&ParseError{File: file, Err: fmt.Errorf("reading rule file: %w", err)}}
	}
	return Parse(file, b)
}

// Parse validates the content of a rule file; file names it in errors.
// Only the first YAML document is read, as Prometheus does.
func Parse(file string, content []byte) ([]*GroupSpec, []error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(content, &doc); err != nil {
		return nil, []error{yamlSyntaxError(file, err)}
	}
	p := &fileParser{file: file, parser: parser.NewParser(parser.Options{})}
	groups := p.parseFile(&doc)
	// Validation visits map entries in no particular order; report in file
	// order so output is stable and reads top to bottom.
	sort.SliceStable(p.errs, func(i, j int) bool {
		a, b := p.errs[i], p.errs[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Column < b.Column
	})
	errs := make([]error, len(p.errs))
	for i, e := range p.errs {
		errs[i] = e
	}
	return groups, errs
}

// yamlSyntaxError turns a yaml.v3 syntax error ("yaml: line 3: ...") into a
// ParseError carrying the line.
func yamlSyntaxError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
		return &ParseError{File: file, Line: line, Err: errors.New(msg)}
	}
	return &ParseError{File: file, Err: fmt.Errorf("parsing YAML: %s", msg)}
}

// fileParser walks one rule file's YAML tree, collecting every problem.
type fileParser struct {
	file   string
	parser parser.Parser
	errs   []*ParseError

	// The group and rule being parsed, for error context.
	group    string
	rule     int
	ruleName string
}

func (p *fileParser) errorf(n *yaml.Node, format string, args ...any) {
	e := &ParseError{
		File: p.file, Group: p.group, Rule: p.rule, RuleName: p.ruleName,
		Err: fmt.Errorf(format, args...),
	}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
}

func (p *fileParser) parseFile(doc *yaml.Node) []*GroupSpec {
	root := resolveNode(doc)
	if isNullNode(root) {
		return nil
	}
	var groupsNode *yaml.Node
	for _, kv := range p.entries(root, "the rule file") {
		if kv.key.Value != "groups" {
			p.errorf(kv.key, "unknown field %q at the top level (only \"groups\" is allowed)", kv.key.Value)
			continue
		}
		groupsNode = kv.value
	}
	var groups []*GroupSpec
	seen := map[string]bool{}
	for _, gn := range p.items(groupsNode, "groups") {
		g := p.parseGroup(gn)
		if g == nil {
			continue
		}
		if seen[g.Name] {
			p.group = ""
			p.errorf(gn, "group name %q is repeated in the same file", g.Name)
		}
		seen[g.Name] = true
		groups = append(groups, g)
	}
	p.group = ""
	return groups
}

func (p *fileParser) parseGroup(n *yaml.Node) *GroupSpec {
	n = resolveNode(n)
	p.group, p.rule, p.ruleName = "", 0, ""
	entries := p.entries(n, "a group")
	if entries == nil {
		if n != nil && n.Kind == yaml.MappingNode {
			p.errorf(n, "group name must not be empty")
		}
		return nil
	}
	g := &GroupSpec{File: p.file}
	var ruleNodes *yaml.Node
	var labelsNode *yaml.Node
	for _, kv := range entries {
		if kv.key.Value == "name" {
			g.Name = p.str(kv.value, "name")
			p.group = g.Name
		}
	}
	if g.Name == "" {
		p.errorf(n, "group name must not be empty")
	}
	for _, kv := range entries {
		switch kv.key.Value {
		case "name":
		case "interval":
			if d, ok := p.duration(kv.value, "interval"); ok {
				if d <= 0 {
					p.errorf(kv.value, "interval must be positive, got %s", kv.value.Value)
				}
				g.Interval = d
			}
		case "query_offset":
			// An explicit null leaves the global default in place.
			if d, ok := p.duration(kv.value, "query_offset"); ok {
				g.QueryOffset = &d
			}
		case "limit":
			g.Limit = p.integer(kv.value, "limit")
			if g.Limit < 0 {
				p.errorf(kv.value, "limit must not be negative, got %d", g.Limit)
			}
		case "labels":
			labelsNode = kv.value
		case "rules":
			ruleNodes = kv.value
		default:
			p.errorf(kv.key, "unknown field %q in group", kv.key.Value)
		}
	}
	groupLabels, _ := p.labelSet(labelsNode, "group label")
	g.Labels = labels.FromMap(groupLabels)
	for i, rn := range p.items(ruleNodes, "rules") {
		p.rule, p.ruleName = i+1, ""
		if r, ok := p.parseRule(rn, groupLabels); ok {
			g.Rules = append(g.Rules, r)
		}
	}
	p.rule, p.ruleName = 0, ""
	return g
}

// labelSet reads and validates a labels mapping.
func (p *fileParser) labelSet(n *yaml.Node, what string) (map[string]string, map[string]*yaml.Node) {
	m, keys := p.stringMap(n, what+"s")
	for name, v := range m {
		if !model.UTF8Validation.IsValidLabelName(name) || name == model.MetricNameLabel {
			p.errorf(keys[name], "invalid %s name %q", what, name)
		}
		if !model.LabelValue(v).IsValid() {
			p.errorf(keys[name], "invalid %s value %q for %q: not valid UTF-8", what, v, name)
		}
	}
	return m, keys
}

func (p *fileParser) parseRule(n *yaml.Node, groupLabels map[string]string) (RuleSpec, bool) {
	n = resolveNode(n)
	errsBefore := len(p.errs)
	r := RuleSpec{}
	if n != nil {
		r.Line = n.Line
	}
	entries := p.entries(n, "a rule")
	fields := map[string]*yaml.Node{}
	for _, kv := range entries {
		fields[kv.key.Value] = kv.key
		switch kv.key.Value {
		case "record":
			r.Record = p.str(kv.value, "record")
		case "alert":
			r.Alert = p.str(kv.value, "alert")
		}
	}
	p.ruleName = r.Name()
	var labelsNode, annotationsNode, exprNode *yaml.Node
	for _, kv := range entries {
		switch kv.key.Value {
		case "record", "alert":
		case "expr":
			exprNode = kv.value
			r.Expr = p.str(kv.value, "expr")
		case "for":
			r.For, _ = p.duration(kv.value, "for")
		case "keep_firing_for":
			r.KeepFiringFor, _ = p.duration(kv.value, "keep_firing_for")
		case "labels":
			labelsNode = kv.value
		case "annotations":
			annotationsNode = kv.value
		default:
			p.errorf(kv.key, "unknown field %q in rule", kv.key.Value)
		}
	}

	switch {
	case r.Record != "" && r.Alert != "":
		p.errorf(n, "only one of 'record' and 'alert' may be set")
	case r.Record == "" && r.Alert == "":
		p.errorf(n, "one of 'record' or 'alert' must be set")
	}
	if r.Record != "" {
		at := fields["record"]
		for _, f := range []string{"for", "keep_firing_for", "annotations"} {
			if fields[f] != nil {
				p.errorf(fields[f], "invalid field %q in recording rule", f)
			}
		}
		if !model.UTF8Validation.IsValidMetricName(r.Record) {
			p.errorf(at, "invalid recording rule name %q", r.Record)
		}
		// A valid UTF-8 name, but almost always a PromQL selector pasted
		// into the wrong field.
		if strings.ContainsAny(r.Record, "{}") {
			p.errorf(at, "braces present in the recording rule name; should it be in expr?: %s", r.Record)
		}
	}

	switch {
	case exprNode == nil || r.Expr == "":
		p.errorf(orNode(exprNode, n), "field 'expr' must be set in rule")
	default:
		expr, err := p.parser.ParseExpr(r.Expr)
		if err != nil {
			p.errorf(exprNode, "could not parse expression: %v", err)
		}
		r.expr = expr
	}

	ruleLabels, labelKeys := p.labelSet(labelsNode, "label")
	annotations, annotationKeys := p.stringMap(annotationsNode, "annotations")
	for name := range annotations {
		if !model.UTF8Validation.IsValidLabelName(name) {
			p.errorf(annotationKeys[name], "invalid annotation name %q", name)
		}
	}
	if r.Alert != "" {
		// Only alerting rules expand templates; a recording rule's labels
		// are written as they are.
		for name, text := range ruleLabels {
			if err := checkTemplate(r.Alert, text); err != nil {
				p.errorf(labelKeys[name], "label %q: %v", name, err)
			}
		}
		for name, text := range annotations {
			if err := checkTemplate(r.Alert, text); err != nil {
				p.errorf(annotationKeys[name], "annotation %q: %v", name, err)
			}
		}
	}
	r.Labels = mergeLabels(groupLabels, ruleLabels)
	r.Annotations = labels.FromMap(annotations)
	return r, len(p.errs) == errsBefore
}

func orNode(n, fallback *yaml.Node) *yaml.Node {
	if n != nil {
		return n
	}
	return fallback
}

// mergeLabels returns the group's labels overridden by the rule's.
func mergeLabels(group, rule map[string]string) labels.Labels {
	b := labels.NewScratchBuilder(len(group) + len(rule))
	names := make([]string, 0, len(group)+len(rule))
	for k := range group {
		if _, ok := rule[k]; !ok {
			names = append(names, k)
		}
	}
	for k := range rule {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v, ok := rule[k]
		if !ok {
			v = group[k]
		}
		b.Add(k, v)
	}
	return b.Labels()
}
