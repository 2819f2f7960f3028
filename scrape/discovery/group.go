package discovery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/argusmon/argus/config"
)

// Group is a set of targets sharing labels, identified by its Source within
// the provider that produced it. A later group with the same Source replaces
// it; one with no targets removes it.
type Group struct {
	// Source identifies the group within its provider, e.g. "path.json:0".
	Source string
	// Targets holds one label set per target, each with at least __address__.
	Targets []model.LabelSet
	// Labels apply to every target of the group unless a target sets them.
	Labels model.LabelSet
}

// groupDoc is the wire form of a group shared by file_sd and http_sd: a list
// of addresses and common labels.
type groupDoc struct {
	Targets []string          `json:"targets" yaml:"targets"`
	Labels  map[string]string `json:"labels" yaml:"labels"`
}

// parseGroups decodes a JSON or YAML list of target groups. Unknown fields
// are errors, as in Prometheus, so that a typo does not silently drop labels.
func parseGroups(data []byte, yamlFormat bool) ([]*Group, error) {
	var docs []*groupDoc
	if yamlFormat {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&docs); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
	} else {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&docs); err != nil {
			return nil, err
		}
	}
	groups := make([]*Group, 0, len(docs))
	for i, d := range docs {
		if d == nil {
			return nil, fmt.Errorf("target group %d is null", i)
		}
		g := &Group{Labels: make(model.LabelSet, len(d.Labels)+1)}
		for n, v := range d.Labels {
			if n == "" || !utf8.ValidString(n) {
				return nil, fmt.Errorf("target group %d: invalid label name %q", i, n)
			}
			if !utf8.ValidString(v) {
				return nil, fmt.Errorf("target group %d: invalid value for label %q", i, n)
			}
			g.Labels[model.LabelName(n)] = model.LabelValue(v)
		}
		g.Targets = make([]model.LabelSet, 0, len(d.Targets))
		for _, t := range d.Targets {
			g.Targets = append(g.Targets, model.LabelSet{model.AddressLabel: model.LabelValue(t)})
		}
		groups = append(groups, g)
	}
	return groups, nil
}

// StaticGroups turns static_configs into target groups, one per entry, with
// the sources the scrape package names in its errors.
func StaticGroups(cfgs []*config.StaticConfig) []*Group {
	groups := make([]*Group, 0, len(cfgs))
	for i, sc := range cfgs {
		if sc == nil {
			continue
		}
		g := &Group{Source: fmt.Sprintf("static_configs[%d]", i), Labels: sc.Labels.Clone()}
		for _, addr := range sc.Targets {
			g.Targets = append(g.Targets, model.LabelSet{model.AddressLabel: model.LabelValue(addr)})
		}
		groups = append(groups, g)
	}
	return groups
}

// emptyGroups returns target-less groups for sources that disappeared, so
// that the manager forgets them.
func emptyGroups(sources []string) []*Group {
	out := make([]*Group, 0, len(sources))
	for _, s := range sources {
		out = append(out, &Group{Source: s})
	}
	return out
}
