package unittest

import (
	"context"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/query/promqltest"
	"github.com/argusmon/argus/storage"
)

// storageAppendable writes rule output into the test storage, so later
// rules and the promql_expr_test checks see it.
type storageAppendable struct{ st *promqltest.Storage }

func (a storageAppendable) Appender(context.Context) storage.Appender {
	return storageAppender(a)
}

// storageAppender adds each sample at once: the test storage has no
// transactions, and one goroutine drives every evaluation, so there is
// no reader to hide a half-written batch from. Rollback therefore cannot
// undo anything; rules only roll back on errors, which fail the test.
type storageAppender struct{ st *promqltest.Storage }

func (a storageAppender) Append(ref storage.SeriesRef, l labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	return ref, a.st.Add(l, t, v)
}

func (storageAppender) Commit() error   { return nil }
func (storageAppender) Rollback() error { return nil }
