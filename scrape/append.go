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

// appendExposition appends the samples of b, then staleness markers for the
// series of the previous successful scrape that b no longer has, all to app.
// On error the caller must roll app back: nothing of b may be kept.
//
// A repeat scrape whose every line is already known takes appendKnown, which
// skips the text parser; anything else takes appendParsed. Both give the same
// result for the same body.
func (sl *scrapeLoop) appendExposition(app storage.Appender, b []byte, contentType string, ts time.Time) (appendResult, error) {
	if res, ok, err := sl.appendKnown(app, b, contentType, ts); ok {
		return res, err
	}
	return sl.appendParsed(app, b, contentType, ts)
}

// appendParsed runs b through the text parser, resolving the labels of
// series new to the cache.
func (sl *scrapeLoop) appendParsed(app storage.Appender, b []byte, contentType string, ts time.Time) (appendResult, error) {
	st := sl.newAppendState(ts)
	if len(b) == 0 {
		// An empty exposition is a successful scrape of nothing: every series
		// is gone. The cache is kept, as a momentarily empty target usually
		// comes back with the same series.
		if err := sl.appendStaleMarkers(app, st.defTime); err != nil {
			return st.res, err
		}
		sl.iterDone(false)
		return st.res, nil
	}

	p, perr := textparse.New(b, contentType, nil, textparse.ParserOptions{
		IgnoreNativeHistograms: true,
		FallbackContentType:    sl.settings.fallbackMediaType,
	})
	if p == nil {
		return st.res, fmt.Errorf("cannot choose a parser: %w", perr)
	}
	if perr != nil {
		sl.logger.Debug("Using fallback scrape protocol", "content_type", contentType, "err", perr)
	}
	known := &sl.cache.known
	known.parserChosen(contentType, sl.settings.fallbackMediaType, perr, formatOf(p), sl.cache.iter)
	whole := false
	defer func() { known.parseDone(whole) }()

	sl.meta.begin()
	var (
		s         = sl.settings
		lset      labels.Labels
		lastEntry []byte // the last parsed entry, to place a parse error.
	)
	for {
		et, err := p.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				whole = true
				break
			}
			return st.res, parseError(b, lastEntry, contentType, err)
		}
		switch et {
		case textparse.EntrySeries:
		case textparse.EntryType:
			var typ model.MetricType
			lastEntry, typ = p.Type()
			sl.meta.setType(lastEntry, typ)
			known.rememberMeta(b, et, lastEntry, nil, typ)
			continue
		case textparse.EntryHelp:
			var help []byte
			lastEntry, help = p.Help()
			sl.meta.setHelp(lastEntry, help)
			known.rememberMeta(b, et, lastEntry, help, "")
			continue
		case textparse.EntryUnit:
			var unit []byte
			lastEntry, unit = p.Unit()
			sl.meta.setUnit(lastEntry, unit)
			known.rememberMeta(b, et, lastEntry, unit, "")
			continue
		case textparse.EntryComment:
			lastEntry = p.Comment()
			known.rememberComment(b, lastEntry)
			continue
		default:
			// Native histograms are not stored yet; IgnoreNativeHistograms
			// makes the parsers emit classic series for those that have them.
			continue
		}

		st.res.total++
		met, pts, v := p.Series()
		lastEntry = met
		exposed := pts != nil && s.honorTimestamps
		t := st.defTime
		if exposed {
			t = *pts
		}

		if sl.cache.isDropped(met) {
			continue
		}
		e, cached, dup := sl.cache.get(met)
		if cached {
			lset = e.lset
		} else {
			p.Labels(&lset)
			lset = sl.mutateSampleLabels(lset)
			if lset.IsEmpty() {
				sl.cache.addDropped(met)
				continue
			}
			if !lset.Has(model.MetricNameLabel) {
				return st.res, fmt.Errorf("series %q has no metric name after relabeling", met)
			}
			if !lset.IsValid(s.validation) {
				return st.res, fmt.Errorf("invalid metric name or label names: %s", lset.String())
			}
			// Cached series passed this check under the same settings: a
			// change of limits starts a loop with a fresh cache.
			if err := s.labelLimits.check(lset); err != nil {
				sl.metrics.labelLimitsExceeded.Inc()
				return st.res, err
			}
		}
		if err := st.appendSample(app, met, e, lset, dup, exposed, t, v); err != nil {
			return st.res, err
		}
	}
	return st.finish(app)
}

