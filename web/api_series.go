package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"

	"github.com/argusmon/argus/storage"
)

// warnTruncated is Prometheus's warning when a limit cut the answer short.
const warnTruncated = "results truncated due to limit"

// checkContextEvery is how many series the series endpoint reads between
// checks that the client is still there.
const checkContextEvery = 128

// metadataParams are the parameters /series, /labels and /label/.../values
// share.
type metadataParams struct {
	limit       int
	mint, maxt  int64
	matcherSets [][]*labels.Matcher
}

func (h *Handler) parseMetadataParams(r *http.Request) (metadataParams, *apiError) {
	var p metadataParams
	limit, err := parseLimit(r.FormValue("limit"))
	if err != nil {
		return p, invalidParam("limit", err)
	}
	start, end, apiErr := timeRange(r)
	if apiErr != nil {
		return p, apiErr
	}
	// FormValue above has parsed the form; like Prometheus, these endpoints
	// ignore a malformed one rather than failing.
	sets, err := parseMatchers(h.parser, r.Form["match[]"])
	if err != nil {
		return p, &apiError{errorBadData, err}
	}
	p.limit, p.mint, p.maxt, p.matcherSets = limit, timestamp.FromTime(start), timestamp.FromTime(end), sets
	return p, nil
}

func (h *Handler) labelNames(r *http.Request) ([]byte, *annotations, *apiError) {
	p, apiErr := h.parseMetadataParams(r)
	if apiErr != nil {
		return nil, nil, apiErr
	}
	q, err := h.opts.Storage.Querier(p.mint, p.maxt)
	if err != nil {
		return nil, nil, queryError(err)
	}
	defer q.Close()
	names, err := unionOver(p.matcherSets, func(ms []*labels.Matcher) ([]string, error) {
		return q.LabelNames(r.Context(), ms...)
	})
	if err != nil {
		return nil, nil, &apiError{errorExec, err}
	}
	return appendStringList(names, p.limit)
}

func (h *Handler) labelValues(r *http.Request) ([]byte, *annotations, *apiError) {
	name := mux.Vars(r)["name"]
	// Clients that cannot put a UTF-8 name in a URL path send it escaped
	// ("U__" followed by _-separated code points), as Prometheus accepts.
	if strings.HasPrefix(name, "U__") {
		name = model.UnescapeName(name, model.ValueEncodingEscaping)
	}
	if !model.UTF8Validation.IsValidLabelName(name) {
		return nil, nil, &apiError{errorBadData, fmt.Errorf("invalid label name: %q", name)}
	}
	p, apiErr := h.parseMetadataParams(r)
	if apiErr != nil {
		return nil, nil, apiErr
	}
	q, err := h.opts.Storage.Querier(p.mint, p.maxt)
	if err != nil {
		return nil, nil, &apiError{errorExec, err}
	}
	defer q.Close()
	values, err := unionOver(p.matcherSets, func(ms []*labels.Matcher) ([]string, error) {
		return q.LabelValues(r.Context(), name, ms...)
	})
	if err != nil {
		return nil, nil, &apiError{errorExec, err}
	}
	return appendStringList(values, p.limit)
}

// unionOver calls get once with no matchers when there are no matcher sets,
// else once per set, and returns the sorted union of the answers.
func unionOver(sets [][]*labels.Matcher, get func([]*labels.Matcher) ([]string, error)) ([]string, error) {
	if len(sets) <= 1 {
		var ms []*labels.Matcher
		if len(sets) == 1 {
			ms = sets[0]
		}
		return get(ms)
	}
	seen := map[string]struct{}{}
	for _, ms := range sets {
		vals, err := get(ms)
		if err != nil {
			return nil, err
		}
		for _, v := range vals {
			seen[v] = struct{}{}
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	slices.Sort(out)
	return out, nil
}

// appendStringList writes a JSON array of strings ([] when empty), cut to
// limit when limit > 0, with Prometheus's warning when it was cut.
func appendStringList(vals []string, limit int) ([]byte, *annotations, *apiError) {
	var annots *annotations
	if limit > 0 && len(vals) > limit {
		vals = vals[:limit]
		annots = &annotations{warnings: []string{warnTruncated}}
	}
	b := []byte{'['}
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, v)
	}
	return append(b, ']'), annots, nil
}

func (h *Handler) series(r *http.Request) ([]byte, *annotations, *apiError) {
	if err := r.ParseForm(); err != nil {
		return nil, nil, &apiError{errorBadData, fmt.Errorf("error parsing form values: %w", err)}
	}
	if len(r.Form["match[]"]) == 0 {
		return nil, nil, &apiError{errorBadData, errors.New("no match[] parameter provided")}
	}
	limit, err := parseLimit(r.FormValue("limit"))
	if err != nil {
		return nil, nil, invalidParam("limit", err)
	}
	start, end, apiErr := timeRange(r)
	if apiErr != nil {
		return nil, nil, apiErr
	}
	sets, err := parseMatchers(h.parser, r.Form["match[]"])
	if err != nil {
		return nil, nil, invalidParam("match[]", err)
	}
	mint, maxt := timestamp.FromTime(start), timestamp.FromTime(end)
	q, err := h.opts.Storage.Querier(mint, maxt)
	if err != nil {
		return nil, nil, queryError(err)
	}
	defer q.Close()

	// "series" is no PromQL function: it tells the storage that only label
	// sets are needed, not samples.
	hints := &storage.SelectHints{Start: mint, End: maxt, Func: "series"}
	ctx := r.Context()
	var set storage.SeriesSet
	if len(sets) == 1 {
		set = q.Select(ctx, false, hints, sets[0]...)
	} else {
		ss := make([]storage.SeriesSet, len(sets))
		for i, ms := range sets {
			ss[i] = q.Select(ctx, true, hints, ms...)
		}
		set = newMergedSeriesSet(ss)
	}
	return appendSeriesList(ctx, set, limit)
}

func appendSeriesList(ctx context.Context, set storage.SeriesSet, limit int) ([]byte, *annotations, *apiError) {
	b := []byte{'['}
	var annots *annotations
	for n := 0; set.Next(); n++ {
		if n%checkContextEvery == checkContextEvery-1 {
			if err := ctx.Err(); err != nil {
				return nil, nil, queryError(err)
			}
		}
		if limit > 0 && n == limit {
			annots = &annotations{warnings: []string{warnTruncated}}
			break
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = appendLabels(b, set.At().Labels())
	}
	if err := set.Err(); err != nil {
		return nil, nil, queryError(err)
	}
	return append(b, ']'), annots, nil
}
