package web

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/model/value"
	"google.golang.org/protobuf/proto"

	"github.com/argusmon/argus/storage"
)

// defaultLookbackDelta is Prometheus's --query.lookback-delta default.
const defaultLookbackDelta = 5 * time.Minute

// federatedSample is the latest sample of one series.
type federatedSample struct {
	lset labels.Labels
	t    int64
	v    float64
}

// federate serves GET /federate: the latest sample, within the lookback
// delta, of every series matching any match[] selector, in the text
// exposition format. Samples keep their timestamps and labels (job and
// instance included) so that a Prometheus scraping with honor_labels: true
// sees the original series; external labels are added where a series lacks
// them, and an empty instance label where it has none, so the scraper does
// not attach its own.
func (h *Handler) federate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, fmt.Sprintf("error parsing form values: %s", err), http.StatusBadRequest)
		return
	}
	sets, err := parseMatchers(h.parser, r.Form["match[]"])
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	now := h.now()
	lookback := h.opts.LookbackDelta
	if lookback <= 0 {
		lookback = defaultLookbackDelta
	}
	mint, maxt := timestamp.FromTime(now.Add(-lookback)), timestamp.FromTime(now)

	samples, err := h.latestSamples(r, sets, mint, maxt)
	if err != nil {
		h.logger.ErrorContext(r.Context(), "federation failed", "err", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	// The merged set is in label order, which groups series by name unless
	// a label name sorts before __name__; a stable sort by name fixes that
	// and keeps label order within a family.
	slices.SortStableFunc(samples, func(a, b federatedSample) int {
		return cmp.Compare(a.lset.Get(labels.MetricName), b.lset.Get(labels.MetricName))
	})

	format := expfmt.NewFormat(expfmt.TypeTextPlain)
	w.Header().Set("Content-Type", string(format))
	enc := expfmt.NewEncoder(w, format)
	ext := federationLabels(h.externalLabels())
	var fam *dto.MetricFamily
	for _, s := range samples {
		name := s.lset.Get(labels.MetricName)
		if name == "" {
			continue
		}
		if fam == nil || fam.GetName() != name {
			if fam != nil {
				if err := enc.Encode(fam); err != nil {
					h.logger.WarnContext(r.Context(), "federation write failed", "err", err)
					return
				}
			}
			fam = &dto.MetricFamily{Name: proto.String(name), Type: dto.MetricType_UNTYPED.Enum()}
		}
		fam.Metric = append(fam.Metric, federatedMetric(s, ext))
	}
	if fam != nil {
		if err := enc.Encode(fam); err != nil {
			h.logger.WarnContext(r.Context(), "federation write failed", "err", err)
		}
	}
}

// latestSamples returns, per series matching any of sets, its latest
// sample in [mint, maxt], unless that sample is a staleness marker: the
// series ended, and federating the marker as a value would resurrect it.
func (h *Handler) latestSamples(r *http.Request, sets [][]*labels.Matcher, mint, maxt int64) ([]federatedSample, error) {
	q, err := h.opts.Storage.Querier(mint, maxt)
	if err != nil {
		return nil, fmt.Errorf("open querier: %w", err)
	}
	defer q.Close()
	hints := &storage.SelectHints{Start: mint, End: maxt}
	ss := make([]storage.SeriesSet, 0, len(sets))
	for _, ms := range sets {
		ss = append(ss, q.Select(r.Context(), true, hints, ms...))
	}
	set := storage.SeriesSet(newMergedSeriesSet(ss))
	var (
		out []federatedSample
		it  storage.Iterator
	)
	for set.Next() {
		s := set.At()
		it = s.Iterator(it)
		found := false
		var last federatedSample
		for typ := it.SeekTo(mint); typ == storage.ValFloat; typ = it.Next() {
			t, v := it.At()
			if t > maxt {
				break
			}
			last.t, last.v, found = t, v, true
		}
		if err := it.Err(); err != nil {
			return nil, fmt.Errorf("read series %s: %w", s.Labels(), err)
		}
		if !found || value.IsStaleNaN(last.v) {
			continue
		}
		last.lset = s.Labels()
		out = append(out, last)
	}
	if err := set.Err(); err != nil {
		return nil, fmt.Errorf("select: %w", err)
	}
	return out, nil
}

// federationLabels are the labels added to every federated series that
// lacks them, sorted: the external labels and, as Prometheus does, an empty
// instance label, which keeps a scraping Prometheus from attaching its own.
func federationLabels(ext labels.Labels) []labels.Label {
	out := make([]labels.Label, 0, ext.Len()+1)
	ext.Range(func(l labels.Label) { out = append(out, l) })
	if !ext.Has(model.InstanceLabel) {
		out = append(out, labels.Label{Name: model.InstanceLabel})
		slices.SortFunc(out, func(a, b labels.Label) int { return cmp.Compare(a.Name, b.Name) })
	}
	return out
}

func federatedMetric(s federatedSample, ext []labels.Label) *dto.Metric {
	m := &dto.Metric{TimestampMs: proto.Int64(s.t), Untyped: &dto.Untyped{Value: proto.Float64(s.v)}}
	s.lset.Range(func(l labels.Label) {
		if l.Name == labels.MetricName || l.Value == "" {
			return
		}
		m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(l.Name), Value: proto.String(l.Value)})
	})
	for _, l := range ext {
		if !s.lset.Has(l.Name) {
			m.Label = append(m.Label, &dto.LabelPair{Name: proto.String(l.Name), Value: proto.String(l.Value)})
		}
	}
	return m
}
