package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/scrape"
)

// parseCount reads an optional count parameter; absent or negative means
// no limit, as in Prometheus.
func parseCount(r *http.Request, name string) (int, *apiError) {
	s := r.FormValue(name)
	if s == "" {
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, &apiError{errorBadData, errors.New(name + " must be a number")}
	}
	return n, nil
}

// activeTargets returns every scraped target, jobs in name order.
func (h *Handler) activeTargets() []*scrape.Target {
	if h.opts.TargetRetriever == nil {
		return nil
	}
	byJob := h.opts.TargetRetriever.TargetsActive()
	jobs := make([]string, 0, len(byJob))
	for j := range byJob {
		jobs = append(jobs, j)
	}
	slices.Sort(jobs)
	var all []*scrape.Target
	for _, j := range jobs {
		all = append(all, byJob[j]...)
	}
	return all
}

// metadata serves /api/v1/metadata: per metric family, the distinct
// metadata the targets report (limit families, limit_per_metric entries
// each, or only the family named by metric).
func (h *Handler) metadata(r *http.Request) ([]byte, *annotations, *apiError) {
	limit, apiErr := parseCount(r, "limit")
	if apiErr != nil {
		return nil, nil, apiErr
	}
	perMetric, apiErr := parseCount(r, "limit_per_metric")
	if apiErr != nil {
		return nil, nil, apiErr
	}
	only := r.FormValue("metric")
	byName := map[string][]scrape.Metadata{}
	for _, t := range h.activeTargets() {
		for name, md := range t.Metadata() {
			if only != "" && name != only {
				continue
			}
			if list := byName[name]; !slices.Contains(list, md) && (perMetric < 0 || len(list) < perMetric) {
				byName[name] = append(list, md)
			}
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	slices.Sort(names)
	if limit >= 0 && len(names) > limit {
		names = names[:limit]
	}
	b := []byte{'{'}
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, n)
		b = append(b, ":["...)
		for j, md := range byName[n] {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, '{')
			b = appendMetadataFields(b, md)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, '}'), nil, nil
}

// targetMetadata serves /api/v1/targets/metadata: the metadata of the
// targets matching match_target, for one metric or all, at most limit
// entries. The metric field is left out when the metric was asked for.
func (h *Handler) targetMetadata(r *http.Request) ([]byte, *annotations, *apiError) {
	limit, apiErr := parseCount(r, "limit")
	if apiErr != nil {
		return nil, nil, apiErr
	}
	var matchers []*labels.Matcher
	if m := r.FormValue("match_target"); m != "" {
		ms, err := h.parser.ParseMetricSelector(m)
		if err != nil {
			return nil, nil, invalidParam("match_target", err)
		}
		matchers = ms
	}
	only := r.FormValue("metric")
	b := []byte{'['}
	n := 0
targets:
	for _, t := range h.activeTargets() {
		lset := t.Labels()
		for _, m := range matchers {
			if !m.Matches(lset.Get(m.Name)) {
				continue targets
			}
		}
		md := t.Metadata()
		names := make([]string, 0, len(md))
		for name := range md {
			if only == "" || name == only {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		for _, name := range names {
			if limit >= 0 && n >= limit {
				break targets
			}
			if n > 0 {
				b = append(b, ',')
			}
			n++
			b = append(b, `{"target":`...)
			b = appendLabels(b, lset)
			if only == "" {
				b = append(b, `,"metric":`...)
				b = appendString(b, name)
			}
			b = append(b, ',')
			b = appendMetadataFields(b, md[name])
			b = append(b, '}')
		}
	}
	return append(b, ']'), nil, nil
}

// appendMetadataFields writes "type":..,"help":..,"unit":.. in
// Prometheus's field order.
func appendMetadataFields(b []byte, md scrape.Metadata) []byte {
	b = append(b, `"type":`...)
	b = appendString(b, string(md.Type))
	b = append(b, `,"help":`...)
	b = appendString(b, md.Help)
	b = append(b, `,"unit":`...)
	return appendString(b, md.Unit)
}
