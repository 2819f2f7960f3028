package rules

import (
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// AlertState is the state of an alert or, for a rule, of its most severe
// alert.
type AlertState int

// The alert states, least to most severe.
const (
	StateUnknown AlertState = iota // the rule has not been evaluated yet
	StateInactive
	StatePending
	StateFiring
)

func (s AlertState) String() string {
	switch s {
	case StateInactive:
		return "inactive"
	case StatePending:
		return "pending"
	case StateFiring:
		return "firing"
	default:
		return "unknown"
	}
}

// Alert is one instance of an alerting rule: one label set its expression
// returned.
type Alert struct {
	State AlertState
	// Labels identify the alert: the expression's labels without the
	// metric name, the rule's expanded labels and alertname.
	Labels      labels.Labels
	Annotations labels.Labels
	// Value is the expression's value at the last evaluation that returned
	// this alert.
	Value float64
	// ActiveAt is when the expression first returned the alert; FiredAt
	// when it turned firing; ResolvedAt when it stopped (zero while active).
	ActiveAt   time.Time
	FiredAt    time.Time
	ResolvedAt time.Time
	// LastSentAt is when the alert was last handed to the notifier, and
	// ValidUntil when Alertmanager should consider it resolved if it hears
	// nothing more.
	LastSentAt time.Time
	ValidUntil time.Time
	// KeepFiringSince is when the expression stopped returning a firing
	// alert that keep_firing_for holds firing; zero otherwise.
	KeepFiringSince time.Time
	// GeneratorURL links to the rule's expression in the UI.
	GeneratorURL string
}

// needsSending reports whether the alert is due to go to the notifier at
// ts: firing or resolved alerts are resent every resendDelay, and a
// resolution is sent at once.
func (a *Alert) needsSending(ts time.Time, resendDelay time.Duration) bool {
	if a.State == StatePending {
		return false
	}
	if a.ResolvedAt.After(a.LastSentAt) {
		return true
	}
	return a.LastSentAt.Add(resendDelay).Before(ts)
}

// Notifier receives the alerts to deliver to Alertmanager.
type Notifier interface {
	Send(alerts ...*Alert)
}
