package scrape

import (
	"context"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
)

// nopAppender accepts everything and stores nothing: it measures the scrape
// path alone. It hands back a non-zero ref so staleness tracking works.
type nopAppender struct{}

func (nopAppender) Append(ref storage.SeriesRef, _ labels.Labels, _ int64, _ float64) (storage.SeriesRef, error) {
	if ref == 0 {
		ref = 1
	}
	return ref, nil
}
func (nopAppender) Commit() error   { return nil }
func (nopAppender) Rollback() error { return nil }

type nopAppendable struct{}

func (nopAppendable) Appender(context.Context) storage.Appender { return nopAppender{} }
