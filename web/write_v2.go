package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/prometheus/prometheus/model/labels"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/argusmon/argus/remote"
)

// remoteWriteV2 receives a Remote-Write 2.0 request. Unlike 1.0, the spec
// makes every invalid series an error, so a series without a metric name is
// rejected rather than dropped. The written-counts headers are always set,
// zero on rejection, because a 2.0 sender reads them to confirm delivery.
func (h *Handler) remoteWriteV2(w http.ResponseWriter, r *http.Request) {
	var samples int
	setWritten := func(n int) {
		hdr := w.Header()
		hdr.Set(remote.HeaderSamplesWritten, strconv.Itoa(n))
		hdr.Set(remote.HeaderHistogramsWritten, "0")
		hdr.Set(remote.HeaderExemplarsWritten, "0")
	}
	raw, err := remote.DecodeSnappyBody(r.Body, maxWriteRequestBytes)
	if err == nil {
		var req *writev2.Request
		if req, err = remote.DecodeWriteV2(raw); err == nil {
			samples, err = h.appendWriteV2(r, req)
		}
	}
	if err != nil {
		setWritten(0)
		h.writeRejected(w, r, err)
		return
	}
	setWritten(samples)
	w.WriteHeader(http.StatusNoContent)
}

// appendWriteV2 validates and appends every series of req, all or nothing,
// and returns how many samples it stored.
func (h *Handler) appendWriteV2(r *http.Request, req *writev2.Request) (n int, err error) {
	app := h.opts.Storage.Appender(r.Context())
	defer func() {
		if err != nil {
			_ = app.Rollback() // The validation error is what the sender needs to see.
			err = fmt.Errorf("rejected all %d samples of the request: %w", countV2Samples(req), err)
		}
	}()
	b := labels.NewScratchBuilder(16)
	for i := range req.Timeseries {
		ts := &req.Timeseries[i]
		lset, err := remote.LabelsV2(&b, ts.LabelsRefs, req.Symbols)
		if err != nil {
			return 0, fmt.Errorf("series %d: %w", i, err)
		}
		if !lset.Has(labels.MetricName) {
			return 0, fmt.Errorf("series %d %s: no metric name (__name__ label)", i, lset)
		}
		if err := remote.CheckMetadataV2(ts.Metadata, req.Symbols); err != nil {
			return 0, fmt.Errorf("series %d %s: %w", i, lset, err)
		}
		for j, e := range ts.Exemplars {
			if _, err := remote.LabelsV2(&b, e.LabelsRefs, req.Symbols); err != nil {
				return 0, fmt.Errorf("series %d %s: exemplar %d: %w", i, lset, j, err)
			}
		}
		switch {
		case len(ts.Histograms) > 0:
			return 0, fmt.Errorf("series %d %s: native histograms are not supported yet", i, lset)
		case len(ts.Samples) == 0:
			return 0, fmt.Errorf("series %d %s: no samples; a series must carry at least one", i, lset)
		}
		if err := appendSamples(app, lset, ts.Samples); err != nil {
			return 0, err
		}
		n += len(ts.Samples)
	}
	if err := app.Commit(); err != nil {
		return 0, fmt.Errorf("%w: commit: %w", errAppendInternal, err)
	}
	return n, nil
}

func countV2Samples(req *writev2.Request) int {
	n := 0
	for i := range req.Timeseries {
		n += len(req.Timeseries[i].Samples) + len(req.Timeseries[i].Histograms)
	}
	return n
}
