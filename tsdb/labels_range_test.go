package tsdb

import (
	"context"
	"slices"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

// TestLabelNamesOutsideHeadRange: a label query for a time range the head
// does not cover answers nothing, as /api/v1/labels with start and end does
// in Prometheus.
func TestLabelNamesOutsideHeadRange(t *testing.T) {
	db := openDB(t, t.TempDir(), nil)
	app := db.Appender(context.Background())
	for ts := int64(1000); ts <= 2000; ts += 100 {
		if _, err := app.Append(0, labels.FromStrings("__name__", "m", "a", "1"), ts, 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mint, maxt int64
		names      []string
		values     []string
	}{
		{0, 1500, []string{"__name__", "a"}, []string{"1"}},
		{1500, 9000, []string{"__name__", "a"}, []string{"1"}},
		{5000, 6000, nil, nil},
	} {
		q, err := db.Querier(tc.mint, tc.maxt)
		if err != nil {
			t.Fatal(err)
		}
		names, err := q.LabelNames(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		values, err := q.LabelValues(context.Background(), "a")
		if err != nil {
			t.Fatal(err)
		}
		q.Close()
		if !slices.Equal(names, tc.names) || !slices.Equal(values, tc.values) {
			t.Errorf("[%d, %d]: names %v values %v, want %v %v", tc.mint, tc.maxt, names, values, tc.names, tc.values)
		}
	}
}
