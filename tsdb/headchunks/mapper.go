package headchunks

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strconv"
	"sync"
)

// Options configure a Mapper.
type Options struct {
	// MaxFileSize is the size past which a new file is started. 0 means
	// DefaultMaxFileSize.
	MaxFileSize int
	// WriteBufferSize is how many bytes of chunks are gathered before they
	// are written to the file. 0 means 4 MiB, Prometheus's default.
	WriteBufferSize int
	// Logger receives repair notices; nil discards them.
	Logger *slog.Logger
}

// ErrClosed is returned after Close.
var ErrClosed = errors.New("head chunk files are closed")

// mappedFile is one file of the directory.
type mappedFile struct {
	seq  int
	data []byte // the mapping (or, without mmap, the bytes read or mirrored)
	size int    // bytes of data that are on disk and may be read
}

func (f *mappedFile) valid() []byte { return f.data[:min(f.size, len(f.data))] }

// Mapper writes chunks to the files of one chunks_head directory and reads
// them back by reference. It is safe for concurrent use.
type Mapper struct {
	dir         string
	maxFileSize int
	bufSize     int
	logger      *slog.Logger

	mu      sync.RWMutex
	files   map[int]*mappedFile
	lastSeq int // highest file sequence number in use, 0 if none

	// The file being written; nil until the first Write after Open or
	// CutFile. Guarded by mu held for writing.
	cur     *os.File
	curFile *mappedFile
	curSize int    // bytes written plus bytes pending in wbuf
	wbuf    []byte // encoded chunks not yet written to cur
	closed  bool
}

// Open opens (creating if needed) the chunk files in dir and reads every
// chunk in them, oldest file first, handing each to fn if not nil; an error
// from fn aborts Open. A torn or corrupt file is truncated after its last
// intact chunk and later files are deleted, with a log line, rather than
// failing: the write-ahead log still holds the samples of those chunks.
// Writing continues in a new file, as Prometheus does.
func Open(dir string, opts Options, fn func(Chunk) error) (*Mapper, error) {
	m := &Mapper{
		dir:         dir,
		maxFileSize: opts.MaxFileSize,
		bufSize:     opts.WriteBufferSize,
		logger:      opts.Logger,
		files:       map[int]*mappedFile{},
	}
	if m.maxFileSize <= 0 {
		m.maxFileSize = DefaultMaxFileSize
	}
	if m.maxFileSize > 1<<32 || m.maxFileSize < HeaderSize+metaSize+maxLenSize+crcSize {
		return nil, fmt.Errorf("open head chunks %s: file size %d out of range", dir, m.maxFileSize)
	}
	if m.bufSize <= 0 {
		m.bufSize = defaultWriteBufferSize
	}
	if m.logger == nil {
		m.logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, fmt.Errorf("create head chunks directory: %w", err)
	}
	seqs, err := listFiles(dir)
	if err != nil {
		return nil, err
	}
	if err := m.load(seqs, fn); err != nil {
		m.unmapAll()
		return nil, err
	}
	return m, nil
}

// listFiles returns the sequence numbers of the chunk files in dir, in
// order. They must be consecutive: a gap means a file went missing.
func listFiles(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list head chunk files in %s: %w", dir, err)
	}
	var seqs []int
	for _, e := range entries {
		seq, err := strconv.ParseUint(e.Name(), 10, 31)
		if err != nil || e.IsDir() {
			continue
		}
		seqs = append(seqs, int(seq))
	}
	slices.Sort(seqs)
	for i := 1; i < len(seqs); i++ {
		if seqs[i] != seqs[i-1]+1 {
			return nil, fmt.Errorf("head chunk files in %s are not consecutive: %06d follows %06d", dir, seqs[i], seqs[i-1])
		}
	}
	return seqs, nil
}

// load maps and scans the files, repairing the first corruption found.
func (m *Mapper) load(seqs []int, fn func(Chunk) error) error {
	for i, seq := range seqs {
		f, err := m.mapExisting(seq)
		if err != nil {
			return err
		}
		m.files[seq] = f
		m.lastSeq = seq
		var cerr *CorruptionError
		if err := scanFile(f, fileName(m.dir, seq), fn); errors.As(err, &cerr) {
			return m.repair(f, cerr, seqs[i+1:])
		} else if err != nil {
			return err
		}
	}
	return nil
}

func (m *Mapper) mapExisting(seq int) (*mappedFile, error) {
	name := fileName(m.dir, seq)
	fd, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open head chunk file: %w", err)
	}
	defer fd.Close()
	fi, err := fd.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat head chunk file: %w", err)
	}
	if fi.Size() > 1<<32 {
		return nil, fmt.Errorf("head chunk file %s is %d bytes, more than 4 GiB", name, fi.Size())
	}
	data, err := mapFile(fd, int(fi.Size()))
	if err != nil {
		return nil, err
	}
	return &mappedFile{seq: seq, data: data, size: int(fi.Size())}, nil
}

