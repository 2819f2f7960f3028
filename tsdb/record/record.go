// Package record owns the encoding of the records the head writes to its
// write log: Series records (type 1) and Samples records (type 2), byte for
// byte as Prometheus's tsdb/record package writes them, so a WAL written by
// either server replays in the other. Decoding never panics on arbitrary
// input.
package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb/encoding"
)

// Type is the first byte of every record.
type Type uint8

// Record types, with Prometheus's values. Types this package does not decode
// (tombstones, exemplars, histograms, metadata...) are reported as themselves
// by GetType so that a reader can skip them deliberately.
const (
	Unknown Type = 255
	Series  Type = 1
	Samples Type = 2
	// MinValidTime is written only into checkpoints: the oldest timestamp
	// the head may still hold once the checkpoint's segments are gone.
	MinValidTime Type = 14
)

// RefSeries is a series and the reference the head gave it.
type RefSeries struct {
	Ref    storage.SeriesRef
	Labels labels.Labels
}

// RefSample is one sample of the series Ref.
type RefSample struct {
	Ref storage.SeriesRef
	T   int64
	V   float64
}

// GetType returns the type of rec, Unknown for an empty record.
func GetType(rec []byte) Type {
	if len(rec) == 0 {
		return Unknown
	}
	return Type(rec[0])
}

// EncodeSeries appends a Series record for series to b. Each series is its
// reference as 8 big-endian bytes, then the label count and each name and
// value as uvarint-length-prefixed strings.
func EncodeSeries(series []RefSeries, b []byte) []byte {
	b = append(b, byte(Series))
	for i := range series {
		b = binary.BigEndian.AppendUint64(b, uint64(series[i].Ref))
		b = binary.AppendUvarint(b, uint64(series[i].Labels.Len()))
		series[i].Labels.Range(func(l labels.Label) {
			b = binary.AppendUvarint(b, uint64(len(l.Name)))
			b = append(b, l.Name...)
			b = binary.AppendUvarint(b, uint64(len(l.Value)))
			b = append(b, l.Value...)
		})
	}
	return b
}

// EncodeSamples appends a Samples record for samples to b: the first
// sample's reference and timestamp as 8 big-endian bytes each, then for
// every sample (the first included) the signed varint deltas of reference and
// timestamp to those and the value's 8 big-endian IEEE 754 bytes.
func EncodeSamples(samples []RefSample, b []byte) []byte {
	b = append(b, byte(Samples))
	if len(samples) == 0 {
		return b
	}
	first := samples[0]
	b = binary.BigEndian.AppendUint64(b, uint64(first.Ref))
	b = binary.BigEndian.AppendUint64(b, uint64(first.T))
	for _, s := range samples {
		b = binary.AppendVarint(b, int64(s.Ref)-int64(first.Ref))
		b = binary.AppendVarint(b, s.T-first.T)
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(s.V))
	}
	return b
}

// Decoder decodes records. Its zero value is ready; keeping one per reader
// reuses its label builder.
type Decoder struct {
	builder labels.ScratchBuilder
}

var errShort = errors.New("record ends mid-field")

// Series appends the series of a Series record to series. The returned
// labels do not alias rec.
func (dec *Decoder) Series(rec []byte, series []RefSeries) ([]RefSeries, error) {
	if GetType(rec) != Series {
		return nil, fmt.Errorf("decode series record: record type %d is not %d", GetType(rec), Series)
	}
	// One copy of the whole record rather than one string per name and
	// value: the label sets built from substrings of it copy them again
	// (or, with other label implementations, keep them).
	str := string(rec[1:])
	d := encoding.NewDecbuf(rec[1:], errShort)
	for len(d.B) > 0 && d.Err == nil {
		ref := d.Be64()
		n := d.Uvarint()
		dec.builder.Reset()
		for i := uint64(0); i < n && d.Err == nil; i++ {
			name := substring(str, &d)
			value := substring(str, &d)
			if d.Err == nil {
				dec.builder.Add(name, value)
			}
		}
		if d.Err != nil {
			break
		}
		dec.builder.Sort()
		series = append(series, RefSeries{Ref: storage.SeriesRef(ref), Labels: dec.builder.Labels()})
	}
	if d.Err != nil {
		return nil, fmt.Errorf("decode series record after %d series: %w", len(series), d.Err)
	}
	return series, nil
}

