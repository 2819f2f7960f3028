package scrape

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/model/value"

	"github.com/argusmon/argus/storage"
)

// maxAheadTime is how far in the future an exposed timestamp may be; later
// samples are rejected as out of bounds, as in Prometheus.
const maxAheadTime = 10 * time.Minute

var errSampleLimit = errors.New("sample limit exceeded")

// appendResult counts what one scrape produced, for the report series.
type appendResult struct {
	total       int // samples in the exposition.
	added       int // samples left after metric relabeling.
	seriesAdded int // samples of series new to the target's cache.
}

// ingestErrors counts samples storage rejected individually; those are
// skipped, not fatal to the scrape.
type ingestErrors struct {
	outOfOrder, duplicate, outOfBounds int
}

// appendExposition parses b and appends its samples, then staleness markers
// for the series of the previous successful scrape that b no longer has, all
// to app. On error the caller must roll app back: nothing of b may be kept.
func (sl *scrapeLoop) appendExposition(app storage.Appender, b []byte, contentType string, ts time.Time) (res appendResult, err error) {
	defTime := timestamp.FromTime(ts)
	if len(b) == 0 {
		// An empty exposition is a successful scrape of nothing: every series
		// is gone. The cache is kept, as a momentarily empty target usually
		// comes back with the same series.
		if err := sl.appendStaleMarkers(app, defTime); err != nil {
			return res, err
		}
		sl.iterDone(false)
		return res, nil
	}

	p, perr := textparse.New(b, contentType, nil, textparse.ParserOptions{
		IgnoreNativeHistograms: true,
		FallbackContentType:    sl.settings.fallbackMediaType,
	})
	if p == nil {
		return res, fmt.Errorf("cannot choose a parser: %w", perr)
	}
	if perr != nil {
		sl.logger.Debug("Using fallback scrape protocol", "content_type", contentType, "err", perr)
	}

	sl.meta.begin()
	var (
		s         = sl.settings
		lset      labels.Labels
		lastEntry []byte // the last parsed entry, to place a parse error.
		appended  int
		limitHit  bool
		ierrs     ingestErrors
		maxTime   = timestamp.FromTime(time.Now().Add(maxAheadTime))
	)
	for {
		et, err := p.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return res, parseError(b, lastEntry, contentType, err)
		}
		switch et {
		case textparse.EntrySeries:
		case textparse.EntryType:
			var typ model.MetricType
			lastEntry, typ = p.Type()
			sl.meta.setType(lastEntry, typ)
			continue
		case textparse.EntryHelp:
			var help []byte
			lastEntry, help = p.Help()
			sl.meta.setHelp(lastEntry, help)
			continue
		case textparse.EntryUnit:
			var unit []byte
			lastEntry, unit = p.Unit()
			sl.meta.setUnit(lastEntry, unit)
			continue
		case textparse.EntryComment:
			lastEntry = p.Comment()
			continue
		default:
			// Native histograms are not stored yet; IgnoreNativeHistograms
			// makes the parsers emit classic series for those that have them.
			continue
		}

		res.total++
		met, pts, v := p.Series()
		lastEntry = met
		if !s.honorTimestamps {
			pts = nil
		}
		t := defTime
		if pts != nil {
			t = *pts
		}

		if sl.cache.isDropped(met) {
			continue
		}
		e, cached, dup := sl.cache.get(met)
		var ref storage.SeriesRef
		if cached {
			ref, lset = e.ref, e.lset
		} else {
			p.Labels(&lset)
			lset = sl.mutateSampleLabels(lset)
			if lset.IsEmpty() {
				sl.cache.addDropped(met)
				continue
			}
			if !lset.Has(model.MetricNameLabel) {
				return res, fmt.Errorf("series %q has no metric name after relabeling", met)
			}
			if !lset.IsValid(s.validation) {
				return res, fmt.Errorf("invalid metric name or label names: %s", lset.String())
			}
			// Cached series passed this check under the same settings: a
			// change of limits starts a loop with a fresh cache.
			if err := s.labelLimits.check(lset); err != nil {
				sl.metrics.labelLimitsExceeded.Inc()
				return res, err
			}
		}
		// Counted before the limit and ingest checks: the report series says
		// how many samples relabeling left, whatever storage then did.
		res.added++

		if dup && pts == nil {
			ierrs.duplicate++
			continue
		}
		if s.sampleLimit > 0 {
			if appended++; appended > s.sampleLimit {
				// Keep parsing so the report counts the whole exposition.
				limitHit = true
				continue
			}
		}
		if t > maxTime {
			ierrs.outOfBounds++
			continue
		}

		newRef, aerr := app.Append(ref, lset, t, v)
		switch {
		case aerr == nil:
		case errors.Is(aerr, storage.ErrOutOfOrderSample):
			ierrs.outOfOrder++
			continue
		case errors.Is(aerr, storage.ErrDuplicateSampleForTimestamp):
			ierrs.duplicate++
			continue
		case errors.Is(aerr, storage.ErrOutOfBounds), errors.Is(aerr, storage.ErrTooOldSample):
			ierrs.outOfBounds++
			continue
		default:
			return res, fmt.Errorf("appending %s: %w", met, aerr)
		}
		if cached {
			if newRef != 0 {
				sl.cache.setRef(e, newRef)
			}
		} else {
			e = sl.cache.add(met, newRef, lset)
			res.seriesAdded++
		}
		// A sample with an exposed timestamp is the exporter's to manage:
		// it gets no staleness marker unless track_timestamps_staleness.
		if pts == nil || s.trackTimestampsStaleness {
			sl.cache.track(e)
		}
	}

	sl.recordIngestErrors(ierrs)
	if limitHit {
		sl.metrics.sampleLimitExceeded.Inc()
		return res, fmt.Errorf("%w (%d samples after metric relabeling, limit %d)", errSampleLimit, appended, s.sampleLimit)
	}
	if err := sl.appendStaleMarkers(app, defTime); err != nil {
		return res, err
	}
	sl.iterDone(true)
	return res, nil
}