// scanFile checks f's header and hands every chunk to fn.
func scanFile(f *mappedFile, name string, fn func(Chunk) error) error {
	b := f.valid()
	if len(b) < HeaderSize {
		return &CorruptionError{File: name, Offset: 0, Err: fmt.Errorf("file of %d bytes has no complete header", len(b))}
	}
	if mg := binary.BigEndian.Uint32(b); mg != Magic {
		return &CorruptionError{File: name, Offset: 0, Err: fmt.Errorf("invalid magic number %#x", mg)}
	}
	if v := b[4]; v != FormatV1 {
		return &CorruptionError{File: name, Offset: 0, Err: fmt.Errorf("unsupported format version %d", v)}
	}
	off := HeaderSize
	for off < len(b) {
		rest := b[off:]
		// Prometheus preallocates files: zeros mark the end of the chunks.
		if len(rest) < metaSize || bytes.Equal(rest[:24], make([]byte, 24)) {
			if len(bytes.Trim(rest, "\x00")) == 0 {
				return nil
			}
		}
		c, next, err := parseChunk(b, off)
		if err != nil {
			return &CorruptionError{File: name, Offset: int64(off), Err: err}
		}
		c.Ref = NewRef(uint32(f.seq), uint32(off))
		if fn != nil {
			if err := fn(c); err != nil {
				return fmt.Errorf("replay head chunk %s: %w", c.Ref, err)
			}
		}
		off = next
	}
	return nil
}

// repair truncates f at the corruption and deletes the files after it.
func (m *Mapper) repair(f *mappedFile, cerr *CorruptionError, later []int) error {
	for _, seq := range later {
		if err := os.Remove(fileName(m.dir, seq)); err != nil {
			return fmt.Errorf("repair head chunks: delete file after a corrupt one: %w", err)
		}
	}
	name := fileName(m.dir, f.seq)
	if cerr.Offset < HeaderSize {
		// Nothing of the file is usable, not even its header.
		if err := unmap(f.data); err != nil {
			return fmt.Errorf("repair head chunks: unmap %s: %w", name, err)
		}
		delete(m.files, f.seq)
		m.lastSeq = f.seq - 1
		if err := os.Remove(name); err != nil {
			return fmt.Errorf("repair head chunks: delete %s: %w", name, err)
		}
	} else {
		if err := os.Truncate(name, cerr.Offset); err != nil {
			return fmt.Errorf("repair head chunks: truncate %s: %w", name, err)
		}
		// The mapping stays; reads are bounded by size.
		f.size = int(cerr.Offset)
	}
	m.logger.Warn("Repaired corrupt head chunk files: truncated after the last intact chunk",
		"file", name, "offset", cerr.Offset, "deleted_files", len(later), "err", cerr.Err)
	return nil
}

// Write appends a chunk of series seriesRef with samples in [mint, maxt]
// and returns its reference. The chunk is buffered; it reaches the file
// when the buffer fills, on Flush, CutFile or Close, or when a read needs
// it. If Write fails, nothing of the chunk is kept.
func (m *Mapper) Write(seriesRef uint64, mint, maxt int64, encoding uint8, data []byte) (Ref, error) {
	size := metaSize + uvarintLen(uint64(len(data))) + len(data) + crcSize
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return 0, ErrClosed
	}
	if size > m.maxFileSize-HeaderSize {
		return 0, fmt.Errorf("write head chunk of series %d: %d bytes exceed the file size %d", seriesRef, size, m.maxFileSize)
	}
	if m.cur == nil || m.curSize+size > m.maxFileSize {
		if err := m.cut(); err != nil {
			return 0, err
		}
	}
	ref := NewRef(uint32(m.curFile.seq), uint32(m.curSize))
	m.wbuf = appendChunk(m.wbuf, seriesRef, mint, maxt, encoding, data)
	m.curSize += size
	if len(m.wbuf) >= m.bufSize {
		if err := m.flush(); err != nil {
			m.wbuf = m.wbuf[:len(m.wbuf)-size]
			m.curSize -= size
			return 0, err
		}
	}
	return ref, nil
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// cut finishes the file being written and starts the next one. Callers hold
// mu for writing.
func (m *Mapper) cut() error {
	if err := m.finish(); err != nil {
		return err
	}
	seq := m.lastSeq + 1
	name := fileName(m.dir, seq)
	fd, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
	if err != nil {
		return fmt.Errorf("create head chunk file: %w", err)
	}
	data, err := mapFile(fd, m.maxFileSize)
	if err != nil {
		fd.Close()
		os.Remove(name)
		return err
	}
	f := &mappedFile{seq: seq, data: data}
	m.files[seq], m.lastSeq = f, seq
	m.cur, m.curFile = fd, f
	m.wbuf = append(m.wbuf[:0], 0, 0, 0, 0, FormatV1, 0, 0, 0)
	binary.BigEndian.PutUint32(m.wbuf, Magic)
	m.curSize = HeaderSize
	return nil
}

