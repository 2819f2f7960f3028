package scrape

import (
	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/storage"
)

// cacheIdleScrapes is how many successful scrapes a series may be absent from
// before its cache entry is evicted. Keeping it for one extra scrape spares a
// flapping series the full label build on its return.
const cacheIdleScrapes = 2

// cacheEntry is what a target's raw series text resolves to.
type cacheEntry struct {
	ref      storage.SeriesRef
	lset     labels.Labels
	lastIter uint64 // the scrape iteration the series was last seen in.
}

// seriesCache maps the raw series bytes of one target's exposition (the text
// parser's Series() bytes, e.g. `http_requests_total{code="200"}`) to the
// final label set and storage reference, so that a series seen before is
// appended without parsing its labels, relabeling or hashing them. It also
// remembers which series each scrape appended, to write staleness markers for
// those that disappear. It is owned by one loop goroutine at a time.
type seriesCache struct {
	iter uint64

	series  map[string]*cacheEntry
	dropped map[string]*uint64 // series metric relabeling dropped, by raw text; value is lastIter.

	// cur holds the series appended by the scrape in progress, prev those of
	// the last successful scrape; stale = prev - cur. Keyed by ref rather than
	// raw text so that one series exposed under two spellings is one series.
	cur, prev map[storage.SeriesRef]*cacheEntry

	// sizeAtSuccess bounds growth while scrapes keep failing: failed scrapes
	// do not evict, so a target churning series on every failing scrape would
	// otherwise grow the cache without limit.
	sizeAtSuccess int
}

func newSeriesCache() *seriesCache {
	return &seriesCache{
		series:  map[string]*cacheEntry{},
		dropped: map[string]*uint64{},
		cur:     map[storage.SeriesRef]*cacheEntry{},
		prev:    map[storage.SeriesRef]*cacheEntry{},
	}
}

// get looks the raw series up and marks it seen in this iteration. dup
// reports that the same text already appeared earlier in this scrape.
func (c *seriesCache) get(raw []byte) (e *cacheEntry, ok, dup bool) {
	e, ok = c.series[string(raw)]
	if !ok {
		return nil, false, false
	}
	dup = e.lastIter == c.iter
	e.lastIter = c.iter
	return e, true, dup
}

func (c *seriesCache) add(raw []byte, ref storage.SeriesRef, lset labels.Labels) *cacheEntry {
	e := &cacheEntry{ref: ref, lset: lset, lastIter: c.iter}
	c.series[string(raw)] = e
	return e
}

// isDropped reports whether metric relabeling dropped the raw series before,
// marking it seen.
func (c *seriesCache) isDropped(raw []byte) bool {
	it, ok := c.dropped[string(raw)]
	if ok {
		*it = c.iter
	}
	return ok
}

func (c *seriesCache) addDropped(raw []byte) {
	it := c.iter
	c.dropped[string(raw)] = &it
}

// setRef follows a reference change by storage (the series was garbage
// collected and recreated) without losing the series' staleness tracking.
func (c *seriesCache) setRef(e *cacheEntry, ref storage.SeriesRef) {
	if e.ref == ref {
		return
	}
	for _, m := range [2]map[storage.SeriesRef]*cacheEntry{c.prev, c.cur} {
		if m[e.ref] == e {
			delete(m, e.ref)
			m[ref] = e
		}
	}
	e.ref = ref
}

// track records that the series was appended in this scrape.
func (c *seriesCache) track(e *cacheEntry) {
	if e.ref != 0 {
		c.cur[e.ref] = e
	}
}

// forgetCurrent discards what a failed scrape tracked, so that every series of
// the last successful scrape counts as gone.
func (c *seriesCache) forgetCurrent() { clear(c.cur) }

// forEachStale calls f for every series of the last successful scrape that the
// current one did not append, stopping at the first error.
func (c *seriesCache) forEachStale(f func(*cacheEntry) error) error {
	for ref, e := range c.prev {
		if _, ok := c.cur[ref]; ok {
			continue
		}
		if err := f(e); err != nil {
			return err
		}
	}
	return nil
}

// iterDone closes a scrape iteration. After a successful scrape the series it
// appended become the reference set for staleness and long-unseen entries
// are evicted.
func (c *seriesCache) iterDone(success bool) (forcedFlush bool) {
	size := len(c.series) + len(c.dropped)
	evict := success
	if !success && size > 2*c.sizeAtSuccess+1000 {
		evict, forcedFlush = true, true
	}
	if evict {
		for k, e := range c.series {
			if c.iter-e.lastIter >= cacheIdleScrapes {
				delete(c.series, k)
			}
		}
		for k, it := range c.dropped {
			if c.iter-*it >= cacheIdleScrapes {
				delete(c.dropped, k)
			}
		}
	}
	if success {
		c.sizeAtSuccess = len(c.series) + len(c.dropped)
	}
	// Swap rather than reallocate: both maps keep their buckets.
	c.prev, c.cur = c.cur, c.prev
	clear(c.cur)
	c.iter++
	return forcedFlush
}
