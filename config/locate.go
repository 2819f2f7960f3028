package config

import (
	"reflect"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// locateFailure finds the line of a decoding error that yaml.v3 reports
// without one. Those come from the yaml.v2-style UnmarshalYAML methods of
// prometheus/common and prometheus types (a bad duration, regexp, URL or TLS
// version): the decoder aborts with the method's error and no position.
//
// It walks the node tree alongside the Go type and decodes subtrees on their
// own, deepest first; the first subtree that fails to decode is where the
// problem is. Only the failure path pays for this.
//
// It returns the line and the YAML path ("scrape_configs[0].scrape_interval")
// of the failing value, or 0 and "" when it cannot tell.
func locateFailure(doc *yaml.Node, t reflect.Type) (int, string) {
	root := resolve(doc)
	if root == nil {
		return 0, ""
	}
	if f, ok := locate(root, t, place{line: root.Line}, 0); ok {
		return f.line, f.path
	}
	return 0, ""
}

// place is where a value sits: its YAML path and the line to report, which
// is its key's line when reached through a mapping key.
type place struct {
	path string
	line int
}

func locate(n *yaml.Node, t reflect.Type, at place, depth int) (place, bool) {
	if n == nil || depth > 64 {
		return place{}, false
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Struct:
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft, ok := fields[k.Value]
			if !ok {
				continue
			}
			if f, bad := locate(resolve(n.Content[i+1]), ft, place{joinPath(at.path, k.Value), k.Line}, depth+1); bad {
				return f, true
			}
		}
	case n.Kind == yaml.MappingNode && t.Kind() == reflect.Map:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			child := place{joinPath(at.path, k.Value), k.Line}
			if f, bad := locate(resolve(k), t.Key(), child, depth+1); bad {
				return f, true
			}
			if f, bad := locate(resolve(n.Content[i+1]), t.Elem(), child, depth+1); bad {
				return f, true
			}
		}
	case n.Kind == yaml.SequenceNode && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		for i, el := range n.Content {
			child := place{at.path + "[" + strconv.Itoa(i) + "]", el.Line}
			if f, bad := locate(resolve(el), t.Elem(), child, depth+1); bad {
				return f, true
			}
		}
	}
	if err := n.Decode(reflect.New(t).Interface()); err != nil {
		return at, true
	}
	return place{}, false
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// yamlFields maps the YAML keys of struct type t to their field types,
// flattening ",inline" structs as the decoder does.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	var collect func(t reflect.Type, depth int)
	collect = func(t reflect.Type, depth int) {
		if depth > 8 {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() && !f.Anonymous {
				continue
			}
			tag := f.Tag.Get("yaml")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if strings.Contains(","+opts+",", ",inline,") && f.Type.Kind() == reflect.Struct {
				collect(f.Type, depth+1)
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			fields[name] = f.Type
		}
	}
	collect(t, 0)
	return fields
}
