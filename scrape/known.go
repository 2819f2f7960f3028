package scrape

import (
	"bytes"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/textparse"
)

// maxKnownBackoff caps how many scrapes in a row skip the known-lines path
// after it kept failing, for a target whose series churn on every scrape.
const maxKnownBackoff = 32

// knownFormat is the exposition format whose parser the known path stands
// in for.
type knownFormat uint8

const (
	formatNone        knownFormat = iota // a parser the known path cannot replace.
	formatText                           // the Prometheus text format 0.0.4.
	formatOpenMetrics                    // OpenMetrics 1.0.
)

// knownPath is what a series cache needs to read a repeat scrape of the
// Prometheus text format or OpenMetrics 1.0 without their parser: which
// parser the last full parse chose, and the comment lines it read with what
// they meant.
//
// It rests on one property of both formats' lexers: every entry is lexed
// from the start of a line to its newline with nothing carried over from
// the lines before. So a comment line byte-identical to one the parser read
// means the same again, and a line made of a series text the parser produced
// before, a space, a value and optionally a space and a timestamp is lexed as
// exactly that. (The OpenMetrics parser does carry the last TYPE over, but
// only into the labels of series new to the cache, which the known path
// never meets, and into _created handling, which Argus does not ask for.)
type knownPath struct {
	// format is the parser the last full parse used for contentType under
	// the fallback protocol fallback; parserNote is the warning
	// textparse.New gave then, logged again by the known path.
	format      knownFormat
	contentType string
	fallback    string
	parserNote  error
	// since is the cache iteration at which the current run of scrapes in
	// format began: only cache entries seen since are series texts that
	// format's parser produced (another parser may have cached others, with
	// other labels for the same text).
	since uint64

	// meta maps a comment line, without its newline, to what the parser
	// made of it. Lines not read by the latest full parse are evicted.
	meta     map[string]*metaLine
	metaIter uint64
	parsing  bool // a text-parser parse is recording comment lines.
	// metaAtWhole is the size of meta after the last parse of a whole body.
	metaAtWhole int

	// order holds the cache entry of each sample line of the last scan, in
	// body order (nil for a dropped series): a target exposes its series in
	// the same order every time, so line i is checked against order[i]
	// before the cache is searched.
	order []*cacheEntry

	// misses counts consecutive scrapes the known path gave up on; wait is
	// how many more scrapes skip it before it is tried again.
	misses, wait int
}

// metaLine is one comment line as the parser read it.
type metaLine struct {
	kind textparse.Entry // EntryHelp, EntryType, EntryUnit or EntryComment.
	name []byte
	text []byte // HELP or UNIT text, after unescaping.
	typ  model.MetricType
	seen uint64
}

// apply gives the metadata collector what the parser did for the line.
func (m *metaLine) apply(c *metadataCollector) {
	switch m.kind {
	case textparse.EntryType:
		c.setType(m.name, m.typ)
	case textparse.EntryHelp:
		c.setHelp(m.name, m.text)
	case textparse.EntryUnit:
		c.setUnit(m.name, m.text)
	}
}

// parserChosen records the parser a full parse of the scrape at cache
// iteration iter is about to use.
func (k *knownPath) parserChosen(contentType, fallback string, note error, format knownFormat, iter uint64) {
	if format == formatNone {
		k.format, k.parsing = formatNone, false
		return
	}
	if format != k.format {
		// The same line can mean another thing, or nothing, to the other
		// format's parser: a plain comment is an error in OpenMetrics.
		k.since = iter
		clear(k.meta)
	}
	k.format, k.contentType, k.fallback, k.parserNote = format, contentType, fallback, note
	if k.meta == nil {
		k.meta = map[string]*metaLine{}
	}
	k.metaIter++
	k.parsing = true
}

// parseDone ends the recording of comment lines. A parse that read the
// whole body forgets the lines it did not read; one that stopped early keeps
// them for the next body, unless they grew far past the last whole body's.
func (k *knownPath) parseDone(whole bool) {
	if !k.parsing {
		return
	}
	k.parsing = false
	if !whole && len(k.meta) <= 2*k.metaAtWhole+1000 {
		return
	}
	defer func() { k.metaAtWhole = len(k.meta) }()
	for line, m := range k.meta {
		if m.seen != k.metaIter {
			delete(k.meta, line)
		}
	}
}

// rememberMeta records a HELP, TYPE or UNIT entry whose metric name the
// parser returned as name, a slice of b.
func (k *knownPath) rememberMeta(b []byte, kind textparse.Entry, name, text []byte, typ model.MetricType) {
	if !k.parsing || bytes.IndexByte(name, '\n') >= 0 {
		// A quoted name may span lines; such an entry is no one line's.
		return
	}
	if m := k.lineOf(b, name); m != nil && m.kind == textparse.EntryInvalid {
		m.kind, m.typ = kind, typ
		m.name = bytes.Clone(name)
		m.text = bytes.Clone(text)
	}
}

// rememberComment records a plain comment whose text the parser returned as
// text, a slice of b.
func (k *knownPath) rememberComment(b, text []byte) {
	if !k.parsing || bytes.IndexByte(text, '\n') >= 0 {
		return
	}
	if m := k.lineOf(b, text); m != nil && m.kind == textparse.EntryInvalid {
		m.kind = textparse.EntryComment
	}
}

// lineOf returns the record of the line of b holding part, marked seen; a
// new record has kind EntryInvalid for the caller to fill. It returns nil if part is not
// in b or its line has no newline (such a line never parses as a whole
// entry).
func (k *knownPath) lineOf(b, part []byte) *metaLine {
	off, ok := offsetIn(b, part)
	if !ok {
		return nil
	}
	end := bytes.IndexByte(b[off:], '\n')
	if end < 0 {
		return nil
	}
	start := bytes.LastIndexByte(b[:off], '\n') + 1
	line := b[start : off+end]
	m, ok := k.meta[string(line)]
	if !ok {
		m = &metaLine{kind: textparse.EntryInvalid}
		k.meta[string(line)] = m
	}
	m.seen = k.metaIter
	return m
}

// tried records whether the known path could take a scrape; after failures
// in a row it is skipped for exponentially more scrapes.
func (k *knownPath) tried(ok bool) {
	if ok {
		k.misses = 0
		return
	}
	k.misses++
	k.wait = min(1<<min(k.misses-1, 6), maxKnownBackoff) - 1
}
