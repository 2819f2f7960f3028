package chunks

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/argusmon/argus/tsdb/fileutil"
)

// Reader returns chunks of one chunks directory by reference. It is safe for
// concurrent use; the returned bytes are valid until Close.
type Reader struct {
	segments [][]byte
	mapped   []bool
	size     int64
}

// OpenDir opens every segment in dir, in file name order. Segments are
// memory-mapped, or read into memory where mapping fails.
func OpenDir(dir string) (*Reader, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list chunk segments: %w", err)
	}
	var names []string
	for _, e := range entries {
		if _, err := strconv.ParseUint(e.Name(), 10, 64); err == nil && !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	r := &Reader{}
	for _, name := range names {
		b, mapped, err := loadFile(filepath.Join(dir, name))
		if err != nil {
			r.Close()
			return nil, err
		}
		r.segments = append(r.segments, b)
		r.mapped = append(r.mapped, mapped)
	}
	if err := r.validate(); err != nil {
		r.Close()
		return nil, fmt.Errorf("chunks directory %s: %w", dir, err)
	}
	return r, nil
}

// NewReader returns a reader over in-memory segments, index 0 first.
func NewReader(segments ...[]byte) (*Reader, error) {
	r := &Reader{segments: segments, mapped: make([]bool, len(segments))}
	if err := r.validate(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Reader) validate() error {
	for i, b := range r.segments {
		if len(b) < SegmentHeaderSize {
			return fmt.Errorf("segment %s: %d bytes, shorter than its header", segmentName(i), len(b))
		}
		if m := binary.BigEndian.Uint32(b); m != MagicChunks {
			return fmt.Errorf("segment %s: invalid magic number %#x", segmentName(i), m)
		}
		if v := b[4]; v != FormatV1 {
			return fmt.Errorf("segment %s: unknown format version %d", segmentName(i), v)
		}
		r.size += int64(len(b))
	}
	return nil
}

func loadFile(name string) ([]byte, bool, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, false, fmt.Errorf("open chunk segment: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, false, fmt.Errorf("stat chunk segment: %w", err)
	}
	if b, ok := fileutil.MapFile(f, int(fi.Size())); ok {
		return b, true, nil
	}
	b := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, false, fmt.Errorf("read chunk segment %s: %w", name, err)
	}
	return b, false, nil
}

// ErrCorrupt is wrapped by every error about a reference or chunk that does
// not fit the segments.
var ErrCorrupt = errors.New("corrupt chunk")

// Chunk returns the encoding and data of the chunk at ref, after checking
// its bounds and checksum. data aliases the segment: do not modify it.
func (r *Reader) Chunk(ref Ref) (enc uint8, data []byte, err error) {
	seg, off := ref.Unpack()
	if seg >= len(r.segments) {
		return 0, nil, fmt.Errorf("%w: ref %s: segment %d out of range (%d segments)", ErrCorrupt, ref, seg, len(r.segments))
	}
	b := r.segments[seg]
	if off < SegmentHeaderSize || off >= len(b) {
		return 0, nil, fmt.Errorf("%w: ref %s: offset outside segment of %d bytes", ErrCorrupt, ref, len(b))
	}
	b = b[off:]
	l, n := binary.Uvarint(b[:min(len(b), maxLenFieldSize)])
	if n <= 0 {
		return 0, nil, fmt.Errorf("%w: ref %s: bad length field", ErrCorrupt, ref)
	}
	if l > uint64(len(b)-n) || uint64(n)+1+l+crcSize > uint64(len(b)) {
		return 0, nil, fmt.Errorf("%w: ref %s: %d-byte chunk runs past the segment end", ErrCorrupt, ref, l)
	}
	body := b[n : n+1+int(l)]
	sum := binary.BigEndian.Uint32(b[n+1+int(l):])
	if got := crc32.Checksum(body, castagnoli); got != sum {
		return 0, nil, fmt.Errorf("%w: ref %s: checksum %#x, want %#x", ErrCorrupt, ref, got, sum)
	}
	return body[0], body[1:], nil
}

// Size returns the total bytes of all segments.
func (r *Reader) Size() int64 { return r.size }

// Close releases the segments. Bytes returned by Chunk are invalid after it.
func (r *Reader) Close() error {
	var errs []error
	for i, b := range r.segments {
		if r.mapped[i] {
			if err := fileutil.Unmap(b); err != nil {
				errs = append(errs, fmt.Errorf("unmap chunk segment %s: %w", segmentName(i), err))
			}
		}
	}
	r.segments, r.mapped = nil, nil
	return errors.Join(errs...)
}
