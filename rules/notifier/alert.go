package notifier

import (
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"

	"github.com/argusmon/argus/rules"
)

// apiAlert is one element of the Alertmanager API v2 POST /api/v2/alerts
// body. labels.Labels marshals as a JSON object of names to values.
type apiAlert struct {
	Labels       labels.Labels `json:"labels"`
	Annotations  labels.Labels `json:"annotations"`
	StartsAt     time.Time     `json:"startsAt,omitzero"`
	EndsAt       time.Time     `json:"endsAt,omitzero"`
	GeneratorURL string        `json:"generatorURL,omitempty"`
}

// toAPIAlert converts a rule alert as Prometheus's rule manager does: an
// alert starts when it fired and ends when it resolved or, while it is
// still firing, when Alertmanager should stop trusting it without news.
// External labels are added unless the alert has a label of that name.
func toAPIAlert(a *rules.Alert, external labels.Labels) *apiAlert {
	lb := labels.NewBuilder(a.Labels)
	external.Range(func(l labels.Label) {
		if a.Labels.Get(l.Name) == "" {
			lb.Set(l.Name, l.Value)
		}
	})
	starts := a.FiredAt
	if starts.IsZero() {
		starts = a.ActiveAt
	}
	ends := a.ValidUntil
	if !a.ResolvedAt.IsZero() {
		ends = a.ResolvedAt
	}
	return &apiAlert{
		Labels:       lb.Labels(),
		Annotations:  a.Annotations,
		StartsAt:     starts,
		EndsAt:       ends,
		GeneratorURL: a.GeneratorURL,
	}
}

// relabelAlerts applies cfgs to the alerts' labels, leaving out the alerts
// they drop. The input is not modified.
func relabelAlerts(alerts []*apiAlert, cfgs []*relabel.Config) []*apiAlert {
	if len(cfgs) == 0 {
		return alerts
	}
	out := make([]*apiAlert, 0, len(alerts))
	lb := labels.NewBuilder(labels.EmptyLabels())
	for _, a := range alerts {
		lb.Reset(a.Labels)
		if !relabel.ProcessBuilder(lb, cfgs...) {
			continue
		}
		c := *a
		c.Labels = lb.Labels()
		if c.Labels.IsEmpty() {
			continue
		}
		out = append(out, &c)
	}
	return out
}
