package remote

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// castagnoli is the CRC-32 polynomial of streamed remote-read frames.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ChunkedWriter writes streamed remote-read frames: the message length as a
// uvarint, the big-endian CRC-32C of the message, then the message.
type ChunkedWriter struct {
	w     io.Writer
	flush func() error
	hdr   [binary.MaxVarintLen64 + 4]byte
}

// NewChunkedWriter frames messages onto w. flush, if not nil, runs after
// every frame so that the reader sees each series as soon as it is encoded
// instead of when the HTTP server's buffer fills.
func NewChunkedWriter(w io.Writer, flush func() error) *ChunkedWriter {
	return &ChunkedWriter{w: w, flush: flush}
}

// WriteFrame writes msg as one frame. Empty messages are not framed: the
// protocol has no use for them and readers would see a zero-length frame.
func (c *ChunkedWriter) WriteFrame(msg []byte) error {
	if len(msg) == 0 {
		return nil
	}
	n := binary.PutUvarint(c.hdr[:], uint64(len(msg)))
	binary.BigEndian.PutUint32(c.hdr[n:], crc32.Checksum(msg, castagnoli))
	if _, err := c.w.Write(c.hdr[:n+4]); err != nil {
		return fmt.Errorf("write frame header: %w", err)
	}
	if _, err := c.w.Write(msg); err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	if c.flush != nil {
		if err := c.flush(); err != nil {
			return fmt.Errorf("flush frame: %w", err)
		}
	}
	return nil
}

// ChunkedReader reads the frames ChunkedWriter writes.
type ChunkedReader struct {
	r     *bufio.Reader
	limit uint64
	buf   []byte
}

// NewChunkedReader reads frames from r, refusing any larger than limit bytes.
func NewChunkedReader(r io.Reader, limit uint64) *ChunkedReader {
	return &ChunkedReader{r: bufio.NewReader(r), limit: limit}
}

// Next returns the next frame's message, valid until the following call. It
// returns io.EOF after the last complete frame.
func (c *ChunkedReader) Next() ([]byte, error) {
	size, err := binary.ReadUvarint(c.r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("read frame size: %w", err)
	}
	if size > c.limit {
		return nil, fmt.Errorf("frame of %d bytes is more than the limit of %d", size, c.limit)
	}
	var sum [4]byte
	if _, err := io.ReadFull(c.r, sum[:]); err != nil {
		return nil, fmt.Errorf("read frame checksum: %w", err)
	}
	if uint64(cap(c.buf)) < size {
		c.buf = make([]byte, size)
	}
	c.buf = c.buf[:size]
	if _, err := io.ReadFull(c.r, c.buf); err != nil {
		return nil, fmt.Errorf("read frame of %d bytes: %w", size, err)
	}
	if want, got := binary.BigEndian.Uint32(sum[:]), crc32.Checksum(c.buf, castagnoli); want != got {
		return nil, fmt.Errorf("frame checksum mismatch: header says %08x, data has %08x", want, got)
	}
	return c.buf, nil
}
