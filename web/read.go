package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"github.com/argusmon/argus/remote"
	"github.com/argusmon/argus/storage"
)

const (
	// maxReadRequestBytes bounds a decompressed remote-read request; real
	// requests are a few matchers, far below it.
	maxReadRequestBytes = 32 << 20
	// defaultMaxBytesInFrame is Prometheus's
	// --storage.remote.read-max-bytes-in-frame default.
	defaultMaxBytesInFrame = 1 << 20
)

// readError carries the HTTP status a failed remote-read query is answered
// with: 400 for what the client asked, 500 for what storage did.
type readError struct {
	code int
	err  error
}

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

func badRead(format string, args ...any) error {
	return &readError{http.StatusBadRequest, fmt.Errorf(format, args...)}
}

// remoteRead serves POST /api/v1/read: each query's matchers and time range
// are answered either with all samples in one snappy-compressed ReadResponse
// or, if the client prefers it, as a stream of framed ChunkedReadResponses,
// one series at a time, so that neither side holds the whole answer.
func (h *Handler) remoteRead(w http.ResponseWriter, r *http.Request) {
	if h.readGate != nil {
		select {
		case h.readGate <- struct{}{}:
			defer func() { <-h.readGate }()
		case <-r.Context().Done():
			http.Error(w, fmt.Sprintf("waiting for a remote-read slot: %s", r.Context().Err()), http.StatusServiceUnavailable)
			return
		}
	}
	raw, err := remote.DecodeSnappyBody(r.Body, maxReadRequestBytes)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req, err := remote.DecodeRead(raw)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	typ, err := remote.NegotiateResponseType(req.AcceptedResponseTypes)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ext := h.externalLabels()
	if typ == prompb.ReadRequest_STREAMED_XOR_CHUNKS {
		h.remoteReadStreamed(w, r, req, ext)
		return
	}
	h.remoteReadSampled(w, r, req, ext)
}

func (h *Handler) remoteReadSampled(w http.ResponseWriter, r *http.Request, req *prompb.ReadRequest, ext labels.Labels) {
	resp := prompb.ReadResponse{Results: make([]*prompb.QueryResult, len(req.Queries))}
	total := 0
	for i, q := range req.Queries {
		res := &prompb.QueryResult{}
		err := h.readQuery(r.Context(), q, ext, func(lset labels.Labels, it storage.Iterator) error {
			var samples []prompb.Sample
			for typ := it.SeekTo(q.StartTimestampMs); typ == storage.ValFloat; typ = it.Next() {
				t, v := it.At()
				if t > q.EndTimestampMs {
					break
				}
				total++
				if limit := h.opts.RemoteReadSampleLimit; limit > 0 && total > limit {
					return badRead("exceeded sample limit (%d)", limit)
				}
				samples = append(samples, prompb.Sample{Timestamp: t, Value: v})
			}
			if err := it.Err(); err != nil {
				return err
			}
			// Like Prometheus, a selected series is listed even when none of
			// its samples falls in the range.
			res.Timeseries = append(res.Timeseries, &prompb.TimeSeries{Labels: remote.ProtoLabels(nil, lset, ext), Samples: samples})
			return nil
		})
		if err != nil {
			h.readFailed(w, r, i, err)
			return
		}
		resp.Results[i] = res
	}
	body, err := remote.EncodeReadResponse(&resp)
	if err != nil {
		h.readFailed(w, r, -1, err)
		return
	}
	w.Header().Set("Content-Type", remote.ContentTypeSampledRead)
	w.Header().Set("Content-Encoding", "snappy")
	_, _ = w.Write(body) // A failed write means the client left.
}

