package query

import (
	"errors"
	"fmt"
)

// ErrNativeHistograms is returned, wrapped with the series it was met in,
// when a query reads a sample that is not a float. Argus stores floats
// only for now; failing is better than returning a wrong number.
var ErrNativeHistograms = errors.New("native histograms are not supported yet")

// The error types below are the ones the HTTP API maps to Prometheus's
// errorType values (canceled, timeout, execution, internal). Their messages
// match Prometheus's word for word because clients match on them. The string
// value names where in the query's life the condition was hit.
type (
	// ErrQueryCanceled is returned when the query's context was canceled or
	// Cancel was called.
	ErrQueryCanceled string
	// ErrQueryTimeout is returned when the query ran past its deadline.
	ErrQueryTimeout string
	// ErrTooManySamples is returned when evaluation would hold more than
	// EngineOpts.MaxSamples samples in memory at once.
	ErrTooManySamples string
	// ErrStorage wraps an error returned by the storage.
	ErrStorage struct{ Err error }
)

func (e ErrQueryCanceled) Error() string { return fmt.Sprintf("query was canceled in %s", string(e)) }

func (e ErrQueryTimeout) Error() string { return fmt.Sprintf("query timed out in %s", string(e)) }

func (e ErrTooManySamples) Error() string {
	return fmt.Sprintf("query processing would load too many samples into memory in %s", string(e))
}

func (e ErrStorage) Error() string { return e.Err.Error() }

// Unwrap lets errors.Is and errors.As see the storage's own error.
func (e ErrStorage) Unwrap() error { return e.Err }

// Where in a query's life a limit or cancellation was hit.
const (
	envQueueing = "query queue"
	envExec     = "query execution"
	envEval     = "expression evaluation"
)
