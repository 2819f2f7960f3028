// Package wlog owns the segmented write log that the head's WAL (dir/wal) and
// out-of-order WBL (dir/wbl) are made of, in Prometheus's format
// (tsdb/docs/format/wal.md in prometheus/prometheus) so that either server
// replays the other's log.
//
// A log is a directory of segment files named by their 8-digit sequence
// number (00000000, 00000001, ...), each at most SegmentSize bytes and made
// of 32 KiB pages. A record is split into fragments that never cross a page:
// a 7-byte header (type byte with the fragment kind and compression flags, a
// big-endian uint16 length, a big-endian CRC32-Castagnoli of the fragment
// data) followed by the data. A page whose remainder cannot hold a header is
// padded with zeros. Records never cross segments. Records are compressed
// with snappy (block format) when that makes them smaller.
package wlog

import (
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

const (
	// PageSize is the unit a segment is written in.
	PageSize = 32 * 1024
	// DefaultSegmentSize is Prometheus's segment size.
	DefaultSegmentSize = 128 * 1024 * 1024

	headerSize = 7

	// Header type byte: [3 bits reserved][zstd][snappy][3 bits kind].
	snappyMask = 1 << 3
	zstdMask   = 1 << 4
	kindMask   = snappyMask - 1

	// maxDecodedSize bounds the allocation a corrupt snappy header can ask
	// for.
	maxDecodedSize = 1 << 30
)

// Fragment kinds.
const (
	kindPageTerm byte = 0 // the rest of the page is zeros
	kindFull     byte = 1 // a whole record
	kindFirst    byte = 2
	kindMiddle   byte = 3
	kindLast     byte = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// CorruptionError reports a log that cannot be read past a point: a torn
// write at the tail after a crash, or damaged bytes.
type CorruptionError struct {
	Dir     string
	Segment int
	// Offset is the end of the last intact record in Segment: everything
	// before it is good, and it is where a repair truncates.
	Offset int64
	Err    error
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("corrupt write log %s: segment %08d after offset %d: %v", e.Dir, e.Segment, e.Offset, e.Err)
}

func (e *CorruptionError) Unwrap() error { return e.Err }

// SegmentName returns the path of segment i of the log in dir.
func SegmentName(dir string, i int) string {
	return filepath.Join(dir, fmt.Sprintf("%08d", i))
}

// listSegments returns the indexes of the segment files in dir in order. Other
// entries (checkpoint directories, temporary files) are ignored. Segments
// must be consecutive: a gap means a segment went missing.
func listSegments(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list write log segments in %s: %w", dir, err)
	}
	var segs []int
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		i, err := strconv.Atoi(e.Name())
		if err != nil || i < 0 {
			continue
		}
		segs = append(segs, i)
	}
	slices.Sort(segs)
	for k := 1; k < len(segs); k++ {
		if segs[k] != segs[k-1]+1 {
			return nil, fmt.Errorf("write log %s: segments are not consecutive: %08d follows %08d", dir, segs[k], segs[k-1])
		}
	}
	return segs, nil
}

var errTornRecord = errors.New("record torn at the end of the segment")
