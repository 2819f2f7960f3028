package scrape

import (
	"maps"

	"github.com/prometheus/common/model"
)

// Metadata is what a target's exposition says about one metric family.
type Metadata struct {
	Type model.MetricType
	Help string
	Unit string
}

// metadataCollector gathers TYPE, HELP and UNIT lines during one scrape.
// Entries persist across scrapes so that an unchanged exposition costs map
// lookups only; a family not seen in a successful scrape is dropped when it
// commits.
type metadataCollector struct {
	entries map[string]*metadataEntry
	iter    uint64 // scrape counter, to find families that went away
	// changed says entries differ from the last snapshot commit returned;
	// it outlives a scrape whose changes were not published.
	changed bool
}

type metadataEntry struct {
	md   Metadata
	seen uint64
}

func (c *metadataCollector) begin() {
	if c.entries == nil {
		c.entries = map[string]*metadataEntry{}
	}
	c.iter++
}

// entry returns the family's entry, creating it; looking up with
// string(name) does not allocate.
func (c *metadataCollector) entry(name []byte) *metadataEntry {
	e, ok := c.entries[string(name)]
	if !ok {
		e = &metadataEntry{}
		c.entries[string(name)] = e
		c.changed = true
	}
	e.seen = c.iter
	return e
}

func (c *metadataCollector) setType(name []byte, t model.MetricType) {
	if e := c.entry(name); e.md.Type != t {
		e.md.Type = t
		c.changed = true
	}
}

func (c *metadataCollector) setHelp(name, help []byte) {
	if e := c.entry(name); e.md.Help != string(help) {
		e.md.Help = string(help)
		c.changed = true
	}
}

func (c *metadataCollector) setUnit(name, unit []byte) {
	if e := c.entry(name); e.md.Unit != string(unit) {
		e.md.Unit = string(unit)
		c.changed = true
	}
}

// commit returns a snapshot for the target if anything changed since the
// last snapshot. As in Prometheus, whose scrape cache the metadata API reads
// while it is being filled, what a failed scrape's lines said is kept; only
// a successful scrape, whose exposition is known whole, drops the families
// it did not mention.
func (c *metadataCollector) commit(success bool) (map[string]Metadata, bool) {
	if success {
		for name, e := range c.entries {
			if e.seen != c.iter {
				delete(c.entries, name)
				c.changed = true
			}
		}
	}
	if !c.changed {
		return nil, false
	}
	c.changed = false
	snap := make(map[string]Metadata, len(c.entries))
	for name, e := range c.entries {
		snap[name] = e.md
	}
	return snap, true
}

// Metadata returns the metric metadata the target's scrapes gave, by metric
// family name: families of the last successful scrape, as the latest scrape
// that mentioned them described them. The map is the caller's.
func (t *Target) Metadata() map[string]Metadata {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return maps.Clone(t.metadata)
}

func (t *Target) setMetadata(md map[string]Metadata) {
	t.mu.Lock()
	t.metadata = md
	t.mu.Unlock()
}