// substring reads a length-prefixed field of d and returns it as the part of
// str, the string copy of d's whole input, that holds it.
func substring(str string, d *encoding.Decbuf) string {
	b := d.UvarintBytes()
	if d.Err != nil {
		return ""
	}
	end := len(str) - len(d.B)
	return str[end-len(b) : end]
}

// Samples appends the samples of a Samples record to samples.
func (dec *Decoder) Samples(rec []byte, samples []RefSample) ([]RefSample, error) {
	it, err := dec.SampleIterator(rec)
	if err != nil {
		return nil, err
	}
	for {
		s, ok := it.Next()
		if !ok {
			break
		}
		samples = append(samples, s)
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	return samples, nil
}

// SampleIterator reads the samples of a Samples record one at a time, for
// a caller that drops most of them: WAL replay skips the samples already
// in chunks on disk without materialising them.
type SampleIterator struct {
	b              []byte
	baseRef, baseT int64
	n              int
	err            error
}

// SampleIterator returns an iterator over the samples of rec.
func (*Decoder) SampleIterator(rec []byte) (SampleIterator, error) {
	if GetType(rec) != Samples {
		return SampleIterator{}, fmt.Errorf("decode samples record: record type %d is not %d", GetType(rec), Samples)
	}
	b := rec[1:]
	if len(b) == 0 {
		return SampleIterator{}, nil
	}
	if len(b) < 16 {
		return SampleIterator{}, fmt.Errorf("decode samples record: %w: truncated or invalid header", errShort)
	}
	return SampleIterator{
		b:       b[16:],
		baseRef: int64(binary.BigEndian.Uint64(b)),
		baseT:   int64(binary.BigEndian.Uint64(b[8:])),
	}, nil
}

// Next returns the next sample; ok is false at the end of the record or
// at a malformed sample, which Err then reports.
func (it *SampleIterator) Next() (s RefSample, ok bool) {
	b := it.b
	if len(b) == 0 {
		return s, false
	}
	dref, n := varint(b)
	if n <= 0 {
		return s, it.fail("reference")
	}
	b = b[n:]
	dt, n := varint(b)
	if n <= 0 {
		return s, it.fail("timestamp")
	}
	b = b[n:]
	if len(b) < 8 {
		return s, it.fail("value")
	}
	it.b = b[8:]
	it.n++
	return RefSample{
		Ref: storage.SeriesRef(it.baseRef + dref),
		T:   it.baseT + dt,
		V:   math.Float64frombits(binary.BigEndian.Uint64(b)),
	}, true
}

func (it *SampleIterator) fail(what string) bool {
	it.err = fmt.Errorf("decode samples record after %d samples: %w: truncated or invalid %s", it.n, errShort, what)
	it.b = nil
	return false
}

// Err returns what ended the iteration early, nil at the record's end.
func (it *SampleIterator) Err() error { return it.err }

// varint is binary.Varint with the one- and two-byte cases, those of
// nearly every reference and timestamp delta of a scrape's record, inlined.
func varint(b []byte) (int64, int) {
	var ux uint64
	n := 0
	switch {
	case len(b) > 0 && b[0] < 0x80:
		ux, n = uint64(b[0]), 1
	case len(b) > 1 && b[1] < 0x80:
		ux, n = uint64(b[0]&0x7f)|uint64(b[1])<<7, 2
	default:
		return binary.Varint(b)
	}
	return int64(ux>>1) ^ -int64(ux&1), n
}

// EncodeMinValidTime appends a MinValidTime record for mint to b: the type
// byte and mint as 8 big-endian bytes.
func EncodeMinValidTime(mint int64, b []byte) []byte {
	b = append(b, byte(MinValidTime))
	return binary.BigEndian.AppendUint64(b, uint64(mint))
}

// MinValidTime decodes a MinValidTime record.
func (*Decoder) MinValidTime(rec []byte) (int64, error) {
	if GetType(rec) != MinValidTime {
		return 0, fmt.Errorf("decode min valid time record: record type %d is not %d", GetType(rec), MinValidTime)
	}
	if len(rec) != 9 {
		return 0, fmt.Errorf("decode min valid time record: %d bytes, want 9", len(rec))
	}
	return int64(binary.BigEndian.Uint64(rec[1:])), nil
}
