package scrape

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
)

var errBodySizeLimit = errors.New("body size limit exceeded")

// targetScraper performs the HTTP side of a scrape for one target. It is used
// by one loop goroutine only, which lets it reuse its request and gzip reader.
type targetScraper struct {
	client        *http.Client
	req           *http.Request
	bodySizeLimit int64

	gz *gzip.Reader
	br *bufio.Reader
}

func newTargetScraper(t *Target, client *http.Client, accept, acceptEncoding, userAgent string, bodySizeLimit int64) (*targetScraper, error) {
	req, err := http.NewRequest(http.MethodGet, t.url.String(), http.NoBody)
	if err != nil {
		return nil, fmt.Errorf("building scrape request for %s: %w", t.url.Redacted(), err)
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("Accept-Encoding", acceptEncoding)
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(t.timeout.Seconds(), 'f', -1, 64))
	if bodySizeLimit <= 0 {
		bodySizeLimit = math.MaxInt64
	}
	return &targetScraper{client: client, req: req, bodySizeLimit: bodySizeLimit}, nil
}

// scrape fetches the target's exposition into buf, decompressed, and returns
// the response's Content-Type. ctx bounds the whole exchange (the scrape
// timeout).
func (s *targetScraper) scrape(ctx context.Context, buf *bytes.Buffer) (contentType string, err error) {
	resp, err := s.client.Do(s.req.WithContext(ctx))
	if err != nil {
		return "", err
	}
	defer func() {
		// Draining lets the connection be reused for the next scrape.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("server returned HTTP status %s", resp.Status)
	}

	var body io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		if s.gz == nil {
			s.br = bufio.NewReader(resp.Body)
			if s.gz, err = gzip.NewReader(s.br); err != nil {
				s.gz = nil
				return "", fmt.Errorf("reading gzip body: %w", err)
			}
		} else {
			s.br.Reset(resp.Body)
			if err := s.gz.Reset(s.br); err != nil {
				return "", fmt.Errorf("reading gzip body: %w", err)
			}
		}
		defer s.gz.Close()
		body = s.gz
	}

	n, err := buf.ReadFrom(io.LimitReader(body, s.bodySizeLimit))
	if err != nil {
		return "", fmt.Errorf("reading body: %w", err)
	}
	if n >= s.bodySizeLimit {
		return "", fmt.Errorf("%w (limit: %d bytes)", errBodySizeLimit, s.bodySizeLimit)
	}
	return resp.Header.Get("Content-Type"), nil
}