// formatOf names the format of a parser textparse.New chose, for the known
// path; OpenMetrics 2.0 and protobuf are parsed in full every time.
func formatOf(p textparse.Parser) knownFormat {
	switch p.(type) {
	case *textparse.PromParser:
		return formatText
	case *textparse.OpenMetricsParser:
		return formatOpenMetrics
	}
	return formatNone
}

// appendState is what one scrape's append accumulates, whichever path reads
// the exposition.
type appendState struct {
	sl       *scrapeLoop
	res      appendResult
	defTime  int64 // the scrape's timestamp, for samples without their own.
	maxTime  int64 // exposed timestamps after this are out of bounds.
	appended int   // samples counted against sample_limit.
	limitHit bool
	ierrs    ingestErrors
}

func (sl *scrapeLoop) newAppendState(ts time.Time) appendState {
	return appendState{
		sl:      sl,
		defTime: timestamp.FromTime(ts),
		maxTime: timestamp.FromTime(time.Now().Add(maxAheadTime)),
	}
}

// appendSample appends one sample of a series that metric relabeling kept.
// e is the series' cache entry, nil for a series new to the cache, whose
// final labels are lset. dup says the same series text came earlier in this
// scrape; exposed that t is the exposition's own timestamp. Samples storage
// rejects individually are counted, not returned.
func (st *appendState) appendSample(app storage.Appender, met []byte, e *cacheEntry, lset labels.Labels, dup, exposed bool, t int64, v float64) error {
	sl, s := st.sl, st.sl.settings
	// Counted before the limit and ingest checks: the report series says
	// how many samples relabeling left, whatever storage then did.
	st.res.added++

	if dup && !exposed {
		st.ierrs.duplicate++
		return nil
	}
	if s.sampleLimit > 0 {
		if st.appended++; st.appended > s.sampleLimit {
			// Keep reading so the report counts the whole exposition.
			st.limitHit = true
			return nil
		}
	}
	if t > st.maxTime {
		st.ierrs.outOfBounds++
		return nil
	}

	var ref storage.SeriesRef
	if e != nil {
		ref = e.ref
	}
	newRef, aerr := app.Append(ref, lset, t, v)
	switch {
	case aerr == nil:
	case errors.Is(aerr, storage.ErrOutOfOrderSample):
		st.ierrs.outOfOrder++
		return nil
	case errors.Is(aerr, storage.ErrDuplicateSampleForTimestamp):
		st.ierrs.duplicate++
		return nil
	case errors.Is(aerr, storage.ErrOutOfBounds), errors.Is(aerr, storage.ErrTooOldSample):
		st.ierrs.outOfBounds++
		return nil
	default:
		return fmt.Errorf("appending %s: %w", met, aerr)
	}
	if e != nil {
		if newRef != 0 {
			sl.cache.setRef(e, newRef)
		}
	} else {
		e = sl.cache.add(met, newRef, lset)
		st.res.seriesAdded++
	}
	// A sample with an exposed timestamp is the exporter's to manage:
	// it gets no staleness marker unless track_timestamps_staleness.
	if !exposed || s.trackTimestampsStaleness {
		sl.cache.track(e)
	}
	return nil
}

// finish closes a scrape whose every sample went through appendSample: the
// sample limit, then staleness markers for the series that went away.
func (st *appendState) finish(app storage.Appender) (appendResult, error) {
	sl, s := st.sl, st.sl.settings
	sl.recordIngestErrors(st.ierrs)
	if st.limitHit {
		sl.metrics.sampleLimitExceeded.Inc()
		return st.res, fmt.Errorf("%w (%d samples after metric relabeling, limit %d)", errSampleLimit, st.appended, s.sampleLimit)
	}
	if err := sl.appendStaleMarkers(app, st.defTime); err != nil {
		return st.res, err
	}
	sl.iterDone(true)
	return st.res, nil
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
