package index

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"sort"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/encoding"
	"github.com/argusmon/argus/tsdb/fileutil"
)

// symbolFactor is how many symbols lie between two remembered symbol
// offsets: a lookup walks at most symbolFactor-1 entries.
const symbolFactor = 32

type postingOffset struct {
	value string
	off   uint64
}

// Reader reads an index file. It is safe for concurrent use.
type Reader struct {
	b      []byte
	mapped bool
	toc    toc

	numSymbols    uint32
	symbolOffsets []int // offset in b of every symbolFactor-th symbol

	// postings holds, per label name, the postings offset of every value,
	// sorted by value. The empty name holds the list of all series.
	postings map[string][]postingOffset
	names    []string
}

// OpenFile memory-maps the index file name (or reads it where mapping is
// not possible) and returns a reader over it.
func OpenFile(name string) (*Reader, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open index: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat index: %w", err)
	}
	b, mapped := fileutil.MapFile(f, int(fi.Size()))
	if !mapped {
		b = make([]byte, fi.Size())
		if _, err := io.ReadFull(f, b); err != nil {
			return nil, fmt.Errorf("read index %s: %w", name, err)
		}
	}
	r, err := NewReader(b)
	if err != nil {
		if mapped {
			fileutil.Unmap(b)
		}
		return nil, fmt.Errorf("index %s: %w", name, err)
	}
	r.mapped = mapped
	return r, nil
}