func (h *Handler) remoteReadStreamed(w http.ResponseWriter, r *http.Request, req *prompb.ReadRequest, ext labels.Labels) {
	maxFrame := h.opts.RemoteReadMaxBytesInFrame
	if maxFrame <= 0 {
		maxFrame = defaultMaxBytesInFrame
	}
	rc := http.NewResponseController(w)
	started := false
	cw := remote.NewChunkedWriter(w, func() error {
		// Not every writer in a middleware chain can flush; the frames then
		// go out when the server's buffer fills, which is still correct.
		if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		return nil
	})
	var (
		lbls []prompb.Label
		chks []prompb.Chunk
		buf  []byte
	)
	for i, q := range req.Queries {
		err := h.readQuery(r.Context(), q, ext, func(lset labels.Labels, it storage.Iterator) error {
			lbls = remote.ProtoLabels(lbls, lset, ext)
			budget := maxFrame
			for _, l := range lbls {
				budget -= l.Size()
			}
			left := budget
			// A series goes out in one frame unless its chunks exceed the
			// frame budget; then it is split, each frame repeating the labels.
			flush := func() error {
				if len(chks) == 0 {
					return nil
				}
				msg := prompb.ChunkedReadResponse{
					ChunkedSeries: []*prompb.ChunkedSeries{{Labels: lbls, Chunks: chks}},
					QueryIndex:    int64(i),
				}
				size := msg.Size()
				if cap(buf) < size {
					buf = make([]byte, size)
				}
				n, err := msg.MarshalToSizedBuffer(buf[:size])
				if err != nil {
					return fmt.Errorf("encode prometheus.ChunkedReadResponse: %w", err)
				}
				if !started {
					w.Header().Set("Content-Type", remote.ContentTypeStreamedRead)
					started = true
				}
				chks, left = chks[:0], budget
				return cw.WriteFrame(buf[size-n : size])
			}
			err := remote.EncodeXORChunks(it, q.StartTimestampMs, q.EndTimestampMs, remote.SamplesPerChunk, func(c prompb.Chunk) error {
				chks = append(chks, c)
				if left -= c.Size(); left <= 0 {
					return flush()
				}
				return nil
			})
			if err != nil {
				return err
			}
			return flush()
		})
		if err != nil {
			if started {
				// The status line is gone; breaking the connection is the
				// only way left to tell the client the stream is incomplete.
				h.logger.ErrorContext(r.Context(), "remote read stream aborted", "query", i, "err", err)
				panic(http.ErrAbortHandler)
			}
			h.readFailed(w, r, i, err)
			return
		}
	}
	if !started {
		w.Header().Set("Content-Type", remote.ContentTypeStreamedRead)
	}
}

// readQuery selects the series of one remote-read query, sorted, and hands
// each with its iterator to f.
func (h *Handler) readQuery(ctx context.Context, q *prompb.Query, ext labels.Labels, f func(labels.Labels, storage.Iterator) error) error {
	if q == nil {
		return badRead("empty query")
	}
	if q.StartTimestampMs > q.EndTimestampMs {
		return badRead("start %d is after end %d", q.StartTimestampMs, q.EndTimestampMs)
	}
	ms, err := remote.FromLabelMatchers(q.Matchers)
	if err != nil {
		return &readError{http.StatusBadRequest, err}
	}
	if ms, err = remote.FilterExternalLabelMatchers(ms, ext); err != nil {
		return &readError{http.StatusBadRequest, err}
	}
	querier, err := h.opts.Storage.Querier(q.StartTimestampMs, q.EndTimestampMs)
	if err != nil {
		return fmt.Errorf("open querier: %w", err)
	}
	defer querier.Close()
	hints := &storage.SelectHints{Start: q.StartTimestampMs, End: q.EndTimestampMs}
	if ph := q.Hints; ph != nil {
		hints = &storage.SelectHints{Start: ph.StartMs, End: ph.EndMs, Step: ph.StepMs, Range: ph.RangeMs, Func: ph.Func}
	}
	set := querier.Select(ctx, true, hints, ms...)
	var it storage.Iterator
	for set.Next() {
		s := set.At()
		it = s.Iterator(it)
		if err := f(s.Labels(), it); err != nil {
			return err
		}
	}
	if err := set.Err(); err != nil {
		return fmt.Errorf("select: %w", err)
	}
	return nil
}

func (h *Handler) readFailed(w http.ResponseWriter, r *http.Request, query int, err error) {
	code := http.StatusInternalServerError
	var re *readError
	if errors.As(err, &re) {
		code = re.code
	}
	if code >= 500 {
		h.logger.ErrorContext(r.Context(), "remote read failed", "query", query, "err", err)
	}
	msg := err.Error()
	if query >= 0 {
		msg = fmt.Sprintf("query %d: %s", query, msg)
	}
	http.Error(w, msg, code)
}
