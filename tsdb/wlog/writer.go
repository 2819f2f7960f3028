package wlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"sync"

	"github.com/golang/snappy"
)

// Options configure a Writer.
type Options struct {
	// SegmentSize is the size at which a new segment is started, a multiple
	// of PageSize. 0 means DefaultSegmentSize.
	SegmentSize int
	// Compress records with snappy (Prometheus's default).
	Compress bool
	// Logger receives repair notices; nil discards them.
	Logger *slog.Logger
	// Progress, if set, is told the first and last segment to replay and
	// the one being replayed, each time replay moves to a new segment and
	// once more when it is done (current == last), for
	// /api/v1/status/walreplay.
	Progress func(first, last, current int)
}

// ErrClosed is returned by Log after Close.
var ErrClosed = errors.New("write log is closed")

// Writer appends records to a log. It is safe for concurrent use.
type Writer struct {
	dir         string
	segmentSize int64
	compress    bool
	logger      *slog.Logger

	mu       sync.Mutex
	seg      *os.File
	segIndex int
	segSize  int64 // bytes in the open segment
	buf      []byte
	cbuf     []byte
	closed   bool
	broken   error // set when a failed write could not be undone
	repaired *CorruptionError

	background sync.WaitGroup // syncs and closes of finished segments
}

// Open opens (creating if needed) the log in dir. It first reads every
// record, handing each to replay if not nil (the slice is only valid during
// the call); a replay error aborts Open. A corrupt or torn tail is repaired:
// the log is truncated after the last intact record, later segments are
// deleted, and the repair is logged and reported by Repaired. Writing then
// continues in a fresh segment, as Prometheus does.
func Open(dir string, opts Options, replay func(rec []byte) error) (*Writer, error) {
	size := opts.SegmentSize
	if size == 0 {
		size = DefaultSegmentSize
	}
	if size < 0 || size%PageSize != 0 {
		return nil, fmt.Errorf("open write log %s: segment size %d is not a positive multiple of %d", dir, size, PageSize)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, fmt.Errorf("create write log directory: %w", err)
	}
	w := &Writer{dir: dir, segmentSize: int64(size), compress: opts.Compress, logger: logger}

	// The newest checkpoint stands for every segment up to its index.
	cpDir, cpIdx, err := LastCheckpoint(dir)
	switch {
	case errors.Is(err, ErrNoCheckpoint):
		cpIdx = -1
	case err != nil:
		return nil, err
	default:
		if err := replayCheckpoint(cpDir, replay); err != nil {
			return nil, err
		}
	}
	rr, err := NewRangeReader(dir, cpIdx+1, -1)
	if err != nil {
		return nil, err
	}
	r := newPrefetcher(rr)
	first, last := cpIdx+1, cpIdx+1
	if segs, err := listSegments(dir); err == nil && len(segs) > 0 {
		first, last = max(first, segs[0]), segs[len(segs)-1]
	}
	current := -1
	for r.Next() {
		if opts.Progress != nil && r.Segment() != current {
			current = r.Segment()
			opts.Progress(first, last, current)
		}
		if replay == nil {
			continue
		}
		if err := replay(r.Record()); err != nil {
			r.Close()
			return nil, fmt.Errorf("replay write log %s segment %08d: %w", dir, r.Segment(), err)
		}
	}
	r.Close()
	if opts.Progress != nil {
		opts.Progress(first, last, last)
	}
	var cerr *CorruptionError
	switch err := r.Err(); {
	case errors.As(err, &cerr):
		if err := w.repair(cerr); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	}

	segs, err := listSegments(dir)
	if err != nil {
		return nil, err
	}
	next := cpIdx + 1
	if n := len(segs); n > 0 && segs[n-1] >= next {
		next = segs[n-1] + 1
		// Reuse an empty last segment rather than pile up empty files when
		// the process restarts repeatedly.
		if fi, err := os.Stat(SegmentName(dir, segs[n-1])); err == nil && fi.Size() == 0 {
			next = segs[n-1]
		}
	}
	if err := w.openSegment(next); err != nil {
		return nil, err
	}
	return w, nil
}

// repair truncates the log at the end of the last intact record.
func (w *Writer) repair(cerr *CorruptionError) error {
	segs, err := listSegments(w.dir)
	if err != nil {
		return err
	}
	deleted := 0
	for _, s := range segs {
		if s > cerr.Segment {
			if err := os.Remove(SegmentName(w.dir, s)); err != nil {
				return fmt.Errorf("repair write log: delete segment: %w", err)
			}
			deleted++
		}
	}
	name := SegmentName(w.dir, cerr.Segment)
	if err := os.Truncate(name, cerr.Offset); err != nil {
		return fmt.Errorf("repair write log: truncate %s: %w", name, err)
	}
	w.logger.Warn("Repaired corrupt write log tail: truncated after the last intact record",
		"dir", w.dir, "segment", cerr.Segment, "offset", cerr.Offset, "deleted_segments", deleted, "err", cerr.Err)
	w.repaired = cerr
	return nil
}

// Repaired returns the corruption Open repaired, nil if the log was intact.
func (w *Writer) Repaired() *CorruptionError { return w.repaired }

