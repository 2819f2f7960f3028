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
// lookups only; a family not seen in a scrape is dropped when it commits.
type metadataCollector struct {
	entries map[string]*metadataEntry
	iter    uint64 // scrape counter, to find families that went away
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
	c.changed = false
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

// commit drops the families the scrape did not mention and returns a
// snapshot for the target if anything changed since the last commit.
func (c *metadataCollector) commit() (map[string]Metadata, bool) {
	for name, e := range c.entries {
		if e.seen != c.iter {
			delete(c.entries, name)
			c.changed = true
		}
	}
	if !c.changed {
		return nil, false
	}
	snap := make(map[string]Metadata, len(c.entries))
	for name, e := range c.entries {
		snap[name] = e.md
	}
	return snap, true
}

// Metadata returns the metric metadata of the target's last successful
// scrape, by metric family name. The map is the caller's.
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
