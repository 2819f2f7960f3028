package scrape

import (
	"errors"
	"math"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"

	"github.com/argusmon/argus/storage"
)

// The report series every scrape appends, in this order.
const (
	reportUp = iota
	reportDuration
	reportSamplesScraped
	reportSamplesPostRelabel
	reportSeriesAdded
	numReportSeries
)

var reportNames = [numReportSeries]string{
	reportUp:                 "up",
	reportDuration:           "scrape_duration_seconds",
	reportSamplesScraped:     "scrape_samples_scraped",
	reportSamplesPostRelabel: "scrape_samples_post_metric_relabeling",
	reportSeriesAdded:        "scrape_series_added",
}

// reportSeries holds a target's report label sets and their storage
// references; the labels never change for a loop, so they are built once.
type reportSeries struct {
	lsets [numReportSeries]labels.Labels
	refs  [numReportSeries]storage.SeriesRef
}

func newReportSeries(t *Target) *reportSeries {
	r := &reportSeries{}
	lb := labels.NewBuilder(t.Labels())
	for i, name := range reportNames {
		lb.Set(model.MetricNameLabel, name)
		r.lsets[i] = lb.Labels()
	}
	return r
}

// append appends one value per report series at t. Out-of-order and
// duplicate rejections are expected when a target was restarted within the
// same interval and are ignored, as for scraped samples.
func (r *reportSeries) append(app storage.Appender, t int64, vals [numReportSeries]float64) error {
	for i := range r.lsets {
		ref, err := app.Append(r.refs[i], r.lsets[i], t, vals[i])
		switch {
		case err == nil:
			if ref != 0 {
				r.refs[i] = ref
			}
		case isIgnorableStaleError(err):
		default:
			return err
		}
	}
	return nil
}

// appendStale marks every report series stale at t.
func (r *reportSeries) appendStale(app storage.Appender, t int64) error {
	var vals [numReportSeries]float64
	for i := range vals {
		vals[i] = math.Float64frombits(value.StaleNaN)
	}
	return r.append(app, t, vals)
}

// isIgnorableStaleError reports rejections that a staleness marker or report
// sample may legitimately get: a newer loop for the same series already wrote
// at or after t.
func isIgnorableStaleError(err error) bool {
	return errors.Is(err, storage.ErrOutOfOrderSample) || errors.Is(err, storage.ErrDuplicateSampleForTimestamp)
}
