package index

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"os"
	"slices"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
)

// Writer writes an index file in three stages, in this order: AddSymbol for
// every string used in a label, in sorted order; AddSeries for every series,
// in label order; Close, which writes the postings, the postings offset
// table and the table of contents. It is used by one goroutine.
type Writer struct {
	ctx  context.Context
	f    *os.File
	bw   *bufio.Writer
	pos  uint64
	toc  toc
	name string

	symbols    []byte // symbol table body, after the count
	numSymbols uint32
	lastSymbol string
	symbolRefs map[string]uint32
	seriesOpen bool

	lastSeries labels.Labels
	postings   map[string]map[string][]uint32
	all        []uint32
	buf        []byte
	closed     bool
}

// NewWriter creates the index file name. ctx is checked between series so
// that writing a large index can be abandoned.
func NewWriter(ctx context.Context, name string) (*Writer, error) {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return nil, fmt.Errorf("create index: %w", err)
	}
	w := &Writer{
		ctx: ctx, f: f, bw: bufio.NewWriterSize(f, 1<<20), name: name,
		symbolRefs: map[string]uint32{},
		postings:   map[string]map[string][]uint32{},
	}
	hdr := binary.BigEndian.AppendUint32(nil, MagicIndex)
	if err := w.write(append(hdr, FormatV2)); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

func (w *Writer) write(bs ...[]byte) error {
	for _, b := range bs {
		n, err := w.bw.Write(b)
		w.pos += uint64(n)
		if err != nil {
			return fmt.Errorf("write index %s: %w", w.name, err)
		}
	}
	return nil
}

var zeros [seriesAlign]byte

func (w *Writer) pad(align uint64) error {
	if r := w.pos % align; r != 0 {
		return w.write(zeros[:align-r])
	}
	return nil
}

// AddSymbol adds a string to the symbol table. Symbols must be added in
// strictly increasing order, before any series.
func (w *Writer) AddSymbol(sym string) error {
	if w.seriesOpen {
		return fmt.Errorf("symbol %q added after the first series", sym)
	}
	if w.numSymbols > 0 && sym <= w.lastSymbol {
		return fmt.Errorf("symbol %q added out of order after %q", sym, w.lastSymbol)
	}
	w.symbolRefs[sym] = w.numSymbols
	w.numSymbols++
	w.lastSymbol = sym
	w.symbols = binary.AppendUvarint(w.symbols, uint64(len(sym)))
	w.symbols = append(w.symbols, sym...)
	return nil
}

// finishSymbols writes the symbol table once every symbol is known.
func (w *Writer) finishSymbols() error {
	if w.seriesOpen {
		return nil
	}
	w.seriesOpen = true
	if uint64(len(w.symbols))+4 > math.MaxUint32 {
		return fmt.Errorf("symbol table of %d bytes exceeds 4 GiB", len(w.symbols))
	}
	w.toc.symbols = w.pos
	body := binary.BigEndian.AppendUint32(nil, w.numSymbols)
	crc := crc32.Update(crc32.Checksum(body, castagnoli), castagnoli, w.symbols)
	hdr := binary.BigEndian.AppendUint32(nil, uint32(len(body)+len(w.symbols)))
	sum := binary.BigEndian.AppendUint32(nil, crc)
	if err := w.write(hdr, body, w.symbols, sum); err != nil {
		return err
	}
	w.symbols = nil
	w.toc.series = w.pos
	return nil
}

