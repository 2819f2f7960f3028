package rules

import (
	"fmt"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// keyValue is one entry of a YAML mapping.
type keyValue struct {
	key, value *yaml.Node
}

// resolveNode unwraps document and alias nodes.
func resolveNode(n *yaml.Node) *yaml.Node {
	for depth := 0; n != nil && depth < 32; depth++ {
		switch n.Kind {
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		case yaml.AliasNode:
			n = n.Alias
		default:
			return n
		}
	}
	return n
}

func isNullNode(n *yaml.Node) bool {
	n = resolveNode(n)
	// Kind 0 is what an empty document decodes to.
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// entries lists the entries of mapping n, following merge keys ("<<") the
// way the YAML decoder does: explicit keys win over merged ones. A key
// appearing twice explicitly is an error, as it is for the decoder.
func (p *fileParser) entries(n *yaml.Node, what string) []keyValue {
	n = resolveNode(n)
	if n == nil || isNullNode(n) {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping, got %s", what, describeNode(n))
		return nil
	}
	var out []keyValue
	seen := map[string]bool{}
	var merged []keyValue
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			src := resolveNode(v)
			sources := []*yaml.Node{src}
			if src != nil && src.Kind == yaml.SequenceNode {
				sources = src.Content
			}
			for _, s := range sources {
				merged = append(merged, p.entries(s, what)...)
			}
			continue
		}
		if seen[k.Value] {
			p.errorf(k, "key %q is repeated in %s", k.Value, what)
			continue
		}
		seen[k.Value] = true
		out = append(out, keyValue{key: k, value: v})
	}
	for _, kv := range merged {
		if !seen[kv.key.Value] {
			seen[kv.key.Value] = true
			out = append(out, kv)
		}
	}
	return out
}

// items lists the elements of sequence n.
func (p *fileParser) items(n *yaml.Node, what string) []*yaml.Node {
	n = resolveNode(n)
	if n == nil || isNullNode(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s must be a list, got %s", what, describeNode(n))
		return nil
	}
	return n.Content
}

// str reads a scalar as a string; null reads as "".
func (p *fileParser) str(n *yaml.Node, what string) string {
	n = resolveNode(n)
	if isNullNode(n) {
		return ""
	}
	if n.Kind != yaml.ScalarNode {
		p.errorf(n, "%s must be a string, got %s", what, describeNode(n))
		return ""
	}
	return n.Value
}

func (p *fileParser) integer(n *yaml.Node, what string) int {
	n = resolveNode(n)
	if isNullNode(n) {
		return 0
	}
	if n.Kind != yaml.ScalarNode {
		p.errorf(n, "%s must be an integer, got %s", what, describeNode(n))
		return 0
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		p.errorf(n, "%s must be an integer, got %q", what, n.Value)
		return 0
	}
	return v
}

// duration reads a Prometheus duration ("1m", "1h30m"). ok is false when
// the field is null or invalid.
func (p *fileParser) duration(n *yaml.Node, what string) (d time.Duration, ok bool) {
	s := p.str(n, what)
	if s == "" {
		return 0, false
	}
	v, err := model.ParseDuration(s)
	if err != nil {
		p.errorf(n, "%s: %v", what, err)
		return 0, false
	}
	return time.Duration(v), true
}

// stringMap reads a mapping of strings to strings.
func (p *fileParser) stringMap(n *yaml.Node, what string) (map[string]string, map[string]*yaml.Node) {
	entries := p.entries(n, what)
	if len(entries) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(entries))
	nodes := make(map[string]*yaml.Node, len(entries))
	for _, kv := range entries {
		m[kv.key.Value] = p.str(kv.value, fmt.Sprintf("%s %q", what, kv.key.Value))
		nodes[kv.key.Value] = kv.key
	}
	return m, nodes
}

func describeNode(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}
