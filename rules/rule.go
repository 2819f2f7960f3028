package rules

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/query"
)

// RuleHealth describes the outcome of a rule's last evaluation, worded as
// the /api/v1/rules endpoint reports it.
type RuleHealth string

// The rule health values Prometheus reports.
const (
	HealthUnknown RuleHealth = "unknown"
	HealthGood    RuleHealth = "ok"
	HealthBad     RuleHealth = "err"
)

// Rule is a recording or alerting rule.
type Rule interface {
	// Name is the recorded metric name or the alert name.
	Name() string
	// Labels are the labels the rule adds (group labels merged in).
	Labels() labels.Labels
	// Query is the rule's PromQL expression, normalised by the parser.
	Query() string
	// Eval evaluates the rule at ts minus queryOffset and returns the
	// samples to write. limit, when positive, bounds the result.
	Eval(ctx context.Context, queryOffset time.Duration, ts time.Time, q QueryFunc, limit int) (query.Vector, error)

	Health() RuleHealth
	LastError() error
	// LastEvaluation is when the rule was last evaluated (wall clock).
	LastEvaluation() time.Time
	// EvaluationDuration is how long the last evaluation took.
	EvaluationDuration() time.Duration

	// String renders the rule as it would be written in a rule file; two
	// rules with the same text are the same rule across a reload.
	String() string

	state() *ruleState
}

// ruleState is the evaluation bookkeeping every rule keeps. It is read by
// the API while the group's goroutine writes it.
type ruleState struct {
	mu             sync.RWMutex
	health         RuleHealth
	lastError      error
	lastEvaluation time.Time
	evalDuration   time.Duration
}

func newRuleState() ruleState { return ruleState{health: HealthUnknown} }

func (s *ruleState) state() *ruleState { return s }

func (s *ruleState) Health() RuleHealth {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.health
}

func (s *ruleState) LastError() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.lastError
}

func (s *ruleState) LastEvaluation() time.Time {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.lastEvaluation
}

func (s *ruleState) EvaluationDuration() time.Duration {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.evalDuration
}

// setResult records the outcome of an evaluation: nil is healthy.
func (s *ruleState) setResult(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastError = err
	if err != nil {
		s.health = HealthBad
	} else {
		s.health = HealthGood
	}
}

func (s *ruleState) setEvaluated(at time.Time, took time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastEvaluation = at
	s.evalDuration = took
}
