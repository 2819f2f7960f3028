package unittest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"
)

// defaultEvaluationInterval is promtool's evaluation_interval default.
const defaultEvaluationInterval = time.Minute

// testFile is one unit test file.
type testFile struct {
	RuleFiles          []string       `yaml:"rule_files"`
	EvaluationInterval model.Duration `yaml:"evaluation_interval"`
	GroupEvalOrder     []string       `yaml:"group_eval_order"`
	Tests              []testGroup    `yaml:"tests"`
}

// testGroup is a set of input series and the expectations checked
// against them and the rules' output.
type testGroup struct {
	Name            string            `yaml:"name"`
	Interval        model.Duration    `yaml:"interval"`
	InputSeries     []inputSeries     `yaml:"input_series"`
	AlertRuleTests  []alertTestCase   `yaml:"alert_rule_test"`
	PromqlExprTests []promqlTestCase  `yaml:"promql_expr_test"`
	ExternalLabels  map[string]string `yaml:"external_labels"`
	ExternalURL     string            `yaml:"external_url"`
}

type inputSeries struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

type alertTestCase struct {
	EvalTime  model.Duration `yaml:"eval_time"`
	Alertname string         `yaml:"alertname"`
	ExpAlerts []expAlert     `yaml:"exp_alerts"`
}

type expAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

type promqlTestCase struct {
	Expr       string         `yaml:"expr"`
	EvalTime   model.Duration `yaml:"eval_time"`
	ExpSamples []expSample    `yaml:"exp_samples"`
}

type expSample struct {
	Labels string  `yaml:"labels"`
	Value  float64 `yaml:"value"`
}

// loadTestFile reads and strictly decodes a test file, resolving its rule
// files relative to the test file's directory and expanding their globs.
// Patterns matching nothing are returned as warnings, as promtool does.
func loadTestFile(name string) (*testFile, []string, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, nil, fmt.Errorf("reading test file: %w", err)
	}
	var tf testFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	// Unknown fields are rejected so that a misspelt key cannot silently
	// turn a check off.
	dec.KnownFields(true)
	if err := dec.Decode(&tf); err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("parsing test file %s: %w", name, err)
	}
	if tf.EvaluationInterval <= 0 {
		tf.EvaluationInterval = model.Duration(defaultEvaluationInterval)
	}
	seen := map[string]bool{}
	for _, g := range tf.GroupEvalOrder {
		if seen[g] {
			return nil, nil, fmt.Errorf("group name repeated in evaluation order: %s", g)
		}
		seen[g] = true
	}

	base := filepath.Dir(name)
	var files, warnings []string
	for _, rf := range tf.RuleFiles {
		if rf == "" {
			continue
		}
		if !filepath.IsAbs(rf) {
			rf = filepath.Join(base, rf)
		}
		m, err := filepath.Glob(rf)
		if err != nil {
			return nil, nil, fmt.Errorf("rule file pattern %q: %w", rf, err)
		}
		if len(m) == 0 {
			warnings = append(warnings, fmt.Sprintf("no file match pattern %s", rf))
		}
		files = append(files, m...)
	}
	tf.RuleFiles = files
	return &tf, warnings, nil
}

// maxEvalTime is the latest eval_time of the group's checks: the rules are
// evaluated from 0 up to it.
func (tg *testGroup) maxEvalTime() time.Duration {
	var m model.Duration
	for _, a := range tg.AlertRuleTests {
		m = max(m, a.EvalTime)
	}
	for _, p := range tg.PromqlExprTests {
		m = max(m, p.EvalTime)
	}
	return time.Duration(m)
}
