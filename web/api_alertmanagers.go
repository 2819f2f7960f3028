package web

import (
	"net/http"
	"net/url"
)

// AlertmanagerRetriever lists the Alertmanagers alerts are sent to and those
// their relabeling dropped; the notifier satisfies it.
type AlertmanagerRetriever interface {
	Alertmanagers() []*url.URL
	DroppedAlertmanagers() []*url.URL
}

// alertmanagers serves /api/v1/alertmanagers as Prometheus does.
func (h *Handler) alertmanagers(*http.Request) ([]byte, *annotations, *apiError) {
	var active, dropped []*url.URL
	if am := h.opts.Alertmanagers; am != nil {
		active, dropped = am.Alertmanagers(), am.DroppedAlertmanagers()
	}
	b := []byte(`{"activeAlertmanagers":`)
	b = appendURLList(b, active)
	b = append(b, `,"droppedAlertmanagers":`...)
	b = appendURLList(b, dropped)
	return append(b, '}'), nil, nil
}

func appendURLList(b []byte, urls []*url.URL) []byte {
	b = append(b, '[')
	for i, u := range urls {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"url":`...)
		b = appendString(b, u.String())
		b = append(b, '}')
	}
	return append(b, ']')
}
