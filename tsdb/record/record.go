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
	d := encoding.NewDecbuf(rec[1:], errShort)
	for len(d.B) > 0 && d.Err == nil {
		ref := d.Be64()
		n := d.Uvarint()
		dec.builder.Reset()
		for i := uint64(0); i < n && d.Err == nil; i++ {
			name, value := d.UvarintBytes(), d.UvarintBytes()
			if d.Err == nil {
				// Copied: rec is typically a reused read buffer.
				dec.builder.Add(string(name), string(value))
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

// Samples appends the samples of a Samples record to samples.
func (dec *Decoder) Samples(rec []byte, samples []RefSample) ([]RefSample, error) {
	if GetType(rec) != Samples {
		return nil, fmt.Errorf("decode samples record: record type %d is not %d", GetType(rec), Samples)
	}
	d := encoding.NewDecbuf(rec[1:], errShort)
	if len(d.B) == 0 {
		return samples, nil
	}
	baseRef, baseT := d.Be64(), int64(d.Be64())
	start := len(samples)
	for len(d.B) > 0 && d.Err == nil {
		dref, dt := d.Varint(), d.Varint()
		v := d.Be64()
		if d.Err != nil {
			break
		}
		samples = append(samples, RefSample{
			Ref: storage.SeriesRef(int64(baseRef) + dref),
			T:   baseT + dt,
			V:   math.Float64frombits(v),
		})
	}
	if d.Err != nil {
		return nil, fmt.Errorf("decode samples record after %d samples: %w", len(samples)-start, d.Err)
	}
	return samples, nil
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
