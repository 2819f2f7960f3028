package discovery

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/argusmon/argus/config"
)

// summary renders groups as source -> addresses, empty for removals.
func summary(groups []*Group) map[string][]string {
	out := map[string][]string{}
	for _, g := range groups {
		addrs := []string{}
		for _, t := range g.Targets {
			addrs = append(addrs, string(t["__address__"]))
		}
		out[g.Source] = addrs
	}
	return out
}

func TestFileProvider(t *testing.T) {
	dir := t.TempDir()
	jsonPath := filepath.Join(dir, "a.json")
	yamlPath := filepath.Join(dir, "b.yml")
	type step struct {
		name  string
		write map[string]string // path -> content; "" deletes
		want  map[string][]string
		errs  float64
	}
	steps := []step{
		{
			name: "initial JSON and YAML",
			write: map[string]string{
				jsonPath: `[{"targets":["a:1","a:2"],"labels":{"env":"prod"}},{"targets":["a:3"]}]`,
				yamlPath: "- targets: ['b:1']\n",
			},
			want: map[string][]string{jsonPath + ":0": {"a:1", "a:2"}, jsonPath + ":1": {"a:3"}, yamlPath + ":0": {"b:1"}},
		},
		{
			name:  "a group removed and a target added",
			write: map[string]string{jsonPath: `[{"targets":["a:1","a:2","a:4"]}]`},
			want:  map[string][]string{jsonPath + ":0": {"a:1", "a:2", "a:4"}, jsonPath + ":1": {}},
		},
		{
			name:  "broken file keeps its targets",
			write: map[string]string{yamlPath: "- targets: [unterminated\n"},
			want:  map[string][]string{},
			errs:  1,
		},
		{
			name:  "unknown field is an error too",
			write: map[string]string{jsonPath: `[{"targets":["a:1"],"lables":{}}]`},
			want:  map[string][]string{},
			errs:  2,
		},
		{
			name:  "fixed file is read again",
			write: map[string]string{yamlPath: "- targets: ['b:2']\n  labels: {x: y}\n"},
			want:  map[string][]string{yamlPath + ":0": {"b:2"}},
			errs:  2,
		},
		{
			name:  "deleted file removes its targets",
			write: map[string]string{yamlPath: ""},
			want:  map[string][]string{yamlPath + ":0": {}},
			errs:  2,
		},
	}
	errs := prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})
	f := NewFile(&config.FileSDConfig{Files: []string{filepath.Join(dir, "*.json"), filepath.Join(dir, "*.yml")}}, FileOptions{ReadErrors: errs})
	for i, s := range steps {
		for path, content := range s.write {
			if content == "" {
				if err := os.Remove(path); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			// Mtime granularity must not hide a rewrite.
			mt := time.Now().Add(time.Duration(i) * time.Second)
			if err := os.Chtimes(path, mt, mt); err != nil {
				t.Fatal(err)
			}
		}
		got := f.scan(false)
		if diff := compareSummary(summary(got), s.want); diff != "" {
			t.Fatalf("%s: %s", s.name, diff)
		}
		if n := testutil.ToFloat64(errs); n != s.errs {
			t.Fatalf("%s: read errors = %v, want %v", s.name, n, s.errs)
		}
		for _, g := range got {
			if len(g.Targets) > 0 && string(g.Labels[filePathLabel]) != g.Source[:len(g.Source)-2] {
				t.Fatalf("%s: __meta_filepath = %q for source %s", s.name, g.Labels[filePathLabel], g.Source)
			}
		}
	}
	// Nothing changed: a poll sends nothing, a refresh re-reads everything.
	if err := os.WriteFile(jsonPath, []byte(`[{"targets":["a:9"]}]`), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := f.scan(false); len(got) != 1 {
		t.Fatalf("fixed JSON file: got %v", summary(got))
	}
	if got := f.scan(false); len(got) != 0 {
		t.Fatalf("unchanged poll sent %v", summary(got))
	}
	if got := f.scan(true); len(got) != 1 {
		t.Fatalf("forced refresh sent %v, want the JSON file's group", summary(got))
	}
}

func compareSummary(got, want map[string][]string) string {
	if len(got) != len(want) {
		return "got " + format(got) + ", want " + format(want)
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok || len(g) != len(w) {
			return "got " + format(got) + ", want " + format(want)
		}
		for i := range w {
			if g[i] != w[i] {
				return "got " + format(got) + ", want " + format(want)
			}
		}
	}
	return ""
}

func format(m map[string][]string) string {
	s := "{"
	for k, v := range m {
		s += k + ":" + func() string {
			r := ""
			for _, a := range v {
				r += a + ","
			}
			return "[" + r + "]"
		}() + " "
	}
	return s + "}"
}
