package scrape

import (
	"fmt"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// labelLimits bound the label sets a scrape may produce; 0 means unlimited.
// A series that breaches one fails the whole scrape, as in Prometheus, so
// that a misbehaving exporter is noticed rather than silently truncated.
type labelLimits struct {
	count       int
	nameLength  int
	valueLength int
}

func (ll labelLimits) none() bool { return ll.count == 0 && ll.nameLength == 0 && ll.valueLength == 0 }

// check returns an error naming the limit lset breaches, worded as
// Prometheus words it.
func (ll labelLimits) check(lset labels.Labels) error {
	if ll.none() {
		return nil
	}
	met := lset.Get(model.MetricNameLabel)
	if ll.count > 0 {
		if n := lset.Len(); n > ll.count {
			return fmt.Errorf("label_limit exceeded (metric: %.50s, number of labels: %d, limit: %d)", met, n, ll.count)
		}
	}
	if ll.nameLength == 0 && ll.valueLength == 0 {
		return nil
	}
	return lset.Validate(func(l labels.Label) error {
		if ll.nameLength > 0 && len(l.Name) > ll.nameLength {
			return fmt.Errorf("label_name_length_limit exceeded (metric: %.50s, label name: %.50s, length: %d, limit: %d)", met, l.Name, len(l.Name), ll.nameLength)
		}
		if ll.valueLength > 0 && len(l.Value) > ll.valueLength {
			return fmt.Errorf("label_value_length_limit exceeded (metric: %.50s, label name: %.50s, value: %.50q, length: %d, limit: %d)", met, l.Name, l.Value, len(l.Value), ll.valueLength)
		}
		return nil
	})
}
