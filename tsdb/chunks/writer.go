package chunks

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"path/filepath"
)

// Writer appends chunks to the segment files of one chunks directory. It is
// used by one goroutine.
type Writer struct {
	dir         string
	segmentSize int64

	f     *os.File
	bw    *bufio.Writer
	index int   // 0-based index of the open segment, -1 before the first
	pos   int64 // bytes written to the open segment
	size  int64 // bytes written to closed segments
	buf   [binary.MaxVarintLen32 + 1]byte
}

// NewWriter creates dir if needed and returns a writer whose segments stay
// under segmentSize bytes (DefaultSegmentSize if <= 0). dir must not hold
// segments already.
func NewWriter(dir string, segmentSize int64) (*Writer, error) {
	if segmentSize <= 0 {
		segmentSize = DefaultSegmentSize
	}
	// A Ref holds offsets in 32 bits.
	segmentSize = min(segmentSize, math.MaxUint32)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, fmt.Errorf("create chunks directory: %w", err)
	}
	return &Writer{dir: dir, segmentSize: segmentSize, index: -1}, nil
}

// WriteChunk appends one chunk and returns its reference.
func (w *Writer) WriteChunk(enc uint8, data []byte) (Ref, error) {
	n := binary.PutUvarint(w.buf[:], uint64(len(data)))
	w.buf[n] = enc
	total := int64(n+1+len(data)) + crcSize
	if total+SegmentHeaderSize > w.segmentSize {
		return 0, fmt.Errorf("chunk of %d bytes does not fit a %d-byte segment", len(data), w.segmentSize)
	}
	if w.f == nil || w.pos+total > w.segmentSize {
		if err := w.cut(); err != nil {
			return 0, err
		}
	}
	ref := NewRef(uint32(w.index), uint32(w.pos))

	crc := crc32.Update(0, castagnoli, w.buf[n:n+1])
	crc = crc32.Update(crc, castagnoli, data)
	var sum [crcSize]byte
	binary.BigEndian.PutUint32(sum[:], crc)
	for _, b := range [][]byte{w.buf[:n+1], data, sum[:]} {
		if _, err := w.bw.Write(b); err != nil {
			return 0, fmt.Errorf("write chunk to %s: %w", w.f.Name(), err)
		}
	}
	w.pos += total
	return ref, nil
}

// Size returns the bytes written so far over all segments.
func (w *Writer) Size() int64 { return w.size + w.pos }

// cut finishes the open segment and starts the next one.
func (w *Writer) cut() error {
	if err := w.finishSegment(); err != nil {
		return err
	}
	w.index++
	name := filepath.Join(w.dir, segmentName(w.index))
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return fmt.Errorf("create chunk segment: %w", err)
	}
	w.f = f
	w.bw = bufio.NewWriterSize(f, 1<<20)
	var hdr [SegmentHeaderSize]byte
	binary.BigEndian.PutUint32(hdr[:], MagicChunks)
	hdr[4] = FormatV1
	if _, err := w.bw.Write(hdr[:]); err != nil {
		return fmt.Errorf("write header of %s: %w", name, err)
	}
	w.pos = SegmentHeaderSize
	return nil
}

// finishSegment flushes, syncs and closes the open segment, if any.
func (w *Writer) finishSegment() error {
	if w.f == nil {
		return nil
	}
	f := w.f
	w.f = nil
	w.size += w.pos
	w.pos = 0
	err := w.bw.Flush()
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("finish chunk segment %s: %w", f.Name(), err)
	}
	return nil
}

// Close finishes the last segment and syncs the directory.
func (w *Writer) Close() error {
	if err := w.finishSegment(); err != nil {
		return err
	}
	return syncDir(w.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory to sync: %w", err)
	}
	err = d.Sync()
	// Some file systems do not support syncing a directory.
	if errors.Is(err, os.ErrInvalid) {
		err = nil
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
