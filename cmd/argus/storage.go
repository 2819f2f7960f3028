package main

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb"
)

// errNotReady is returned by storage calls made before the WAL is replayed.
var errNotReady = errors.New("storage is not ready: the WAL is still being replayed")

// readyStorage lets the HTTP server start before the database is open: it
// forwards to the database once set and refuses until then.
type readyStorage struct {
	db atomic.Pointer[tsdb.DB]
}

func (s *readyStorage) set(db *tsdb.DB) { s.db.Store(db) }

func (s *readyStorage) Querier(mint, maxt int64) (storage.Querier, error) {
	db := s.db.Load()
	if db == nil {
		return nil, errNotReady
	}
	return db.Querier(mint, maxt)
}

func (s *readyStorage) Appender(ctx context.Context) storage.Appender {
	db := s.db.Load()
	if db == nil {
		return notReadyAppender{}
	}
	return db.Appender(ctx)
}

// The admin API is served only once ready, so these forward unguarded
// beyond a nil check.

func (s *readyStorage) Delete(ctx context.Context, mint, maxt int64, ms ...*labels.Matcher) error {
	db := s.db.Load()
	if db == nil {
		return errNotReady
	}
	return db.Delete(ctx, mint, maxt, ms...)
}

func (s *readyStorage) CleanTombstones(ctx context.Context) error {
	db := s.db.Load()
	if db == nil {
		return errNotReady
	}
	return db.CleanTombstones(ctx)
}

func (s *readyStorage) Snapshot(dir string, withHead bool) error {
	db := s.db.Load()
	if db == nil {
		return errNotReady
	}
	return db.Snapshot(dir, withHead)
}

func (s *readyStorage) Dir() string {
	if db := s.db.Load(); db != nil {
		return db.Dir()
	}
	return ""
}

type notReadyAppender struct{}

func (notReadyAppender) Append(storage.SeriesRef, labels.Labels, int64, float64) (storage.SeriesRef, error) {
	return 0, errNotReady
}
func (notReadyAppender) Commit() error   { return errNotReady }
func (notReadyAppender) Rollback() error { return nil }