// appendStaleMarkers writes a staleness marker for every series of the
// previous successful scrape that the current one has not appended.
func (sl *scrapeLoop) appendStaleMarkers(app storage.Appender, t int64) error {
	stale := math.Float64frombits(value.StaleNaN)
	return sl.cache.forEachStale(func(e *cacheEntry) error {
		_, err := app.Append(e.ref, e.lset, t, stale)
		if err != nil && !isIgnorableStaleError(err) {
			return fmt.Errorf("appending staleness marker for %s: %w", e.lset.String(), err)
		}
		return nil
	})
}

func (sl *scrapeLoop) iterDone(success bool) {
	if sl.cache.iterDone(success) {
		sl.metrics.cacheFlushForced.Inc()
	}
}

func (sl *scrapeLoop) recordIngestErrors(ie ingestErrors) {
	if ie.outOfOrder > 0 {
		sl.metrics.outOfOrder.Add(float64(ie.outOfOrder))
		sl.logger.Warn("Error on ingesting out-of-order samples", "num_dropped", ie.outOfOrder)
	}
	if ie.duplicate > 0 {
		sl.metrics.duplicate.Add(float64(ie.duplicate))
		sl.logger.Warn("Error on ingesting samples with different value but same timestamp", "num_dropped", ie.duplicate)
	}
	if ie.outOfBounds > 0 {
		sl.metrics.outOfBounds.Add(float64(ie.outOfBounds))
		sl.logger.Warn("Error on ingesting samples that are too old or are too far into the future", "num_dropped", ie.outOfBounds)
	}
}

// mutateSampleLabels attaches the target's labels to a scraped series and
// applies metric relabeling. It returns empty labels for a dropped series.
func (sl *scrapeLoop) mutateSampleLabels(lset labels.Labels) labels.Labels {
	lb := sl.lb
	lb.Reset(lset)
	if sl.settings.honorLabels {
		sl.target.public.Range(func(l labels.Label) {
			if !lset.Has(l.Name) {
				lb.Set(l.Name, l.Value)
			}
		})
	} else {
		conflicts := sl.conflicts[:0]
		sl.target.public.Range(func(l labels.Label) {
			if v := lset.Get(l.Name); v != "" {
				conflicts = append(conflicts, labels.Label{Name: l.Name, Value: v})
			}
			lb.Set(l.Name, l.Value)
		})
		if len(conflicts) > 0 {
			keepExposedLabels(lb, conflicts)
		}
		sl.conflicts = conflicts
	}
	if !relabel.ProcessBuilder(lb, sl.settings.metricRelabel...) {
		return labels.EmptyLabels()
	}
	return lb.Labels()
}

// keepExposedLabels stores exposed label values that target labels overrode
// under exported_<name>, prefixing again while that name is taken too.
// Shorter names go first so that `exported_job` exposed by the target is not
// clobbered by the renamed `job`.
func keepExposedLabels(lb *labels.Builder, conflicts []labels.Label) {
	slices.SortStableFunc(conflicts, func(a, b labels.Label) int { return len(a.Name) - len(b.Name) })
	for _, l := range conflicts {
		name := l.Name
		for {
			name = model.ExportedLabelPrefix + name
			if lb.Get(name) == "" {
				lb.Set(name, l.Value)
				break
			}
		}
	}
}

// parseError places a parser error on its line. Text parsers consume whole
// lines per entry, so the bad line is the first non-blank line after the last
// entry that parsed.
func parseError(b, lastEntry []byte, contentType string, err error) error {
	pos := 0
	if off, ok := offsetIn(b, lastEntry); ok {
		pos = off
		if i := bytes.IndexByte(b[pos:], '\n'); i >= 0 {
			pos += i + 1
		} else {
			pos = len(b)
		}
	}
	for pos < len(b) {
		end := bytes.IndexByte(b[pos:], '\n')
		if end < 0 {
			end = len(b) - pos
		}
		if len(bytes.TrimSpace(b[pos:pos+end])) > 0 {
			break
		}
		pos += end + 1
	}
	if pos >= len(b) {
		return fmt.Errorf("parsing %q exposition at end of input: %w", contentType, err)
	}
	line := bytes.Count(b[:pos], []byte{'\n'}) + 1
	return fmt.Errorf("parsing %q exposition at line %d: %w", contentType, line, err)
}

// offsetIn returns where sub starts within b if sub is a slice of b's memory.
// The parsers return slices of their input, which is what makes this work.
func offsetIn(b, sub []byte) (int, bool) {
	if len(sub) == 0 || cap(sub) > cap(b) {
		return 0, false
	}
	off := cap(b) - cap(sub)
	if off >= len(b) || &b[off] != &sub[0] {
		return 0, false
	}
	return off, true
}
