package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/prometheus/prometheus/promql/parser"
)

// formatQuery answers the query pretty-printed as Prometheus's UI shows it.
func (h *Handler) formatQuery(r *http.Request) ([]byte, *annotations, *apiError) {
	expr, err := h.parser.ParseExpr(r.FormValue("query"))
	if err != nil {
		return nil, nil, invalidParam("query", err)
	}
	return appendString(nil, expr.Pretty(0)), nil, nil
}

// parseQuery answers the query's syntax tree in the JSON shape of
// Prometheus's /api/v1/parse_query, which its UI's tree view reads.
func (h *Handler) parseQuery(r *http.Request) ([]byte, *annotations, *apiError) {
	expr, err := h.parser.ParseExpr(r.FormValue("query"))
	if err != nil {
		return nil, nil, invalidParam("query", err)
	}
	tree, err := astJSON(expr)
	if err != nil {
		return nil, nil, &apiError{errorInternal, err}
	}
	return marshalData(tree)
}

// queryExemplars validates its parameters like Prometheus and answers no
// exemplars: Argus does not store them yet.
func (h *Handler) queryExemplars(r *http.Request) ([]byte, *annotations, *apiError) {
	start, end, apiErr := timeRange(r)
	if apiErr != nil {
		return nil, nil, apiErr
	}
	if end.Before(start) {
		return nil, nil, &apiError{errorBadData, errors.New("end timestamp must not be before start timestamp")}
	}
	expr, err := h.parser.ParseExpr(r.FormValue("query"))
	if err != nil {
		return nil, nil, &apiError{errorBadData, err}
	}
	if len(parser.ExtractSelectors(expr)) == 0 {
		// Prometheus answers 204 without a body for a query without a
		// selector; a nil result does that.
		return nil, nil, nil
	}
	return []byte("[]"), nil, nil
}

// marshalData encodes the data of the low-traffic endpoints, where the
// convenience of encoding/json outweighs its cost.
func marshalData(v any) ([]byte, *annotations, *apiError) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, nil, &apiError{errorInternal, fmt.Errorf("encode response: %w", err)}
	}
	return b, nil, nil
}
