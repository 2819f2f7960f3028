package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/argusmon/argus/query"
)

// errorType is the errorType field of Prometheus's API envelope.
type errorType string

const (
	errorBadData     errorType = "bad_data"
	errorExec        errorType = "execution"
	errorCanceled    errorType = "canceled"
	errorTimeout     errorType = "timeout"
	errorInternal    errorType = "internal"
	errorUnavailable errorType = "unavailable"
	errorNotFound    errorType = "not_found"
)

// statusClientClosedRequest is nginx's code for a client that went away,
// which Prometheus answers canceled queries with.
const statusClientClosedRequest = 499

func (t errorType) status() int {
	switch t {
	case errorBadData:
		return http.StatusBadRequest
	case errorExec:
		return http.StatusUnprocessableEntity
	case errorCanceled:
		return statusClientClosedRequest
	case errorTimeout, errorUnavailable:
		return http.StatusServiceUnavailable
	case errorNotFound:
		return http.StatusNotFound
	}
	return http.StatusInternalServerError
}

type apiError struct {
	typ errorType
	err error
}

func (e *apiError) Error() string { return fmt.Sprintf("%s: %s", e.typ, e.err) }

// maxPointsPerSeries is Prometheus's cap on range-query resolution.
const maxPointsPerSeries = 11000

type apiEndpoint func(*http.Request) ([]byte, *annotations, *apiError)

func (h *Handler) registerAPI(r *mux.Router) {
	get, getPost := []string{http.MethodGet}, []string{http.MethodGet, http.MethodPost}
	postPut := []string{http.MethodPost, http.MethodPut}
	for _, e := range []struct {
		path    string
		f       apiEndpoint
		methods []string
	}{
		{"/query", h.query, getPost},
		{"/query_range", h.queryRange, getPost},
		{"/query_exemplars", h.queryExemplars, getPost},
		{"/format_query", h.formatQuery, getPost},
		{"/parse_query", h.parseQuery, getPost},
		{"/series", h.series, getPost},
		{"/labels", h.labelNames, getPost},
		{"/label/{name}/values", h.labelValues, getPost},
		{"/targets", h.targets, get},
		{"/targets/metadata", h.targetMetadata, get},
		{"/scrape_pools", h.scrapePools, get},
		{"/rules", h.rules, get},
		{"/alerts", h.alerts, get},
		{"/alertmanagers", h.alertmanagers, get},
		{"/metadata", h.metadata, get},
		{"/status/config", h.statusConfig, get},
		{"/status/flags", h.statusFlags, get},
		{"/status/runtimeinfo", h.statusRuntimeInfo, get},
		{"/status/buildinfo", h.statusBuildInfo, get},
		{"/status/tsdb", h.statusTSDB, get},
		{"/admin/tsdb/delete_series", h.deleteSeries, postPut},
		{"/admin/tsdb/clean_tombstones", h.cleanTombstones, postPut},
		{"/admin/tsdb/snapshot", h.snapshot, postPut},
	} {
		r.HandleFunc(e.path, h.instrumentFunc("/api/v1"+e.path, h.testReady(h.apiFunc(e.f)))).Methods(e.methods...)
	}
	// WAL replay progress is what a client polls while the server is not
	// ready yet, so it is the one API endpoint not gated on readiness.
	r.HandleFunc("/status/walreplay", h.instrumentFunc("/api/v1/status/walreplay", h.apiFunc(h.walReplay))).Methods(http.MethodGet)
	r.HandleFunc("/write", h.instrumentFunc("/api/v1/write", h.testReady(h.remoteWrite))).Methods(http.MethodPost)
	// CORS preflight requests for any API path.
	r.PathPrefix("/").Methods(http.MethodOptions).HandlerFunc(h.testReady(h.apiFunc(
		func(*http.Request) ([]byte, *annotations, *apiError) { return nil, nil, nil })))
}

