package rules

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"gopkg.in/yaml.v3"

	"github.com/argusmon/argus/query"
)

// ErrDuplicateRecordingLabelSet is returned when a recording rule's result
// has two samples with one label set once the rule's name and labels are
// applied; writing both would be ambiguous.
var ErrDuplicateRecordingLabelSet = errors.New("vector contains metrics with the same labelset after applying rule labels")

// RecordingRule writes the result of an expression as a new series.
type RecordingRule struct {
	ruleState
	name   string
	expr   string
	labels labels.Labels
}

// NewRecordingRule returns a rule recording expr under name with lset
// added to every result.
func NewRecordingRule(name, expr string, lset labels.Labels) *RecordingRule {
	return &RecordingRule{ruleState: newRuleState(), name: name, expr: expr, labels: lset}
}

func (r *RecordingRule) Name() string          { return r.name }
func (r *RecordingRule) Labels() labels.Labels { return r.labels }
func (r *RecordingRule) Query() string         { return r.expr }

// Eval evaluates the expression and renames its result.
func (r *RecordingRule) Eval(ctx context.Context, queryOffset time.Duration, ts time.Time, q QueryFunc, limit int) (query.Vector, error) {
	vec, err := q(ctx, r.expr, ts.Add(-queryOffset))
	if err != nil {
		return nil, err
	}
	b := labels.NewBuilder(labels.EmptyLabels())
	seen := make(map[uint64]struct{}, len(vec))
	for i := range vec {
		b.Reset(vec[i].Metric)
		b.Set(labels.MetricName, r.name)
		r.labels.Range(func(l labels.Label) { b.Set(l.Name, l.Value) })
		vec[i].Metric = b.Labels()
		h := vec[i].Metric.Hash()
		if _, dup := seen[h]; dup {
			return nil, ErrDuplicateRecordingLabelSet
		}
		seen[h] = struct{}{}
	}
	if limit > 0 && len(vec) > limit {
		return nil, fmt.Errorf("exceeded limit of %d with %d series", limit, len(vec))
	}
	return vec, nil
}

func (r *RecordingRule) String() string {
	return ruleYAML(struct {
		Record string            `yaml:"record"`
		Expr   string            `yaml:"expr"`
		Labels map[string]string `yaml:"labels,omitempty"`
	}{r.name, r.expr, r.labels.Map()})
}

func ruleYAML(v any) string {
	b, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Sprintf("error marshalling rule: %v", err)
	}
	return string(b)
}
