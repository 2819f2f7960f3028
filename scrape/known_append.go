package scrape

import (
	"sync"
	"time"

	"github.com/argusmon/argus/storage"
)

// knownLine is one line of a body the known path accepted, in body order:
// a comment line (meta) or a sample of a cached series (e) or of a series
// metric relabeling dropped (dropped).
type knownLine struct {
	meta       *metaLine
	e          *cacheEntry
	dropped    *uint64
	start, end int // the series text in the body.
	ts         int64
	v          float64
	hasTS      bool
}

// newLinePool pools the per-scrape line lists across a manager's loops, as
// bodies are: a list is as long as a target's exposition.
func newLinePool() *sync.Pool {
	return &sync.Pool{New: func() any { return new([]knownLine) }}
}

// appendKnown appends b without a parser if every line of it is known: a
// comment line the last full parse read, a blank line (text format), the
// final # EOF (OpenMetrics), or a sample of a series in the cache with a
// plain value and timestamp. ok is false, with nothing done, if the path
// does not apply; then appendParsed must read the body. Accepting the body is decided before anything is appended
// or any state changes, so that falling back changes no outcome.
func (sl *scrapeLoop) appendKnown(app storage.Appender, b []byte, contentType string, ts time.Time) (res appendResult, ok bool, err error) {
	k := &sl.cache.known
	if k.format == formatNone || contentType != k.contentType || sl.settings.fallbackMediaType != k.fallback {
		return res, false, nil
	}
	body, ok := k.linesOf(b)
	if !ok {
		return res, false, nil
	}
	if k.wait > 0 {
		k.wait--
		return res, false, nil
	}
	lp := sl.lines.Get().(*[]knownLine)
	defer func() {
		clear(*lp) // drop references to cache entries before pooling.
		*lp = (*lp)[:0]
		sl.lines.Put(lp)
	}()
	*lp, ok = sl.scanKnown(body, (*lp)[:0])
	k.tried(ok)
	if !ok {
		return res, false, nil
	}
	if k.parserNote != nil {
		sl.logger.Debug("Using fallback scrape protocol", "content_type", contentType, "err", k.parserNote)
	}
	res, err = sl.appendLines(app, body, *lp, ts)
	return res, true, err
}

// appendLines appends the known lines of b as appendParsed would have.
func (sl *scrapeLoop) appendLines(app storage.Appender, b []byte, lines []knownLine, ts time.Time) (appendResult, error) {
	st := sl.newAppendState(ts)
	honor := sl.settings.honorTimestamps
	sl.meta.begin()
	for i := range lines {
		l := &lines[i]
		switch {
		case l.meta != nil:
			l.meta.apply(&sl.meta)
		case l.dropped != nil:
			st.res.total++
			sl.cache.markDropped(l.dropped)
		default:
			st.res.total++
			dup := sl.cache.see(l.e)
			exposed := l.hasTS && honor
			t := st.defTime
			if exposed {
				t = l.ts
			}
			if err := st.appendSample(app, b[l.start:l.end], l.e, l.e.lset, dup, exposed, t, l.v); err != nil {
				return st.res, err
			}
		}
	}
	return st.finish(app)
}