// AddSeries adds a series with its chunks, which must be in time order and
// increasing reference order. Series must be added in strictly increasing
// label order. It returns the series' reference in the index.
func (w *Writer) AddSeries(lset labels.Labels, chunks ...ChunkMeta) (storage.SeriesRef, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	if err := w.finishSymbols(); err != nil {
		return 0, err
	}
	if len(w.all) > 0 && labels.Compare(lset, w.lastSeries) <= 0 {
		return 0, fmt.Errorf("series %s added out of order after %s", lset, w.lastSeries)
	}
	for i, c := range chunks {
		if c.MaxTime < c.MinTime {
			return 0, fmt.Errorf("series %s: chunk %d has maxt %d before mint %d", lset, i, c.MaxTime, c.MinTime)
		}
		if i > 0 && (c.MinTime <= chunks[i-1].MaxTime || c.Ref < chunks[i-1].Ref) {
			return 0, fmt.Errorf("series %s: chunk %d overlaps or precedes chunk %d", lset, i, i-1)
		}
	}
	if err := w.pad(seriesAlign); err != nil {
		return 0, err
	}
	id := w.pos / seriesAlign
	if id > math.MaxUint32 {
		return 0, errors.New("index exceeds the 64 GiB addressable by 32-bit series references")
	}

	b := w.buf[:0]
	b = binary.AppendUvarint(b, uint64(lset.Len()))
	var err error
	lset.Range(func(l labels.Label) {
		nref, ok1 := w.symbolRefs[l.Name]
		vref, ok2 := w.symbolRefs[l.Value]
		if !ok1 || !ok2 {
			err = fmt.Errorf("series %s: label %s has no symbol", lset, l.Name)
			return
		}
		b = binary.AppendUvarint(b, uint64(nref))
		b = binary.AppendUvarint(b, uint64(vref))
		values := w.postings[l.Name]
		if values == nil {
			values = map[string][]uint32{}
			w.postings[l.Name] = values
		}
		values[l.Value] = append(values[l.Value], uint32(id))
	})
	if err != nil {
		return 0, err
	}
	b = binary.AppendUvarint(b, uint64(len(chunks)))
	for i, c := range chunks {
		if i == 0 {
			b = binary.AppendVarint(b, c.MinTime)
			b = binary.AppendUvarint(b, uint64(c.MaxTime-c.MinTime))
			b = binary.AppendUvarint(b, c.Ref)
			continue
		}
		prev := chunks[i-1]
		b = binary.AppendUvarint(b, uint64(c.MinTime-prev.MaxTime))
		b = binary.AppendUvarint(b, uint64(c.MaxTime-c.MinTime))
		b = binary.AppendVarint(b, int64(c.Ref-prev.Ref))
	}
	hdr := binary.AppendUvarint(nil, uint64(len(b)))
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
	w.buf = b
	if err := w.write(hdr, b); err != nil {
		return 0, err
	}
	w.all = append(w.all, uint32(id))
	w.lastSeries = lset.Copy()
	return storage.SeriesRef(id), nil
}

// Close writes the postings, the postings offset table and the table of
// contents, syncs and closes the file. The writer is unusable afterwards.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.finish()
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close index: %w", cerr)
	}
	return err
}

func (w *Writer) finish() error {
	if err := w.finishSymbols(); err != nil {
		return err
	}
	if err := w.pad(4); err != nil {
		return err
	}
	// Upstream writes no label index sections: both label index pointers
	// mark where they would be.
	w.toc.labelIndices = w.pos
	w.toc.postings = w.pos

	var table []byte // postings offset table entries
	entries := uint32(0)
	addPostings := func(name, value string, refs []uint32) error {
		if err := w.pad(4); err != nil {
			return err
		}
		table = append(table, 2)
		table = binary.AppendUvarint(table, uint64(len(name)))
		table = append(table, name...)
		table = binary.AppendUvarint(table, uint64(len(value)))
		table = append(table, value...)
		table = binary.AppendUvarint(table, w.pos)
		entries++

		b := binary.BigEndian.AppendUint32(w.buf[:0], uint32(len(refs)))
		for _, r := range refs {
			b = binary.BigEndian.AppendUint32(b, r)
		}
		hdr := binary.BigEndian.AppendUint32(nil, uint32(len(b)))
		b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
		w.buf = b
		return w.write(hdr, b)
	}
	// The list of all series comes first, under the empty name and value.
	if err := addPostings("", "", w.all); err != nil {
		return err
	}
	names := make([]string, 0, len(w.postings))
	for n := range w.postings {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		values := make([]string, 0, len(w.postings[n]))
		for v := range w.postings[n] {
			values = append(values, v)
		}
		slices.Sort(values)
		for _, v := range values {
			if err := addPostings(n, v, w.postings[n][v]); err != nil {
				return err
			}
		}
	}

	w.toc.labelIndicesTable = w.pos
	w.toc.postingsTable = w.pos
	body := binary.BigEndian.AppendUint32(nil, entries)
	crc := crc32.Update(crc32.Checksum(body, castagnoli), castagnoli, table)
	if uint64(len(body)+len(table)) > math.MaxUint32 {
		return fmt.Errorf("postings offset table of %d bytes exceeds 4 GiB", len(table))
	}
	hdr := binary.BigEndian.AppendUint32(nil, uint32(len(body)+len(table)))
	if err := w.write(hdr, body, table, binary.BigEndian.AppendUint32(nil, crc), w.toc.append(nil)); err != nil {
		return err
	}
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("flush index %s: %w", w.name, err)
	}
	return nil
}
