package scrape

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"

	"github.com/argusmon/argus/storage"
)

// scrapeTimestampTolerance is how far a scrape may start from its scheduled
// instant and still be stamped with the scheduled time. Exactly periodic
// timestamps compress to almost nothing in the TSDB; Go timers jitter by a
// millisecond or so.
const scrapeTimestampTolerance = 2 * time.Millisecond

// loopDeps is what a loop borrows from its manager and pool.
type loopDeps struct {
	appendable Appendable
	// appCtx is handed to Appender; it is never cancelled so that the final
	// staleness markers can still be written during shutdown.
	appCtx context.Context
	// scrapeCtx bounds HTTP requests. It is the manager's: stopping one loop
	// for a reload lets its in-flight scrape finish.
	scrapeCtx context.Context
	buffers   *sync.Pool
	lines     *sync.Pool // of *[]knownLine, see appendKnown.
	metrics   *metrics
	logger    *slog.Logger
	seed      uint64
}

// scrapeLoop scrapes one target every interval until stopped. All its state
// except the target's status is confined to its goroutine; after the run
// goroutine exits, whoever stopped the loop may use the cache.
type scrapeLoop struct {
	loopDeps
	target   *Target
	settings *poolSettings
	scraper  *targetScraper
	cache    *seriesCache
	report   *reportSeries

	lb        *labels.Builder
	conflicts []labels.Label
	meta      metadataCollector

	lastBodySize int
	lastStart    time.Time // wall time the last scrape began.
	lastScrapeTS time.Time // timestamp the last scrape's samples got.

	// forced, when set, fails every scrape without contacting the target
	// (target_limit exceeded). The pool sets it while the loop runs.
	forced atomic.Pointer[error]

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// setForcedErr makes every following scrape fail with err, or scrape
// normally again if err is nil.
func (sl *scrapeLoop) setForcedErr(err error) {
	if err == nil {
		sl.forced.Store(nil)
		return
	}
	sl.forced.Store(&err)
}

func newScrapeLoop(deps loopDeps, t *Target, s *poolSettings, sc *targetScraper, cache *seriesCache) *scrapeLoop {
	if cache == nil {
		cache = newSeriesCache()
	}
	ctx, cancel := context.WithCancel(context.Background())
	deps.logger = deps.logger.With("target", t.url.Redacted())
	return &scrapeLoop{
		loopDeps: deps,
		target:   t,
		settings: s,
		scraper:  sc,
		cache:    cache,
		report:   newReportSeries(t),
		lb:       labels.NewBuilder(labels.EmptyLabels()),
		ctx:      ctx,
		cancel:   cancel,
		done:     make(chan struct{}),
	}
}

// start runs the loop in its own goroutine.
func (sl *scrapeLoop) start() { go sl.run() }

// stop asks the loop to end after any scrape in progress; wait blocks until it
// has. They are separate so that a pool can stop many loops in parallel.
func (sl *scrapeLoop) stop() { sl.cancel() }
func (sl *scrapeLoop) wait() { <-sl.done }

func (sl *scrapeLoop) run() {
	defer close(sl.done)
	interval := sl.target.interval

	first := time.NewTimer(sl.target.offset(time.Now(), interval, sl.seed))
	select {
	case <-first.C:
	case <-sl.ctx.Done():
		first.Stop()
		return
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	scheduled := time.Now().Round(0)
	tolerance := min(interval/100, scrapeTimestampTolerance)

	for {
		select {
		case <-sl.ctx.Done():
			return
		default:
		}
		// Round(0) strips the monotonic reading so that Sub compares wall
		// clocks, which is what the stored timestamps are.
		now := time.Now().Round(0)
		for now.Sub(scheduled) >= interval { // ticks were skipped
			scheduled = scheduled.Add(interval)
		}
		ts := now
		if now.Sub(scheduled) <= tolerance {
			ts = scheduled
		}
		sl.scrapeAndReport(ts)

		select {
		case <-sl.ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// scrapeAndReport performs one scrape and commits its samples, staleness
// markers and report series together. A scrape that fails at any point
// commits no scraped sample: only the report (up=0) and staleness markers for
// everything the previous scrape had.
func (sl *scrapeLoop) scrapeAndReport(ts time.Time) {
	start := time.Now()
	sl.metrics.scrapes.Inc()
	if !sl.lastStart.IsZero() {
		sl.metrics.intervalLength.WithLabelValues(sl.target.interval.String()).Observe(start.Sub(sl.lastStart).Seconds())
	}
	sl.lastStart = start
	sl.lastScrapeTS = ts

	buf := sl.getBuffer()
	defer sl.buffers.Put(buf)

	var (
		contentType string
		scrapeErr   error
	)
	if forced := sl.forced.Load(); forced != nil {
		scrapeErr = *forced
	} else {
		ctx, cancel := context.WithTimeout(sl.scrapeCtx, sl.target.timeout)
		contentType, scrapeErr = sl.scraper.scrape(ctx, buf)
		cancel()
	}
	if errors.Is(scrapeErr, errBodySizeLimit) {
		sl.metrics.bodySizeExceeded.Inc()
	}

	app := sl.appendable.Appender(sl.appCtx)
	var res appendResult
	if scrapeErr == nil {
		if buf.Len() > 0 {
			sl.lastBodySize = buf.Len()
		}
		var appErr error
		res, appErr = sl.appendExposition(app, buf.Bytes(), contentType, ts)
		if appErr != nil {
			if err := app.Rollback(); err != nil {
				sl.logger.Warn("Rolling back a failed scrape failed", "err", err)
			}
			app = sl.appendable.Appender(sl.appCtx)
			scrapeErr = appErr
		}
	}
	if scrapeErr != nil {
		sl.logger.Debug("Scrape failed", "err", scrapeErr)
		app = sl.markAllStale(app, timestamp.FromTime(ts))
	}

	up := 0.0
	if scrapeErr == nil {
		up = 1
	}
	dur := time.Since(start)
	err := sl.report.append(app, timestamp.FromTime(ts), [numReportSeries]float64{
		reportUp:                 up,
		reportDuration:           dur.Seconds(),
		reportSamplesScraped:     float64(res.total),
		reportSamplesPostRelabel: float64(res.added),
		reportSeriesAdded:        float64(res.seriesAdded),
	})
	if err != nil {
		_ = app.Rollback()
		sl.logger.Warn("Appending scrape report failed", "err", err)
		scrapeErr = errors.Join(scrapeErr, err)
	} else if err := app.Commit(); err != nil {
		sl.logger.Error("Scrape commit failed", "err", err)
		scrapeErr = errors.Join(scrapeErr, err)
	}
	// As in Prometheus, what a failed scrape's lines said about metadata
	// shows at once; see metadataCollector.commit.
	if md, changed := sl.meta.commit(scrapeErr == nil); changed {
		sl.target.setMetadata(md)
	}
	sl.target.report(ts, dur, scrapeErr)
}

// markAllStale writes staleness markers for every series of the last
// successful scrape into app, after a scrape that yielded nothing. If storage
// refuses them, the markers are dropped (with a log line) so the report
// series can still go out on a fresh appender.
func (sl *scrapeLoop) markAllStale(app storage.Appender, t int64) storage.Appender {
	sl.cache.forgetCurrent()
	err := sl.appendStaleMarkers(app, t)
	sl.iterDone(false)
	if err == nil {
		return app
	}
	sl.logger.Warn("Appending staleness markers failed", "err", err)
	_ = app.Rollback()
	return sl.appendable.Appender(sl.appCtx)
}

// writeEndOfRunStaleness marks every series of the stopped loop's target stale
// at t, report series included. It runs after the loop goroutine has exited.
func (sl *scrapeLoop) writeEndOfRunStaleness(t time.Time) {
	if sl.lastScrapeTS.IsZero() {
		return // never scraped, nothing to end.
	}
	app := sl.appendable.Appender(sl.appCtx)
	ms := timestamp.FromTime(t)
	sl.cache.forgetCurrent()
	err := sl.appendStaleMarkers(app, ms)
	if err == nil {
		err = sl.report.appendStale(app, ms)
	}
	sl.iterDone(false)
	if err != nil {
		_ = app.Rollback()
		sl.logger.Warn("Appending end-of-run staleness markers failed", "err", err)
		return
	}
	if err := app.Commit(); err != nil {
		sl.logger.Warn("Committing end-of-run staleness markers failed", "err", err)
	}
}

// staleAfterRemoval writes the end-of-run markers for a target that left the
// configuration. Like Prometheus it waits until just past the second scrape
// the target would have had: if the same series come back under a new loop
// (a relabeling change, a job rename) they will have been scraped by then and
// the markers are rejected as out of order instead of punching a gap. On
// shutdown it writes them at once.
func (sl *scrapeLoop) staleAfterRemoval(shutdown <-chan struct{}) {
	if sl.lastScrapeTS.IsZero() {
		return
	}
	interval := sl.target.interval
	staleAt := sl.lastScrapeTS.Add(interval)
	wait := time.Until(staleAt.Add(interval + interval/10))
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-shutdown:
		if now := time.Now(); now.Before(staleAt) {
			staleAt = now
		}
	}
	sl.writeEndOfRunStaleness(staleAt)
}

func (sl *scrapeLoop) getBuffer() *bytes.Buffer {
	buf := sl.buffers.Get().(*bytes.Buffer)
	buf.Reset()
	// Sizing up front avoids the copies of growing to a body we have seen.
	buf.Grow(sl.lastBodySize + bytes.MinRead)
	return buf
}

// newBufferPool pools scrape bodies across all loops of a manager: holding
// one body per target between scrapes would cost memory for nothing.
func newBufferPool() *sync.Pool {
	return &sync.Pool{New: func() any { return new(bytes.Buffer) }}
}
