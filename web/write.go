package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"github.com/argusmon/argus/remote"
	"github.com/argusmon/argus/storage"
)

// maxWriteRequestBytes bounds a decompressed remote-write request so that a
// hostile or broken sender cannot make Argus allocate without limit.
const maxWriteRequestBytes = 256 << 20

// remoteWrite receives Remote-Write 1.0 and 2.0 requests, told apart by the
// proto parameter of the Content-Type. A request is committed all or
// nothing: any invalid series or rejected sample rolls the whole request back
// and is answered 400 with the reason, so the sender can tell what broke and
// knows that retrying the same request cannot half-duplicate it.
func (h *Handler) remoteWrite(w http.ResponseWriter, r *http.Request) {
	if !h.opts.EnableRemoteWriteReceiver {
		http.Error(w, "remote write receiver needs to be enabled with --web.enable-remote-write-receiver", http.StatusNotFound)
		return
	}
	proto, err := remote.ParseWriteContentType(r.Header.Get("Content-Type"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnsupportedMediaType)
		return
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "" && enc != "snappy" {
		http.Error(w, fmt.Sprintf("unsupported Content-Encoding %q, want snappy", enc), http.StatusUnsupportedMediaType)
		return
	}
	if proto == remote.WriteProtoV2 {
		h.remoteWriteV2(w, r)
		return
	}
	raw, err := remote.DecodeSnappyBody(r.Body, maxWriteRequestBytes)
	if err != nil {
		h.writeRejected(w, r, err)
		return
	}
	req, err := remote.DecodeWriteV1(raw)
	if err != nil {
		h.writeRejected(w, r, err)
		return
	}
	if err := h.appendWriteRequest(r, req); err != nil {
		h.writeRejected(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// writeRejected answers a remote-write request that committed nothing:
// 500 for a storage failure (the sender retries), 400 otherwise (it must not).
func (h *Handler) writeRejected(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusBadRequest
	if errors.Is(err, errAppendInternal) {
		code = http.StatusInternalServerError
	}
	h.logger.WarnContext(r.Context(), "remote-write request rejected", "err", err, "code", code)
	http.Error(w, err.Error(), code)
}

var (
	errAppendInternal = errors.New("internal storage error")
	errNoMetricName   = errors.New("series has no metric name")
)

func (h *Handler) appendWriteRequest(r *http.Request, req *prompb.WriteRequest) (err error) {
	app := h.opts.Storage.Appender(r.Context())
	defer func() {
		if err != nil {
			_ = app.Rollback() // The append error is what the sender needs to see.
		}
	}()
	b := labels.NewScratchBuilder(16)
	for i, ts := range req.Timeseries {
		lset, err := writeRequestLabels(&b, ts.Labels)
		if errors.Is(err, errNoMetricName) {
			// Prometheus's 1.0 receiver drops such series and keeps the
			// rest; senders (and the PromQL conformance loads) rely on it.
			h.logger.DebugContext(r.Context(), "dropping remote-write series without a metric name", "series", lset)
			continue
		}
		if err != nil {
			return fmt.Errorf("series %d: %w", i, err)
		}
		if len(ts.Histograms) > 0 {
			return fmt.Errorf("series %d %s: native histograms are not supported yet", i, lset)
		}
		if err := appendSamples(app, lset, ts.Samples); err != nil {
			return err
		}
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("%w: commit: %w", errAppendInternal, err)
	}
	return nil
}

// sample is the part of a 1.0 or 2.0 protobuf sample the appender needs.
type sample interface {
	GetTimestamp() int64
	GetValue() float64
}

// appendSamples appends one series' samples. A rejection by storage names
// the series and timestamp; other storage failures are internal.
func appendSamples[S any, PS interface {
	*S
	sample
}](app storage.Appender, lset labels.Labels, samples []S) error {
	var ref storage.SeriesRef
	for i := range samples {
		s := PS(&samples[i])
		var err error
		ref, err = app.Append(ref, lset, s.GetTimestamp(), s.GetValue())
		if err != nil {
			if !isIngestRejection(err) {
				err = fmt.Errorf("%w: %w", errAppendInternal, err)
			}
			return fmt.Errorf("series %s, sample at %d: %w", lset, s.GetTimestamp(), err)
		}
	}
	return nil
}

// isIngestRejection tells a sample storage refuses (the sender's fault, 400)
// from a storage failure (ours, 500).
func isIngestRejection(err error) bool {
	return errors.Is(err, storage.ErrOutOfOrderSample) ||
		errors.Is(err, storage.ErrDuplicateSampleForTimestamp) ||
		errors.Is(err, storage.ErrOutOfBounds) ||
		errors.Is(err, storage.ErrTooOldSample)
}

// writeRequestLabels validates a series' labels as Prometheus's receiver does:
// a metric name, valid names and values, sorted, no duplicates.
func writeRequestLabels(b *labels.ScratchBuilder, pls []prompb.Label) (labels.Labels, error) {
	b.Reset()
	for i, l := range pls {
		if l.Name == "" {
			return labels.EmptyLabels(), fmt.Errorf("label %d has an empty name", i)
		}
		if i > 0 {
			switch prev := pls[i-1].Name; {
			case prev == l.Name:
				return labels.EmptyLabels(), fmt.Errorf("duplicate label name %q", l.Name)
			case prev > l.Name:
				return labels.EmptyLabels(), fmt.Errorf("labels are not sorted: %q comes after %q", l.Name, prev)
			}
		}
		b.Add(l.Name, l.Value)
	}
	lset := b.Labels()
	if !lset.Has(labels.MetricName) {
		return lset, errNoMetricName
	}
	if !lset.IsValid(model.UTF8Validation) {
		return labels.EmptyLabels(), fmt.Errorf("series %s has an invalid label name or value", lset)
	}
	return lset, nil
}