// NewReader returns a reader over the bytes of an index file. b must stay
// unchanged while the reader is used.
func NewReader(b []byte) (*Reader, error) {
	if len(b) < headerSize {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the header", ErrCorrupt, len(b))
	}
	if m := binary.BigEndian.Uint32(b); m != MagicIndex {
		return nil, fmt.Errorf("%w: invalid magic number %#x", ErrCorrupt, m)
	}
	if v := b[4]; v != FormatV2 {
		return nil, fmt.Errorf("unsupported index format version %d (want %d)", v, FormatV2)
	}
	t, err := readTOC(b)
	if err != nil {
		return nil, err
	}
	r := &Reader{b: b, toc: t, postings: map[string][]postingOffset{}}
	if err := r.readSymbols(); err != nil {
		return nil, err
	}
	if err := r.readPostingsTable(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Reader) readSymbols() error {
	body, err := section(r.b, r.toc.symbols, "symbol table")
	if err != nil {
		return err
	}
	d := encoding.NewDecbuf(body, ErrCorrupt)
	r.numSymbols = d.Be32()
	base := int(r.toc.symbols) + 4 + len(body) // body's end in b
	for i := uint32(0); i < r.numSymbols && d.Err == nil; i++ {
		if i%symbolFactor == 0 {
			r.symbolOffsets = append(r.symbolOffsets, base-len(d.B))
		}
		d.UvarintBytes()
	}
	if d.Err != nil {
		return fmt.Errorf("symbol table: %w", d.Err)
	}
	return nil
}

func (r *Reader) readPostingsTable() error {
	body, err := section(r.b, r.toc.postingsTable, "postings offset table")
	if err != nil {
		return err
	}
	d := encoding.NewDecbuf(body, ErrCorrupt)
	n := d.Be32()
	for i := uint32(0); i < n && d.Err == nil; i++ {
		if k := d.Byte(); k != 2 && d.Err == nil {
			return fmt.Errorf("%w: postings offset entry %d has %d keys, want 2", ErrCorrupt, i, k)
		}
		name := d.UvarintBytes()
		value := d.UvarintBytes()
		off := d.Uvarint()
		if d.Err != nil {
			break
		}
		list := r.postings[string(name)]
		if len(list) > 0 && list[len(list)-1].value >= string(value) {
			return fmt.Errorf("%w: postings offset table not sorted at %q=%q", ErrCorrupt, name, value)
		}
		r.postings[string(name)] = append(list, postingOffset{value: string(value), off: off})
	}
	if d.Err != nil {
		return fmt.Errorf("postings offset table: %w", d.Err)
	}
	for name := range r.postings {
		if name != "" {
			r.names = append(r.names, name)
		}
	}
	slices.Sort(r.names)
	return nil
}

// Close releases the file's bytes. Nothing read from the reader aliases
// them, but the reader is unusable afterwards.
func (r *Reader) Close() error {
	if r.mapped {
		r.mapped = false
		if err := fileutil.Unmap(r.b); err != nil {
			return fmt.Errorf("unmap index: %w", err)
		}
	}
	r.b = nil
	return nil
}

// Size returns the index file's size in bytes.
func (r *Reader) Size() int64 { return int64(len(r.b)) }

// lookupSymbol returns symbol number i.
func (r *Reader) lookupSymbol(i uint32) (string, error) {
	if i >= r.numSymbols {
		return "", fmt.Errorf("%w: symbol %d out of range (%d symbols)", ErrCorrupt, i, r.numSymbols)
	}
	d := encoding.NewDecbuf(r.b[r.symbolOffsets[i/symbolFactor]:], ErrCorrupt)
	for range i % symbolFactor {
		d.UvarintBytes()
	}
	s := d.UvarintBytes()
	if d.Err != nil {
		return "", d.Err
	}
	return string(s), nil
}

// Symbols returns every symbol, sorted.
func (r *Reader) Symbols() ([]string, error) {
	out := make([]string, 0, r.numSymbols)
	if r.numSymbols == 0 {
		return out, nil
	}
	d := encoding.NewDecbuf(r.b[r.symbolOffsets[0]:], ErrCorrupt)
	for range r.numSymbols {
		out = append(out, string(d.UvarintBytes()))
	}
	return out, d.Err
}

// Series decodes the series ref: its labels, built with builder, and its
// chunk metadata, appended to (*chks)[:0].
func (r *Reader) Series(ref storage.SeriesRef, builder *labels.ScratchBuilder, chks *[]ChunkMeta) (labels.Labels, error) {
	if uint64(ref) > uint64(len(r.b))/seriesAlign {
		return labels.EmptyLabels(), fmt.Errorf("%w: series %d outside the index", ErrCorrupt, ref)
	}
	off := uint64(ref) * seriesAlign
	if off < r.toc.series || off >= uint64(len(r.b)) {
		return labels.EmptyLabels(), fmt.Errorf("%w: series %d outside the index", ErrCorrupt, ref)
	}
	d := encoding.NewDecbuf(r.b[off:], ErrCorrupt)
	l := d.Uvarint()
	if d.Err != nil || l+crcSize > uint64(len(d.B)) {
		return labels.EmptyLabels(), fmt.Errorf("%w: series %d: bad length", ErrCorrupt, ref)
	}
	body := d.B[:l]
	if got, want := crc32.Checksum(body, castagnoli), binary.BigEndian.Uint32(d.B[l:]); got != want {
		return labels.EmptyLabels(), fmt.Errorf("%w: series %d: checksum %#x, want %#x", ErrCorrupt, ref, got, want)
	}
	d = encoding.NewDecbuf(body, ErrCorrupt)

	builder.Reset()
	n := d.Uvarint()
	for i := uint64(0); i < n && d.Err == nil; i++ {
		name, err := r.lookupSymbol(uint32(d.Uvarint()))
		if err != nil {
			return labels.EmptyLabels(), fmt.Errorf("series %d: label name: %w", ref, err)
		}
		value, err := r.lookupSymbol(uint32(d.Uvarint()))
		if err != nil {
			return labels.EmptyLabels(), fmt.Errorf("series %d: label value: %w", ref, err)
		}
		builder.Add(name, value)
	}

	*chks = (*chks)[:0]
	n = d.Uvarint()
	var prev ChunkMeta
	for i := uint64(0); i < n && d.Err == nil; i++ {
		var c ChunkMeta
		if i == 0 {
			c.MinTime = d.Varint()
			c.MaxTime = c.MinTime + int64(d.Uvarint())
			c.Ref = d.Uvarint()
		} else {
			c.MinTime = prev.MaxTime + int64(d.Uvarint())
			c.MaxTime = c.MinTime + int64(d.Uvarint())
			c.Ref = uint64(int64(prev.Ref) + d.Varint())
		}
		*chks = append(*chks, c)
		prev = c
	}
	if d.Err != nil {
		return labels.EmptyLabels(), fmt.Errorf("series %d: %w", ref, d.Err)
	}
	return builder.Labels(), nil
}

// Postings returns the sorted union of the series carrying name with any of
// values. Postings("", "") lists every series.
func (r *Reader) Postings(name string, values ...string) (Postings, error) {
	list := r.postings[name]
	if len(list) == 0 {
		return EmptyPostings(), nil
	}
	its := make([]Postings, 0, len(values))
	for _, v := range values {
		i := sort.Search(len(list), func(i int) bool { return list[i].value >= v })
		if i == len(list) || list[i].value != v {
			continue
		}
		p, err := r.postingsAt(list[i].off)
		if err != nil {
			return nil, fmt.Errorf("postings %s=%q: %w", name, v, err)
		}
		its = append(its, p)
	}
	return Merge(its...), nil
}

func (r *Reader) postingsAt(off uint64) (Postings, error) {
	body, err := section(r.b, off, "postings")
	if err != nil {
		return nil, err
	}
	d := encoding.NewDecbuf(body, ErrCorrupt)
	n := d.Be32()
	if d.Err != nil || uint64(n)*4 != uint64(len(d.B)) {
		return nil, fmt.Errorf("%w: postings at %d: %d entries in %d bytes", ErrCorrupt, off, n, len(body))
	}
	return newBigEndianPostings(d.B), nil
}

// AllPostings lists every series.
func (r *Reader) AllPostings() (Postings, error) { return r.Postings("", "") }

// SortedPostings returns p in label order. Series references follow label
// order in a block index, so p already is.
func (r *Reader) SortedPostings(p Postings) Postings { return p }

// LabelValues returns the sorted values of name.
func (r *Reader) LabelValues(name string) []string {
	if name == "" {
		return nil
	}
	list := r.postings[name]
	out := make([]string, len(list))
	for i, p := range list {
		out[i] = p.value
	}
	return out
}

// LabelNames returns the sorted label names.
func (r *Reader) LabelNames() []string { return slices.Clone(r.names) }
