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
	key      string // the raw series text the entry is cached under.
	ref      storage.SeriesRef
	lset     labels.Labels
	lastIter uint64 // the scrape iteration the series was last seen in.
	slot     *trackSlot
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

	// stale holds the series appended by the scrape in progress and by the
	// previous one, which gets staleness markers for those now gone.
	stale staleTracker

	// seen and droppedSeen count the entries of series and dropped marked
	// in this iteration: when they are all, nothing can be evicted and
	// iterDone skips its scan.
	seen, droppedSeen int

	// sizeAtSuccess bounds growth while scrapes keep failing: failed scrapes
	// do not evict, so a target churning series on every failing scrape would
	// otherwise grow the cache without limit.
	sizeAtSuccess int

	// known is what lets a repeat scrape skip the text parser; it vouches
	// for this cache's keys, so it lives and dies with them.
	known knownPath
}

func newSeriesCache() *seriesCache {
	return &seriesCache{
		series:  map[string]*cacheEntry{},
		dropped: map[string]*uint64{},
		stale:   newStaleTracker(),
	}
}

// get looks the raw series up and marks it seen in this iteration. dup
// reports that the same text already appeared earlier in this scrape.
func (c *seriesCache) get(raw []byte) (e *cacheEntry, ok, dup bool) {
	e, ok = c.series[string(raw)]
	if !ok {
		return nil, false, false
	}
	return e, true, c.see(e)
}

// see marks a cached series seen in this iteration and reports whether it
// already was.
func (c *seriesCache) see(e *cacheEntry) (dup bool) {
	dup = e.lastIter == c.iter
	if !dup {
		c.seen++
	}
	e.lastIter = c.iter
	return dup
}

func (c *seriesCache) add(raw []byte, ref storage.SeriesRef, lset labels.Labels) *cacheEntry {
	e := &cacheEntry{key: string(raw), ref: ref, lset: lset, lastIter: c.iter}
	c.series[e.key] = e
	c.seen++
	return e
}

// isDropped reports whether metric relabeling dropped the raw series before,
// marking it seen.
func (c *seriesCache) isDropped(raw []byte) bool {
	it, ok := c.dropped[string(raw)]
	if ok {
		c.markDropped(it)
	}
	return ok
}

// markDropped marks a dropped series, by its entry in dropped, seen.
func (c *seriesCache) markDropped(it *uint64) {
	if *it != c.iter {
		c.droppedSeen++
	}
	*it = c.iter
}

func (c *seriesCache) addDropped(raw []byte) {
	it := c.iter
	c.dropped[string(raw)] = &it
	c.droppedSeen++
}

// setRef follows a reference change by storage (the series was garbage
// collected and recreated) without losing the series' staleness tracking.
func (c *seriesCache) setRef(e *cacheEntry, ref storage.SeriesRef) {
	if e.ref == ref {
		return
	}
	c.stale.move(e, ref, c.iter+1)
	e.ref = ref
}

// track records that the series was appended in this scrape.
func (c *seriesCache) track(e *cacheEntry) { c.stale.track(e, c.iter+1) }

// forgetCurrent discards what a failed scrape tracked, so that every series of
// the last successful scrape counts as gone.
func (c *seriesCache) forgetCurrent() { c.stale.forgetCurrent(c.iter + 1) }

// forEachStale calls f for every series of the last successful scrape that the
// current one did not append, stopping at the first error.
func (c *seriesCache) forEachStale(f func(*cacheEntry) error) error {
	return c.stale.forEachStale(c.iter+1, f)
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
	if evict && (c.seen < len(c.series) || c.droppedSeen < len(c.dropped)) {
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
	// The next iteration's stamp makes this one's appended series its
	// previous set and leaves its current set empty.
	c.iter++
	c.seen, c.droppedSeen = 0, 0
	return forcedFlush
}