// finish flushes, syncs and closes the file being written, if any; the next
// Write starts a new file. Callers hold mu for writing.
func (m *Mapper) finish() error {
	if m.cur == nil {
		return nil
	}
	if err := m.flush(); err != nil {
		return err
	}
	if err := m.cur.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", m.cur.Name(), err)
	}
	if err := m.cur.Close(); err != nil {
		return fmt.Errorf("close %s: %w", m.cur.Name(), err)
	}
	m.cur, m.curFile = nil, nil
	return nil
}

// flush writes the buffered chunks to the file. On failure it cuts the file
// back to what it held before, keeping the buffer for a retry. Callers hold
// mu for writing.
func (m *Mapper) flush() error {
	if m.cur == nil || len(m.wbuf) == 0 {
		return nil
	}
	n, err := m.cur.Write(m.wbuf)
	if err != nil {
		err = fmt.Errorf("write head chunk file %s: %w", m.cur.Name(), err)
		if n > 0 {
			if terr := m.cur.Truncate(int64(m.curFile.size)); terr != nil {
				err = errors.Join(err, terr)
			}
			if _, serr := m.cur.Seek(int64(m.curFile.size), 0); serr != nil {
				err = errors.Join(err, serr)
			}
		}
		return err
	}
	if mirrorWrites {
		m.curFile.data = append(m.curFile.data, m.wbuf...)
	}
	m.curFile.size += n
	m.wbuf = m.wbuf[:0]
	return nil
}

// Chunk appends the data of the chunk at ref to dst and returns it with the
// chunk's encoding (out-of-order bit cleared). It checks the reference's
// bounds and the chunk's checksum: a bad reference or damaged bytes give an
// error, never a crash.
func (m *Mapper) Chunk(ref Ref, dst []byte) (enc uint8, data []byte, err error) {
	seq, off := ref.Unpack()
	m.mu.RLock()
	f := m.files[seq]
	if f != nil && f == m.curFile && off+metaSize > f.size && off < m.curSize {
		// The chunk is still in the write buffer.
		m.mu.RUnlock()
		m.mu.Lock()
		err = m.flush()
		m.mu.Unlock()
		if err != nil {
			return 0, dst, fmt.Errorf("read head chunk %s: %w", ref, err)
		}
		m.mu.RLock()
		f = m.files[seq]
	}
	defer m.mu.RUnlock()
	if m.closed {
		return 0, dst, ErrClosed
	}
	if f == nil {
		return 0, dst, fmt.Errorf("read head chunk %s: no file %06d in %s", ref, seq, m.dir)
	}
	c, _, err := parseChunk(f.valid(), off)
	if err != nil {
		return 0, dst, fmt.Errorf("read head chunk %s in %s: %w", ref, m.dir, err)
	}
	return c.Encoding, append(dst, c.Data...), nil
}

// Flush writes buffered chunks to the file being written.
func (m *Mapper) Flush() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	return m.flush()
}

// CutFile finishes the file being written so that the next Write starts a
// new one and Truncate may later delete this one.
func (m *Mapper) CutFile() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	return m.finish()
}

// Files returns the sequence numbers of the files, in order.
func (m *Mapper) Files() []int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return slices.Sorted(maps.Keys(m.files))
}

// Truncate deletes the files before sequence number seq, except the one
// being written. Their chunks must no longer be read.
func (m *Mapper) Truncate(seq int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	// Oldest first, so that a failure leaves the remaining files consecutive.
	for _, s := range slices.Sorted(maps.Keys(m.files)) {
		f := m.files[s]
		if s >= seq || f == m.curFile {
			break
		}
		if err := unmap(f.data); err != nil {
			return fmt.Errorf("truncate head chunks: unmap %06d: %w", s, err)
		}
		delete(m.files, s)
		if err := os.Remove(fileName(m.dir, s)); err != nil {
			return fmt.Errorf("truncate head chunks: %w", err)
		}
	}
	return nil
}

// Close writes buffered chunks, syncs and closes the files. Later calls
// fail with ErrClosed.
func (m *Mapper) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	err := m.finish()
	if m.cur != nil {
		// finish failed before closing the file: close it anyway.
		err = errors.Join(err, m.cur.Close())
		m.cur, m.curFile = nil, nil
	}
	return errors.Join(err, m.unmapAll())
}

func (m *Mapper) unmapAll() error {
	var errs []error
	for s, f := range m.files {
		if err := unmap(f.data); err != nil {
			errs = append(errs, fmt.Errorf("unmap head chunk file %06d: %w", s, err))
		}
		delete(m.files, s)
	}
	return errors.Join(errs...)
}
