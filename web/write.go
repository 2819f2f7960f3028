package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/golang/snappy"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"github.com/argusmon/argus/storage"
)

// maxWriteRequestBytes bounds a decompressed remote-write request so that a
// hostile or broken sender cannot make Argus allocate without limit.
const maxWriteRequestBytes = 256 << 20

// remoteWrite receives Remote-Write 1.0 requests. A request is committed all
// or nothing: any invalid series or rejected sample rolls the whole request
// back and is answered 400 with the reason, so the sender can tell what broke.
func (h *Handler) remoteWrite(w http.ResponseWriter, r *http.Request) {
	if !h.opts.EnableRemoteWriteReceiver {
		http.Error(w, "remote write receiver needs to be enabled with --web.enable-remote-write-receiver", http.StatusNotFound)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, params, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-protobuf" {
			http.Error(w, fmt.Sprintf("unsupported Content-Type %q, want application/x-protobuf", ct), http.StatusUnsupportedMediaType)
			return
		}
		if p := params["proto"]; p != "" && p != "prometheus.WriteRequest" {
			http.Error(w, fmt.Sprintf("unsupported remote-write protobuf message %q; this version accepts prometheus.WriteRequest (Remote-Write 1.0)", p), http.StatusUnsupportedMediaType)
			return
		}
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "" && enc != "snappy" {
		http.Error(w, fmt.Sprintf("unsupported Content-Encoding %q, want snappy", enc), http.StatusUnsupportedMediaType)
		return
	}
	req, err := decodeWriteRequest(r.Body)
	if err != nil {
		h.logger.WarnContext(r.Context(), "bad remote-write request", "err", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := h.appendWriteRequest(r, req); err != nil {
		h.logger.WarnContext(r.Context(), "remote-write request rejected", "err", err)
		code := http.StatusBadRequest
		if errors.Is(err, errAppendInternal) {
			code = http.StatusInternalServerError
		}
		http.Error(w, err.Error(), code)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func decodeWriteRequest(body io.Reader) (*prompb.WriteRequest, error) {
	compressed, err := io.ReadAll(io.LimitReader(body, maxWriteRequestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	n, err := snappy.DecodedLen(compressed)
	if err != nil {
		return nil, fmt.Errorf("decode snappy body: %w", err)
	}
	if n > maxWriteRequestBytes {
		return nil, fmt.Errorf("decompressed request is %d bytes, more than the limit of %d", n, maxWriteRequestBytes)
	}
	raw, err := snappy.Decode(nil, compressed)
	if err != nil {
		return nil, fmt.Errorf("decode snappy body: %w", err)
	}
	var req prompb.WriteRequest
	if err := req.Unmarshal(raw); err != nil {
		return nil, fmt.Errorf("decode protobuf WriteRequest: %w", err)
	}
	return &req, nil
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
		var ref storage.SeriesRef
		for _, s := range ts.Samples {
			ref, err = app.Append(ref, lset, s.Timestamp, s.Value)
			if err != nil {
				return fmt.Errorf("series %s, sample at %d: %w", lset, s.Timestamp, err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("%w: commit: %w", errAppendInternal, err)
	}
	return nil
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
