package web

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/common/model"
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

func (h *Handler) registerAPI(r *mux.Router) {
	handle := func(path string, f func(*http.Request) ([]byte, []string, *apiError), methods ...string) {
		r.HandleFunc(path, h.instrumentFunc("/api/v1"+path, h.testReady(h.apiFunc(f)))).Methods(methods...)
	}
	handle("/query", h.query, http.MethodGet, http.MethodPost)
	handle("/query_range", h.queryRange, http.MethodGet, http.MethodPost)
	r.HandleFunc("/write", h.instrumentFunc("/api/v1/write", h.testReady(h.remoteWrite))).Methods(http.MethodPost)
}

// apiFunc turns an endpoint that returns the "data" JSON (or an error) into a
// handler writing Prometheus's envelope.
func (h *Handler) apiFunc(f func(*http.Request) ([]byte, []string, *apiError)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data, warnings, apiErr := f(r)
		if apiErr != nil {
			h.respondError(w, r, apiErr)
			return
		}
		b := make([]byte, 0, len(data)+64)
		b = append(b, `{"status":"success","data":`...)
		b = append(b, data...)
		b = appendWarnings(b, warnings)
		b = append(b, '}')
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b) // A failed write means the client left; nothing to do.
	}
}

func appendWarnings(b []byte, warnings []string) []byte {
	if len(warnings) == 0 {
		return b
	}
	b = append(b, `,"warnings":[`...)
	for i, w := range warnings {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, w)
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

func (h *Handler) query(r *http.Request) ([]byte, []string, *apiError) {
	ts := time.Now()
	if v := r.FormValue("time"); v != "" {
		t, err := parseTime(v)
		if err != nil {
			return nil, nil, invalidParam("time", err)
		}
		ts = t
	}
	ctx, cancel, apiErr := withTimeoutParam(r)
	if apiErr != nil {
		return nil, nil, apiErr
	}
	defer cancel()
	qry, err := h.opts.QueryEngine.NewInstantQuery(ctx, h.opts.Storage, r.FormValue("query"), ts)
	if err != nil {
		return nil, nil, invalidParam("query", err)
	}
	return h.exec(ctx, qry)
}

func (h *Handler) queryRange(r *http.Request) ([]byte, []string, *apiError) {
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
	ctx, cancel, apiErr := withTimeoutParam(r)
	if apiErr != nil {
		return nil, nil, apiErr
	}
	defer cancel()
	qry, err := h.opts.QueryEngine.NewRangeQuery(ctx, h.opts.Storage, r.FormValue("query"), start, end, step)
	if err != nil {
		return nil, nil, invalidParam("query", err)
	}
	return h.exec(ctx, qry)
}

func (h *Handler) exec(ctx context.Context, qry query.Query) ([]byte, []string, *apiError) {
	defer qry.Close()
	res := qry.Exec(ctx)
	if res.Err != nil {
		return nil, res.Warnings, queryError(res.Err)
	}
	return appendQueryData(nil, res.Value), res.Warnings, nil
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

// Bounds of the times the API accepts, as Prometheus's minTime and maxTime.
var (
	minTime = time.Unix(math.MinInt64/1000+62135596801, 0).UTC()
	maxTime = time.Unix(math.MaxInt64/1000-62135596801, 999999999).UTC()
)

// parseTime reads a Unix timestamp in (fractional) seconds or an RFC 3339 time.
func parseTime(s string) (time.Time, error) {
	if t, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(t)
		frac = math.Round(frac*1000) / 1000
		return time.Unix(int64(sec), int64(frac*float64(time.Second))).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	// Prometheus's client libraries send these strings for open-ended ranges.
	switch s {
	case minTime.Format(time.RFC3339Nano):
		return minTime, nil
	case maxTime.Format(time.RFC3339Nano):
		return maxTime, nil
	}
	return time.Time{}, fmt.Errorf("cannot parse %q to a valid timestamp", s)
}

// parseDuration reads a duration in (fractional) seconds or PromQL syntax.
func parseDuration(s string) (time.Duration, error) {
	if d, err := strconv.ParseFloat(s, 64); err == nil {
		ts := d * float64(time.Second)
		if ts > float64(math.MaxInt64) || ts < float64(math.MinInt64) {
			return 0, fmt.Errorf("cannot parse %q to a valid duration. It overflows int64", s)
		}
		return time.Duration(ts), nil
	}
	if d, err := model.ParseDuration(s); err == nil {
		return time.Duration(d), nil
	}
	return 0, fmt.Errorf("cannot parse %q to a valid duration", s)
}

// Compile-time check that query values are what appendQueryData expects.
var _ = []parser.Value{query.Vector{}, query.Matrix{}, query.Scalar{}, query.String{}}
