package config

import (
	"fmt"
	"strconv"

	"gopkg.in/yaml.v3"
)

// pos is a place in the parsed YAML document. Validation walks the typed
// config and the node tree side by side so that a semantic error can name the
// line it comes from and so that defaults can tell an absent field from one
// explicitly set to its zero value.
type pos struct {
	// node is the YAML node here, nil when the field is absent.
	node *yaml.Node
	// line is where an error about this place is reported: the key's line
	// when reached through a mapping key, else the nearest present ancestor.
	line int
}

// rootPos returns the position of the document's top-level mapping.
func rootPos(doc *yaml.Node) pos {
	n := resolve(doc)
	if n == nil {
		return pos{}
	}
	return pos{node: n, line: n.Line}
}

// resolve unwraps document and alias nodes.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil {
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
	return nil
}

// lookup finds the key and value nodes of name in mapping n, following merge
// keys ("<<") the way the decoder does.
func lookup(n *yaml.Node, name string, depth int) (key, value *yaml.Node) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode || depth > 16 {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Value == name && k.Tag != "!!merge" {
			return k, n.Content[i+1]
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Tag != "!!merge" {
			continue
		}
		merged := resolve(n.Content[i+1])
		if merged == nil {
			continue
		}
		sources := []*yaml.Node{merged}
		if merged.Kind == yaml.SequenceNode {
			sources = merged.Content
		}
		for _, src := range sources {
			if k, v := lookup(src, name, depth+1); k != nil {
				return k, v
			}
		}
	}
	return nil, nil
}

// key moves to the value of field name; an absent field keeps the parent's
// line so that "missing" errors point at the enclosing section.
func (p pos) key(name string) pos {
	k, v := lookup(p.node, name, 0)
	if k == nil {
		return pos{line: p.line}
	}
	v = resolve(v)
	if isNull(v) {
		return pos{line: k.Line}
	}
	return pos{node: v, line: k.Line}
}

// has reports whether field name is set in the mapping at p. A null value
// counts as unset: decoding null leaves the field as it was.
func (p pos) has(name string) bool {
	k, v := lookup(p.node, name, 0)
	return k != nil && !isNull(resolve(v))
}

// present reports whether p holds a non-null value.
func (p pos) present() bool { return p.node != nil }

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// index moves to element i of the sequence at p.
func (p pos) index(i int) pos {
	n := resolve(p.node)
	if n == nil || n.Kind != yaml.SequenceNode || i >= len(n.Content) {
		return pos{line: p.line}
	}
	el := resolve(n.Content[i])
	if el == nil {
		return pos{line: n.Content[i].Line}
	}
	return pos{node: el, line: el.Line}
}

// keyPath returns the YAML path ("scrape_configs[2].tls_config") of the
// mapping holding key name at line, or "" if there is none.
func keyPath(doc *yaml.Node, line int, name string) string {
	root := resolve(doc)
	if root == nil {
		return ""
	}
	path, ok := findKey(root, line, name, "", 0)
	if !ok {
		return ""
	}
	if path == "" {
		return "the top level"
	}
	return path
}

func findKey(n *yaml.Node, line int, name, path string, depth int) (string, bool) {
	if depth > 64 {
		return "", false
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Line == line && k.Value == name {
				return path, true
			}
			if p, ok := findKey(v, line, name, joinPath(path, k.Value), depth+1); ok {
				return p, true
			}
		}
	case yaml.SequenceNode:
		for i, el := range n.Content {
			if p, ok := findKey(el, line, name, path+"["+strconv.Itoa(i)+"]", depth+1); ok {
				return p, true
			}
		}
	}
	return "", false
}

// errorf builds an *Error located at p.
func (v *validator) errorf(p pos, format string, args ...any) error {
	return &Error{File: v.file, Line: p.line, Err: fmt.Errorf(format, args...)}
}

// wrap locates err at p.
func (v *validator) wrap(p pos, err error) error {
	return &Error{File: v.file, Line: p.line, Err: err}
}
