package query_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/query"
	"github.com/argusmon/argus/storage"
)

// histStorage holds one series whose samples are floats up to a point and
// then of a type the engine does not know, as native histograms will be.
type histStorage struct{ floats int }

func (h histStorage) Querier(int64, int64) (storage.Querier, error) { return histQuerier(h), nil }

type histQuerier histStorage

func (h histQuerier) Select(context.Context, bool, *storage.SelectHints, ...*labels.Matcher) storage.SeriesSet {
	return &histSet{floats: h.floats}
}
func (histQuerier) LabelValues(context.Context, string, ...*labels.Matcher) ([]string, error) {
	return nil, nil
}
func (histQuerier) LabelNames(context.Context, ...*labels.Matcher) ([]string, error) {
	return nil, nil
}
func (histQuerier) Close() error { return nil }

type histSet struct {
	floats int
	done   bool
}

func (s *histSet) Next() bool {
	if s.done {
		return false
	}
	s.done = true
	return true
}
func (s *histSet) At() storage.Series { return histSeries(s.floats) }
func (*histSet) Err() error           { return nil }

type histSeries int

func (histSeries) Labels() labels.Labels { return labels.FromStrings("__name__", "h") }
func (n histSeries) Iterator(storage.Iterator) storage.Iterator {
	return &histIter{floats: int(n), i: -1}
}

// histIter yields a sample every 10s from 0; the first 'floats' are
// floats, the rest report storage.ValueType(2).
type histIter struct{ floats, i int }

func (it *histIter) typ() storage.ValueType {
	if it.i >= 60 {
		return storage.ValNone
	}
	if it.i < it.floats {
		return storage.ValFloat
	}
	return storage.ValueType(2)
}
func (it *histIter) Next() storage.ValueType { it.i++; return it.typ() }
func (it *histIter) SeekTo(t int64) storage.ValueType {
	if it.i < 0 {
		it.i = 0
	}
	for it.i < 60 && it.AtT() < t {
		it.i++
	}
	return it.typ()
}
func (it *histIter) At() (int64, float64) { return it.AtT(), 1 }
func (it *histIter) AtT() int64           { return int64(it.i) * 10_000 }
func (*histIter) Err() error              { return nil }

// A query that meets a sample of an unknown type, whatever path reads it,
// fails with a clear error rather than returning a number.
func TestNativeHistogramSamplesAreRejected(t *testing.T) {
	eng := query.NewEngine(query.EngineOpts{})
	ctx := context.Background()
	at := time.UnixMilli(590_000)
	tests := []struct {
		name  string
		expr  string
		rng   bool
		start int64 // milliseconds; range queries only
	}{
		{"instant selector", "h", false, 0},
		{"range selector", "h[10m]", false, 0},
		{"range function", "rate(h[5m])", false, 0},
		{"aggregation", "sum(h)", false, 0},
		{"subquery", "max_over_time(h[5m:30s])", false, 0},
		{"range query", "h", true, 0},
		{"range query over a range function", "count_over_time(h[1m])", true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var (
				q   query.Query
				err error
			)
			st := histStorage{floats: 30} // floats for the first 5 minutes
			if tc.rng {
				q, err = eng.NewRangeQuery(ctx, st, tc.expr, time.UnixMilli(tc.start), at, time.Minute)
			} else {
				q, err = eng.NewInstantQuery(ctx, st, tc.expr, at)
			}
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			res := q.Exec(ctx)
			if !errors.Is(res.Err, query.ErrNativeHistograms) {
				t.Fatalf("err = %v, want ErrNativeHistograms", res.Err)
			}
			if res.Value != nil {
				t.Errorf("value = %v alongside the error", res.Value)
			}
			var se query.ErrStorage
			if errors.As(res.Err, &se) {
				t.Errorf("err %v is an ErrStorage; it must be an execution error", res.Err)
			}
			if msg := res.Err.Error(); !strings.Contains(msg, "native histograms are not supported yet") || !strings.Contains(msg, `{__name__="h"}`) {
				t.Errorf("err = %q, want it to say native histograms are not supported yet and name the series", msg)
			}
		})
	}

	// A query whose windows only see the float samples still works.
	q, err := eng.NewInstantQuery(ctx, histStorage{floats: 30}, "count_over_time(h[1m])", time.UnixMilli(200_000))
	if err != nil {
		t.Fatal(err)
	}
	vec, err := q.Exec(ctx).Vector()
	if err != nil || len(vec) != 1 || vec[0].F != 6 {
		t.Errorf("float-only window: %v, %v; want one sample of 6", vec, err)
	}
}