// apiFunc turns an endpoint that returns the "data" JSON (or an error) into a
// handler writing Prometheus's envelope. No data and no error is answered
// 204 No Content, as Prometheus does.
func (h *Handler) apiFunc(f apiEndpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h.setCORS(w, r)
		data, annots, apiErr := f(r)
		if apiErr != nil {
			h.respondError(w, r, apiErr)
			return
		}
		if data == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		b := make([]byte, 0, len(data)+64)
		b = append(b, `{"status":"success","data":`...)
		b = append(b, data...)
		b = annots.appendTo(b)
		b = append(b, '}')
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b) // A failed write means the client left; nothing to do.
	}
}

// annotations are the warnings and infos of an answer, each field left out
// of the envelope when empty, as Prometheus does.
type annotations struct {
	warnings, infos []string
}

func (a *annotations) appendTo(b []byte) []byte {
	if a == nil {
		return b
	}
	b = appendStringField(b, "warnings", a.warnings)
	return appendStringField(b, "infos", a.infos)
}

func appendStringField(b []byte, name string, vals []string) []byte {
	if len(vals) == 0 {
		return b
	}
	b = append(b, ',')
	b = appendString(b, name)
	b = append(b, ":["...)
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, v)
	}
	return append(b, ']')
}

func (h *Handler) respondError(w http.ResponseWriter, r *http.Request, e *apiError) {
	if e.typ == errorInternal {
		h.logger.ErrorContext(r.Context(), "API error", "path", r.URL.Path, "err", e.err)
	}
	b := []byte(`{"status":"error","errorType":`)
	b = appendString(b, string(e.typ))
	b = append(b, `,"error":`...)
	b = appendString(b, e.err.Error())
	b = append(b, '}')
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.typ.status())
	_, _ = w.Write(b)
}

func invalidParam(name string, err error) *apiError {
	return &apiError{errorBadData, fmt.Errorf("invalid parameter %q: %w", name, err)}
}

func (h *Handler) query(r *http.Request) ([]byte, *annotations, *apiError) {
	ts := time.Now()
	if v := r.FormValue("time"); v != "" {
		t, err := parseTime(v)
		if err != nil {
			return nil, nil, invalidParam("time", err)
		}
		ts = t
	}
	ctx, cancel, apiErr := queryContext(r)
	if apiErr != nil {
		return nil, nil, apiErr
	}
	defer cancel()
	qry, err := h.opts.QueryEngine.NewInstantQuery(ctx, h.opts.Storage, r.FormValue("query"), ts)
	if err != nil {
		return nil, nil, invalidParam("query", err)
	}
	return h.exec(ctx, qry, r)
}

func (h *Handler) queryRange(r *http.Request) ([]byte, *annotations, *apiError) {
	start, err := parseTime(r.FormValue("start"))
	if err != nil {
		return nil, nil, invalidParam("start", err)
	}
	end, err := parseTime(r.FormValue("end"))
	if err != nil {
		return nil, nil, invalidParam("end", err)
	}
	if end.Before(start) {
		return nil, nil, invalidParam("end", errors.New("end timestamp must not be before start time"))
	}
	step, err := parseDuration(r.FormValue("step"))
	if err != nil {
		return nil, nil, invalidParam("step", err)
	}
	if step <= 0 {
		return nil, nil, invalidParam("step", errors.New("zero or negative query resolution step widths are not accepted. Try a positive integer"))
	}
	if end.Sub(start)/step > maxPointsPerSeries {
		return nil, nil, &apiError{errorBadData, errors.New("exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)")}
	}
	ctx, cancel, apiErr := queryContext(r)
	if apiErr != nil {
		return nil, nil, apiErr
	}
	defer cancel()
	qry, err := h.opts.QueryEngine.NewRangeQuery(ctx, h.opts.Storage, r.FormValue("query"), start, end, step)
	if err != nil {
		return nil, nil, invalidParam("query", err)
	}
	return h.exec(ctx, qry, r)
}

