package remote

import (
	"fmt"
	"io"

	"github.com/golang/snappy"
)

// DecodeSnappyBody reads a block-format snappy body of at most limit bytes
// once decompressed. The limit is checked against the length announced in
// the snappy header before decompressing, so a small hostile body cannot make
// the caller allocate without bound.
func DecodeSnappyBody(body io.Reader, limit int) ([]byte, error) {
	compressed, err := io.ReadAll(io.LimitReader(body, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if len(compressed) > limit {
		return nil, fmt.Errorf("compressed request is more than the limit of %d bytes", limit)
	}
	n, err := snappy.DecodedLen(compressed)
	if err != nil {
		return nil, fmt.Errorf("decode snappy body: %w", err)
	}
	if n > limit {
		return nil, fmt.Errorf("decompressed request is %d bytes, more than the limit of %d", n, limit)
	}
	raw, err := snappy.Decode(nil, compressed)
	if err != nil {
		return nil, fmt.Errorf("decode snappy body: %w", err)
	}
	return raw, nil
}
