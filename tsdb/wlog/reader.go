package wlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"

	"github.com/golang/snappy"
)

// Reader reads the records of every segment of a log in order.
type Reader struct {
	dir  string
	segs []int
	cur  int // index into segs of the open segment, -1 before the first
	f    *os.File

	page      [PageSize]byte
	pageLen   int   // bytes of page loaded; < PageSize at the end of a segment
	pageOff   int   // read position in page
	pageStart int64 // segment offset of page[0]
	lastGood  int64 // segment offset just past the last complete record

	frags []byte // fragment data of the record being assembled
	dec   []byte // snappy output buffer
	rec   []byte
	err   error
}

// NewReader opens the log in dir for reading, every segment of it.
func NewReader(dir string) (*Reader, error) { return NewRangeReader(dir, 0, -1) }

// NewRangeReader opens the log in dir for reading segments first to last,
// both included; a negative last means through the newest segment.
func NewRangeReader(dir string, first, last int) (*Reader, error) {
	segs, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	segs = slices.DeleteFunc(segs, func(s int) bool { return s < first || (last >= 0 && s > last) })
	return &Reader{dir: dir, segs: segs, cur: -1}, nil
}

// Record returns the current record. It is valid until the next call to Next.
func (r *Reader) Record() []byte { return r.rec }

// Err returns what stopped Next: nil at the clean end of the log, a
// *CorruptionError for damaged or torn data, another error for I/O failures.
func (r *Reader) Err() error { return r.err }

// Segment returns the index of the segment being read, -1 if none.
func (r *Reader) Segment() int {
	if r.cur < 0 || r.cur >= len(r.segs) {
		return -1
	}
	return r.segs[r.cur]
}

// Close closes the open segment file.
func (r *Reader) Close() error {
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}

// Next advances to the next record and reports whether there is one.
func (r *Reader) Next() bool {
	if r.err != nil {
		return false
	}
	if r.cur < 0 && !r.nextSegment() {
		return false
	}
	r.frags = r.frags[:0]
	inRecord := false
	compressed := false
	for {
		if PageSize-r.pageOff < headerSize || r.pageOff >= r.pageLen {
			if !r.checkZeros(r.page[r.pageOff:r.pageLen]) {
				return false
			}
			if r.pageLen < PageSize {
				// The segment ended; records never continue in the next one.
				if inRecord {
					return r.corrupt(errTornRecord)
				}
				if !r.nextSegment() {
					return false
				}
				continue
			}
			if !r.loadPage() {
				return false
			}
			continue
		}
		p := r.page[r.pageOff:r.pageLen]
		typ := p[0]
		if typ == kindPageTerm {
			if !r.checkZeros(p) {
				return false
			}
			r.pageOff = r.pageLen
			continue
		}
		if len(p) < headerSize {
			return r.corrupt(fmt.Errorf("fragment header torn at offset %d", r.pageStart+int64(r.pageOff)))
		}
		kind := typ & kindMask
		if typ&^(kindMask|snappyMask) != 0 {
			return r.corrupt(fmt.Errorf("unsupported fragment type byte %#x at offset %d (only snappy compression is supported)", typ, r.pageStart+int64(r.pageOff)))
		}
		length := int(binary.BigEndian.Uint16(p[1:]))
		sum := binary.BigEndian.Uint32(p[3:])
		if headerSize+length > len(p) {
			return r.corrupt(fmt.Errorf("fragment of %d bytes at offset %d overruns its page", length, r.pageStart+int64(r.pageOff)))
		}
		data := p[headerSize : headerSize+length]
		if crc32.Checksum(data, castagnoli) != sum {
			return r.corrupt(fmt.Errorf("checksum mismatch in fragment at offset %d", r.pageStart+int64(r.pageOff)))
		}
		switch {
		case kind == kindFull || kind == kindFirst:
			if inRecord {
				return r.corrupt(fmt.Errorf("fragment kind %d at offset %d inside an unfinished record", kind, r.pageStart+int64(r.pageOff)))
			}
		case kind == kindMiddle || kind == kindLast:
			if !inRecord {
				return r.corrupt(fmt.Errorf("fragment kind %d at offset %d without a first fragment", kind, r.pageStart+int64(r.pageOff)))
			}
		default:
			return r.corrupt(fmt.Errorf("invalid fragment kind %d at offset %d", kind, r.pageStart+int64(r.pageOff)))
		}
		inRecord = true
		compressed = typ&snappyMask != 0
		r.frags = append(r.frags, data...)
		r.pageOff += headerSize + length
		if kind == kindFull || kind == kindLast {
			break
		}
	}
	if !compressed {
		r.rec = r.frags
	} else {
		n, err := snappy.DecodedLen(r.frags)
		if err != nil || n > maxDecodedSize {
			return r.corrupt(fmt.Errorf("invalid snappy record ending at offset %d", r.pageStart+int64(r.pageOff)))
		}
		if cap(r.dec) < n {
			r.dec = make([]byte, n)
		}
		r.rec, err = snappy.Decode(r.dec[:cap(r.dec)], r.frags)
		if err != nil {
			return r.corrupt(fmt.Errorf("decompress record ending at offset %d: %w", r.pageStart+int64(r.pageOff), err))
		}
	}
	r.lastGood = r.pageStart + int64(r.pageOff)
	return true
}

// loadPage reads the next page of the open segment.
func (r *Reader) loadPage() bool {
	r.pageStart += int64(r.pageLen)
	n, err := io.ReadFull(r.f, r.page[:])
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		r.err = fmt.Errorf("read %s: %w", SegmentName(r.dir, r.segs[r.cur]), err)
		return false
	}
	r.pageLen, r.pageOff = n, 0
	return true
}

// nextSegment opens the next segment, reporting false at the end of the log.
func (r *Reader) nextSegment() bool {
	if err := r.Close(); err != nil {
		r.err = fmt.Errorf("close segment: %w", err)
		return false
	}
	r.cur++
	if r.cur >= len(r.segs) {
		return false
	}
	f, err := os.Open(SegmentName(r.dir, r.segs[r.cur]))
	if err != nil {
		r.err = fmt.Errorf("open write log segment: %w", err)
		return false
	}
	r.f = f
	r.pageLen, r.pageOff, r.pageStart, r.lastGood = 0, 0, 0, 0
	// pageLen 0 would read as "segment ended": load the first page now.
	r.pageLen = PageSize
	r.pageStart = -PageSize
	return r.loadPage()
}

func (r *Reader) checkZeros(b []byte) bool {
	if len(bytes.Trim(b, "\x00")) != 0 {
		return r.corrupt(fmt.Errorf("non-zero bytes in the padding of the page at offset %d", r.pageStart))
	}
	return true
}

func (r *Reader) corrupt(err error) bool {
	r.err = &CorruptionError{Dir: r.dir, Segment: r.segs[r.cur], Offset: r.lastGood, Err: err}
	return false
}