// exec runs the query and renders its data, cut to the limit parameter;
// with a stats parameter the query's statistics go into the data object, as
// Prometheus puts them.
func (h *Handler) exec(ctx context.Context, qry query.Query, r *http.Request) ([]byte, *annotations, *apiError) {
	limit, err := parseLimit(r.FormValue("limit"))
	if err != nil {
		return nil, nil, invalidParam("limit", err)
	}
	defer qry.Close()
	res := qry.Exec(ctx)
	if res.Err != nil {
		return nil, nil, queryError(res.Err)
	}
	annots := &annotations{warnings: res.Warnings, infos: res.Infos}
	if truncateResult(res, limit) {
		annots.warnings = append(annots.warnings, warnTruncated)
	}
	data := appendQueryData(nil, res.Value)
	if r.FormValue("stats") != "" {
		js, err := qry.Stats().MarshalJSON()
		if err != nil {
			return nil, nil, &apiError{errorInternal, fmt.Errorf("encode query stats: %w", err)}
		}
		data = append(data[:len(data)-1], `,"stats":`...)
		data = append(append(data, js...), '}')
	}
	return data, annots, nil
}

// truncateResult keeps the first limit series of a vector or matrix (limit
// 0 keeps all) and reports whether it cut any, as Prometheus's limit
// parameter does; scalars and strings are left alone.
func truncateResult(res *query.Result, limit int) bool {
	if limit <= 0 {
		return false
	}
	switch v := res.Value.(type) {
	case query.Vector:
		if len(v) > limit {
			res.Value = v[:limit]
			return true
		}
	case query.Matrix:
		if len(v) > limit {
			res.Value = v[:limit]
			return true
		}
	}
	return false
}

// queryContext is the request's context with its timeout and
// lookback_delta parameters applied, its origin recorded for the query log,
// and per-step statistics asked for when stats=all.
func queryContext(r *http.Request) (context.Context, context.CancelFunc, *apiError) {
	ctx, cancel, apiErr := withTimeoutParam(r)
	if apiErr != nil {
		return nil, nil, apiErr
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ctx = query.WithHTTPRequest(ctx, query.HTTPRequest{ClientIP: host, Method: r.Method, Path: r.URL.Path})
	if r.FormValue("stats") == "all" {
		ctx = query.WithPerStepStats(ctx)
	}
	if v := r.FormValue("lookback_delta"); v != "" {
		d, err := parseDuration(v)
		if err != nil || d < 0 {
			cancel()
			if err == nil {
				err = errors.New("lookback_delta must not be negative")
			}
			return nil, nil, invalidParam("lookback_delta", err)
		}
		ctx = query.WithLookbackDelta(ctx, d)
	}
	return ctx, cancel, nil
}

// queryError classifies an evaluation error into Prometheus's error types.
func queryError(err error) *apiError {
	var (
		canceled query.ErrQueryCanceled
		timeout  query.ErrQueryTimeout
		storErr  query.ErrStorage
	)
	switch {
	case errors.As(err, &canceled), errors.Is(err, context.Canceled):
		return &apiError{errorCanceled, err}
	case errors.As(err, &timeout), errors.Is(err, context.DeadlineExceeded):
		return &apiError{errorTimeout, err}
	case errors.As(err, &storErr):
		return &apiError{errorInternal, err}
	}
	return &apiError{errorExec, err}
}

// withTimeoutParam applies the request's optional timeout parameter.
func withTimeoutParam(r *http.Request) (context.Context, context.CancelFunc, *apiError) {
	ctx := r.Context()
	v := r.FormValue("timeout")
	if v == "" {
		ctx, cancel := context.WithCancel(ctx)
		return ctx, cancel, nil
	}
	d, err := parseDuration(v)
	if err != nil {
		return nil, nil, invalidParam("timeout", err)
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	return ctx, cancel, nil
}

// Compile-time check that query values are what appendQueryData expects.
var _ = []parser.Value{query.Vector{}, query.Matrix{}, query.Scalar{}, query.String{}}
