package tsdb

import (
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
)

// Series whose labels hash alike are told apart, and removing one keeps the
// others findable, whichever was indexed first.
func TestStripeHashCollisions(t *testing.T) {
	ls := []labels.Labels{up1, up2, rq1}
	for removed := range ls {
		ss := newStripeSeries()
		const hash = 42 // forced: real collisions are too rare to find
		var series []*memSeries
		for i, l := range ls {
			s, created := ss.getOrCreate(hash, l, func() storage.SeriesRef { return storage.SeriesRef(i + 1) })
			if !created {
				t.Fatalf("%s not created", l)
			}
			series = append(series, s)
		}
		st := &ss.stripes[hash&(stripeCount-1)]
		st.removeHash(hash, series[removed])
		for i, l := range ls {
			got := ss.getByHash(hash, l)
			switch {
			case i == removed && got != nil:
				t.Fatalf("removed %s still found", l)
			case i != removed && got != series[i]:
				t.Fatalf("after removing %s, %s gives %v", ls[removed], l, got)
			}
		}
	}
}
