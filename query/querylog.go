package query

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// QueryLogger receives one entry per executed query, as Prometheus's query
// log (global.query_log_file) does. Log is called from the goroutine that
// ran the query, concurrently for concurrent queries.
type QueryLogger interface {
	Log(ctx context.Context, entry QueryLogEntry) error
	Close() error
}

// QueryLogEntry describes one executed query.
type QueryLogEntry struct {
	Query      string
	Start, End time.Time     // equal for an instant query
	Step       time.Duration // 0 for an instant query
	// Err is the query's error, nil if it succeeded.
	Err   error
	Stats *Stats
	// HTTPRequest is the API request that ran the query, nil for other
	// callers (rules).
	HTTPRequest *HTTPRequest
	// RequestID is the id internal/logging carried in the query's context,
	// "" if none.
	RequestID string
	// Time is when the query finished.
	Time time.Time
}

// HTTPRequest identifies the API request behind a query, for the query log.
type HTTPRequest struct {
	ClientIP string `json:"clientIP"`
	Method   string `json:"method"`
	Path     string `json:"path"`
}

type httpRequestKey struct{}

// WithHTTPRequest returns a context that tells the query log which API
// request runs the queries executed with it.
func WithHTTPRequest(ctx context.Context, r HTTPRequest) context.Context {
	return context.WithValue(ctx, httpRequestKey{}, r)
}

func httpRequestFrom(ctx context.Context) *HTTPRequest {
	r, ok := ctx.Value(httpRequestKey{}).(HTTPRequest)
	if !ok {
		return nil
	}
	return &r
}

// logTimeFormat is Prometheus's format for times in the query log.
const logTimeFormat = "2006-01-02T15:04:05.000Z07:00"

// queryLogLine is one line of the query log file. Fields are in
// alphabetical order, as Prometheus writes them.
type queryLogLine struct {
	Error       string         `json:"error,omitempty"`
	HTTPRequest *HTTPRequest   `json:"httpRequest,omitempty"`
	Params      queryLogParams `json:"params"`
	RequestID   string         `json:"requestId,omitempty"`
	Stats       *Stats         `json:"stats,omitempty"`
	TS          string         `json:"ts"`
}

type queryLogParams struct {
	End   string `json:"end"`
	Query string `json:"query"`
	Start string `json:"start"`
	Step  int64  `json:"step"` // seconds, as the API's step parameter
}

// MarshalJSON encodes the entry as one line of Prometheus's query log
// (without the trailing newline).
func (e QueryLogEntry) MarshalJSON() ([]byte, error) {
	l := queryLogLine{
		HTTPRequest: e.HTTPRequest,
		Params: queryLogParams{
			End:   e.End.UTC().Format(logTimeFormat),
			Query: e.Query,
			Start: e.Start.UTC().Format(logTimeFormat),
			Step:  int64(e.Step / time.Second),
		},
		RequestID: e.RequestID,
		Stats:     e.Stats,
		TS:        e.Time.UTC().Format(logTimeFormat),
	}
	if e.Err != nil {
		l.Error = e.Err.Error()
	}
	return json.Marshal(l)
}

// FileQueryLogger appends query log entries to a file as JSON lines. It is
// safe for concurrent use.
type FileQueryLogger struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

// NewFileQueryLogger opens (creating it if needed) the query log file at
// path for appending.
func NewFileQueryLogger(path string) (*FileQueryLogger, error) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o666)
	if err != nil {
		return nil, fmt.Errorf("opening query log file: %w", err)
	}
	return &FileQueryLogger{path: path, f: f}, nil
}

// Log writes the entry as one line. Each line goes out in a single write,
// so lines of concurrent queries never interleave.
func (l *FileQueryLogger) Log(_ context.Context, e QueryLogEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encoding query log entry: %w", err)
	}
	b = append(b, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return fmt.Errorf("writing query log %s: %w", l.path, os.ErrClosed)
	}
	if _, err := l.f.Write(b); err != nil {
		return fmt.Errorf("writing query log: %w", err)
	}
	return nil
}

// Close closes the file; later Log calls fail.
func (l *FileQueryLogger) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("closing query log %s: %w", l.path, err)
	}
	return nil
}
