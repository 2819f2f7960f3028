package remote

import (
	"fmt"
	"mime"
	"strings"

	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
)

// WriteProto names the protobuf message of a remote-write request, as carried
// in the proto parameter of its Content-Type.
type WriteProto string

// The remote-write messages Argus understands.
const (
	WriteProtoV1 WriteProto = "prometheus.WriteRequest"
	WriteProtoV2 WriteProto = "io.prometheus.write.v2.Request"
)

// Response headers of a Remote-Write 2.0 receiver, counting what it stored.
const (
	HeaderSamplesWritten    = "X-Prometheus-Remote-Write-Samples-Written"
	HeaderHistogramsWritten = "X-Prometheus-Remote-Write-Histograms-Written"
	HeaderExemplarsWritten  = "X-Prometheus-Remote-Write-Exemplars-Written"
)

// ErrUnsupportedContentType wraps a Content-Type the receiver cannot read;
// the spec asks for 415 so that a 2.0 sender can fall back to 1.0.
type ErrUnsupportedContentType struct{ Msg string }

func (e ErrUnsupportedContentType) Error() string { return e.Msg }

// ParseWriteContentType reads the Content-Type of a remote-write request.
// An empty header and a bare application/x-protobuf mean 1.0, for the senders
// that predate the proto parameter.
func ParseWriteContentType(ct string) (WriteProto, error) {
	if strings.TrimSpace(ct) == "" {
		return WriteProtoV1, nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/x-protobuf" {
		return "", ErrUnsupportedContentType{fmt.Sprintf("unsupported Content-Type %q, want application/x-protobuf", ct)}
	}
	switch p := WriteProto(params["proto"]); p {
	case "", WriteProtoV1:
		return WriteProtoV1, nil
	case WriteProtoV2:
		return WriteProtoV2, nil
	default:
		return "", ErrUnsupportedContentType{fmt.Sprintf("unsupported remote-write protobuf message %q; this server accepts %s and %s", p, WriteProtoV1, WriteProtoV2)}
	}
}

// DecodeWriteV1 unmarshals an uncompressed Remote-Write 1.0 body.
func DecodeWriteV1(raw []byte) (*prompb.WriteRequest, error) {
	var req prompb.WriteRequest
	if err := req.Unmarshal(raw); err != nil {
		return nil, fmt.Errorf("decode protobuf %s: %w", WriteProtoV1, err)
	}
	return &req, nil
}

// DecodeWriteV2 unmarshals an uncompressed Remote-Write 2.0 body. It checks
// the wire format only; series are validated one by one with LabelsV2.
func DecodeWriteV2(raw []byte) (*writev2.Request, error) {
	var req writev2.Request
	if err := req.Unmarshal(raw); err != nil {
		return nil, fmt.Errorf("decode protobuf %s: %w", WriteProtoV2, err)
	}
	return &req, nil
}
