package remote

import (
	"fmt"
	"slices"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
)

// Content types of the two remote-read response encodings.
const (
	ContentTypeSampledRead  = "application/x-protobuf"
	ContentTypeStreamedRead = "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse"
)

// DecodeRead unmarshals an uncompressed remote-read request.
func DecodeRead(raw []byte) (*prompb.ReadRequest, error) {
	var req prompb.ReadRequest
	if err := req.Unmarshal(raw); err != nil {
		return nil, fmt.Errorf("decode protobuf prometheus.ReadRequest: %w", err)
	}
	return &req, nil
}

// EncodeReadResponse marshals and snappy-compresses a sampled response.
func EncodeReadResponse(resp *prompb.ReadResponse) ([]byte, error) {
	raw, err := resp.Marshal()
	if err != nil {
		return nil, fmt.Errorf("encode prometheus.ReadResponse: %w", err)
	}
	return snappy.Encode(nil, raw), nil
}

// NegotiateResponseType picks the first response type in the client's order
// of preference that Argus can produce. A client that states none gets
// samples, which is all the first remote-read clients understood.
func NegotiateResponseType(accepted []prompb.ReadRequest_ResponseType) (prompb.ReadRequest_ResponseType, error) {
	if len(accepted) == 0 {
		return prompb.ReadRequest_SAMPLES, nil
	}
	for _, t := range accepted {
		if t == prompb.ReadRequest_SAMPLES || t == prompb.ReadRequest_STREAMED_XOR_CHUNKS {
			return t, nil
		}
	}
	return 0, fmt.Errorf("server does not support any of the requested response types %v; it supports SAMPLES and STREAMED_XOR_CHUNKS", accepted)
}

// FromLabelMatchers converts a query's protobuf matchers, compiling regular
// expressions.
func FromLabelMatchers(pms []*prompb.LabelMatcher) ([]*labels.Matcher, error) {
	ms := make([]*labels.Matcher, 0, len(pms))
	for i, pm := range pms {
		if pm == nil {
			return nil, fmt.Errorf("matcher %d is empty", i)
		}
		var t labels.MatchType
		switch pm.Type {
		case prompb.LabelMatcher_EQ:
			t = labels.MatchEqual
		case prompb.LabelMatcher_NEQ:
			t = labels.MatchNotEqual
		case prompb.LabelMatcher_RE:
			t = labels.MatchRegexp
		case prompb.LabelMatcher_NRE:
			t = labels.MatchNotRegexp
		default:
			return nil, fmt.Errorf("matcher %d on %q has unknown type %d", i, pm.Name, pm.Type)
		}
		m, err := labels.NewMatcher(t, pm.Name, pm.Value)
		if err != nil {
			return nil, fmt.Errorf("matcher %d %s%s%q: %w", i, pm.Name, t, pm.Value, err)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// ToLabelMatchers is the inverse of FromLabelMatchers, for clients.
func ToLabelMatchers(ms []*labels.Matcher) []*prompb.LabelMatcher {
	pms := make([]*prompb.LabelMatcher, 0, len(ms))
	for _, m := range ms {
		var t prompb.LabelMatcher_Type
		switch m.Type {
		case labels.MatchNotEqual:
			t = prompb.LabelMatcher_NEQ
		case labels.MatchRegexp:
			t = prompb.LabelMatcher_RE
		case labels.MatchNotRegexp:
			t = prompb.LabelMatcher_NRE
		default:
			t = prompb.LabelMatcher_EQ
		}
		pms = append(pms, &prompb.LabelMatcher{Type: t, Name: m.Name, Value: m.Value})
	}
	return pms
}

// FilterExternalLabelMatchers rewrites equality matchers on external labels
// the way Prometheus does: the stored series do not carry the external
// labels, so `region="eu"` with external label region=eu must match series
// without a region label, that is region="".
func FilterExternalLabelMatchers(ms []*labels.Matcher, external labels.Labels) ([]*labels.Matcher, error) {
	if external.IsEmpty() {
		return ms, nil
	}
	out := make([]*labels.Matcher, 0, len(ms))
	for _, m := range ms {
		if m.Type == labels.MatchEqual && external.Has(m.Name) && external.Get(m.Name) == m.Value {
			em, err := labels.NewMatcher(labels.MatchEqual, m.Name, "")
			if err != nil {
				return nil, err
			}
			out = append(out, em)
			continue
		}
		out = append(out, m)
	}
	return out, nil
}

// ProtoLabels converts a label set to sorted protobuf labels, adding the
// external labels the series does not have itself (its own value wins),
// reusing dst.
func ProtoLabels(dst []prompb.Label, lset, external labels.Labels) []prompb.Label {
	dst = dst[:0]
	lset.Range(func(l labels.Label) { dst = append(dst, prompb.Label{Name: l.Name, Value: l.Value}) })
	added := false
	external.Range(func(l labels.Label) {
		if !lset.Has(l.Name) {
			dst = append(dst, prompb.Label{Name: l.Name, Value: l.Value})
			added = true
		}
	})
	if added {
		slices.SortFunc(dst, func(a, b prompb.Label) int {
			switch {
			case a.Name < b.Name:
				return -1
			case a.Name > b.Name:
				return 1
			}
			return 0
		})
	}
	return dst
}
