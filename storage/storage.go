// Package storage holds the small vocabulary that crosses the seams between
// Argus's packages: series references, samples iterators, series sets and the
// appender and querier contracts.
//
// Each consumer still declares the one-method interface it needs (scrape
// declares its Appendable, query its Queryable), as ARCHITECTURE.md asks. The
// values those methods return must have a single home, though: Go does not
// allow a method returning *tsdb.Appender to satisfy an interface method
// returning scrape.Appender, so the returned contracts live here and nowhere
// else. This package has no implementation and imports nothing of Argus.
package storage

import (
	"context"
	"errors"

	"github.com/prometheus/prometheus/model/labels"
)

// SeriesRef identifies a series inside one storage. It is opaque to callers:
// they hand back what Append returned to skip label hashing on the next append.
type SeriesRef uint64

// Ingest errors shared by every storage so that scrape, the remote-write
// receiver and rules can classify rejections without knowing the backend.
var (
	ErrOutOfOrderSample            = errors.New("out of order sample")
	ErrDuplicateSampleForTimestamp = errors.New("duplicate sample for timestamp")
	ErrOutOfBounds                 = errors.New("out of bounds")
	ErrTooOldSample                = errors.New("too old sample")
	ErrClosed                      = errors.New("storage is closed")
)

// Appender buffers samples and makes them visible and durable on Commit, all
// or nothing. An Appender is used by one goroutine and discarded after Commit
// or Rollback.
type Appender interface {
	// Append adds a sample for the series l. ref is a hint returned by an
	// earlier Append for the same series (0 if unknown); the returned ref may
	// be passed to later calls. The labels must be sorted and valid.
	Append(ref SeriesRef, l labels.Labels, t int64, v float64) (SeriesRef, error)
	// Commit makes every appended sample durable (written to the WAL) and
	// queryable. After Commit returns nil, the samples survive a crash of the
	// process.
	Commit() error
	// Rollback discards every appended sample.
	Rollback() error
}

// ValueType is what an iterator's current position holds.
type ValueType uint8

// The value types an Iterator can report.
const (
	ValNone  ValueType = iota // exhausted or failed; check Err.
	ValFloat                  // a float sample; read it with At.
)

// Iterator walks the samples of one series in increasing time order.
type Iterator interface {
	// Next advances to the next sample and reports its type.
	Next() ValueType
	// SeekTo advances to the first sample with a timestamp >= t and reports
	// its type. It never moves backwards: if the current sample is already at
	// or after t it stays. (Not named Seek: go vet reserves that name for
	// io.Seeker's signature.)
	SeekTo(t int64) ValueType
	// At returns the current float sample.
	At() (int64, float64)
	// AtT returns the current timestamp.
	AtT() int64
	// Err returns the error that ended the iteration, if any.
	Err() error
}

// Series is one time series as returned by a Querier.
type Series interface {
	Labels() labels.Labels
	// Iterator returns an iterator over the series' samples. It may reuse it
	// (an iterator obtained earlier from any Series of the same storage) to
	// avoid an allocation; it may also ignore it.
	Iterator(reuse Iterator) Iterator
}

// SeriesSet iterates over series.
type SeriesSet interface {
	Next() bool
	At() Series
	Err() error
}

// SelectHints tell the storage what the caller will do with the data so it
// can skip work. They are advisory: a storage may return more.
type SelectHints struct {
	Start int64 // Earliest timestamp needed, in milliseconds.
	End   int64 // Latest timestamp needed, in milliseconds.
	Step  int64 // Query step in milliseconds, 0 for instant queries.
	Range int64 // Range of a range-vector selector in milliseconds.
	Func  string
}

// Querier reads the series of a storage within a fixed time range.
type Querier interface {
	// Select returns the series matching all matchers. With sortSeries the
	// series come in labels.Compare order.
	Select(ctx context.Context, sortSeries bool, hints *SelectHints, matchers ...*labels.Matcher) SeriesSet
	// LabelValues returns the sorted, distinct values of the label name over
	// the series matching matchers (all series if none).
	LabelValues(ctx context.Context, name string, matchers ...*labels.Matcher) ([]string, error)
	// LabelNames returns the sorted, distinct label names over the series
	// matching matchers (all series if none).
	LabelNames(ctx context.Context, matchers ...*labels.Matcher) ([]string, error)
	// Close releases the resources held for the query.
	Close() error
}

// ErrSeriesSet returns a SeriesSet that holds no series and reports err.
func ErrSeriesSet(err error) SeriesSet { return errSeriesSet{err: err} }

type errSeriesSet struct{ err error }

func (s errSeriesSet) Next() bool { return false }
func (s errSeriesSet) At() Series { return nil }
func (s errSeriesSet) Err() error { return s.err }

// EmptySeriesSet returns a SeriesSet with no series.
func EmptySeriesSet() SeriesSet { return errSeriesSet{} }
