package web

import (
	"net/http"

	"github.com/grafana/regexp"
)

// corsAnyOrigin is the compiled form of the --web.cors.origin default ".*".
const corsAnyOrigin = "^(?:.*)$"

// CompileCORSOrigin anchors a --web.cors.origin regular expression as
// Prometheus does: it must match the whole Origin header.
func CompileCORSOrigin(expr string) (*regexp.Regexp, error) {
	return regexp.Compile("^(?:" + expr + ")$")
}

// setCORS sets Prometheus's cross-origin headers, letting browser apps such
// as Grafana in direct-access mode call the API. A request without an
// Origin header is not cross-origin and gets only the Vary header.
func (h *Handler) setCORS(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Origin")
	origin := r.Header.Get("Origin")
	if origin == "" {
		return
	}
	w.Header().Set("Access-Control-Allow-Headers", "Accept, Authorization, Content-Type, Origin")
	w.Header().Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	w.Header().Set("Access-Control-Expose-Headers", "Date")
	o := h.opts.CORSOrigin
	if o == nil || o.String() == corsAnyOrigin {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		return
	}
	if o.MatchString(origin) {
		w.Header().Set("Access-Control-Allow-Origin", origin)
	}
}