func (w *Writer) openSegment(i int) error {
	f, err := os.OpenFile(SegmentName(w.dir, i), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o666)
	if err != nil {
		return fmt.Errorf("create write log segment: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("stat write log segment: %w", err)
	}
	w.seg, w.segIndex, w.segSize = f, i, fi.Size()
	return nil
}

// Log writes the records, in order, and returns once the operating system
// has them (one write(2) per call in the common case): they survive the
// process being killed, not a machine crash before the next Sync. If Log
// fails, none of recs is in the log, unless the batch started a new segment:
// then the records placed before the cut remain.
func (w *Writer) Log(recs ...[]byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if w.broken != nil {
		return fmt.Errorf("write log %s is unusable after a failed write: %w", w.dir, w.broken)
	}
	w.buf = w.buf[:0]
	for _, rec := range recs {
		enc, flag := rec, byte(0)
		if w.compress {
			w.cbuf = snappy.Encode(w.cbuf[:cap(w.cbuf)], rec)
			if len(w.cbuf) < len(rec) {
				enc, flag = w.cbuf, snappyMask
			}
		}
		pos := w.segSize + int64(len(w.buf))
		if pos > 0 && int64(len(enc)) > w.spaceLeft(pos) {
			if err := w.cutSegment(); err != nil {
				return err
			}
		}
		w.appendFragments(enc, flag)
	}
	return w.flush()
}

// spaceLeft is how many record bytes still fit in the segment from pos on.
func (w *Writer) spaceLeft(pos int64) int64 {
	inPage := PageSize - pos%PageSize - headerSize
	if inPage < 0 {
		inPage = 0
	}
	fullPages := (w.segmentSize - (pos/PageSize+1)*PageSize) / PageSize
	return inPage + max(fullPages, 0)*(PageSize-headerSize)
}

// appendFragments encodes rec into w.buf as page-sized fragments.
func (w *Writer) appendFragments(rec []byte, flag byte) {
	for first := true; first || len(rec) > 0; first = false {
		off := int((w.segSize + int64(len(w.buf))) % PageSize)
		n := min(len(rec), PageSize-off-headerSize)
		var kind byte
		switch last := n == len(rec); {
		case first && last:
			kind = kindFull
		case first:
			kind = kindFirst
		case last:
			kind = kindLast
		default:
			kind = kindMiddle
		}
		w.buf = append(w.buf, kind|flag)
		w.buf = binary.BigEndian.AppendUint16(w.buf, uint16(n))
		w.buf = binary.BigEndian.AppendUint32(w.buf, crc32.Checksum(rec[:n], castagnoli))
		w.buf = append(w.buf, rec[:n]...)
		rec = rec[n:]
		// A page that cannot hold another header is padded, as Prometheus does.
		if rest := PageSize - (off + headerSize + n); rest < headerSize {
			w.buf = append(w.buf, make([]byte, rest)...)
		}
	}
}

// flush writes w.buf to the open segment. On failure it truncates the
// segment back so that no partial record is left behind.
func (w *Writer) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.seg.Write(w.buf)
	if err == nil {
		w.segSize += int64(n)
		w.buf = w.buf[:0]
		return nil
	}
	err = fmt.Errorf("write to %s: %w", w.seg.Name(), err)
	if n > 0 {
		if terr := w.seg.Truncate(w.segSize); terr != nil {
			w.broken = errors.Join(err, terr)
		}
	}
	w.buf = w.buf[:0]
	return err
}

// cutSegment pads and finishes the open segment and starts the next one. The
// finished segment is synced and closed in the background.
func (w *Writer) cutSegment() error {
	if pad := (w.segSize + int64(len(w.buf))) % PageSize; pad != 0 {
		w.buf = append(w.buf, make([]byte, PageSize-pad)...)
	}
	if err := w.flush(); err != nil {
		return err
	}
	prev := w.seg
	if err := w.openSegment(w.segIndex + 1); err != nil {
		return err
	}
	w.background.Add(1)
	go func() {
		defer w.background.Done()
		if err := prev.Sync(); err != nil {
			w.logger.Error("Sync finished write log segment", "file", prev.Name(), "err", err)
		}
		if err := prev.Close(); err != nil {
			w.logger.Error("Close finished write log segment", "file", prev.Name(), "err", err)
		}
	}()
	return nil
}

// Sync flushes the open segment to stable storage (fsync).
func (w *Writer) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return ErrClosed
	}
	if err := w.seg.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", w.seg.Name(), err)
	}
	return nil
}

// NextSegment finishes the open segment, if it holds anything, and starts
// the next one, so that every record logged so far is in a segment that
// will not change. It returns the index of the segment now being written.
func (w *Writer) NextSegment() (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, ErrClosed
	}
	if w.segSize == 0 {
		return w.segIndex, nil
	}
	if err := w.cutSegment(); err != nil {
		return 0, err
	}
	return w.segIndex, nil
}

// Truncate deletes the segments before index i, oldest first so that a
// failure leaves the rest consecutive. The segment being written is kept.
func (w *Writer) Truncate(i int) error {
	w.mu.Lock()
	cur := w.segIndex
	w.mu.Unlock()
	segs, err := listSegments(w.dir)
	if err != nil {
		return err
	}
	for _, s := range segs {
		if s >= i || s >= cur {
			break
		}
		if err := os.Remove(SegmentName(w.dir, s)); err != nil {
			return fmt.Errorf("truncate write log: %w", err)
		}
	}
	return nil
}

// Segment returns the index of the segment being written.
func (w *Writer) Segment() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.segIndex
}

// Dir returns the log's directory.
func (w *Writer) Dir() string { return w.dir }

// Close syncs and closes the log.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	w.background.Wait()
	var errs []error
	if err := w.seg.Sync(); err != nil {
		errs = append(errs, fmt.Errorf("sync %s: %w", w.seg.Name(), err))
	}
	if err := w.seg.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close %s: %w", w.seg.Name(), err))
	}
	return errors.Join(errs...)
}
