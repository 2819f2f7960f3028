package scrape

import "bytes"

// eofLine ends every OpenMetrics exposition.
const eofLine = "# EOF"

// linesOf returns the part of b that scanKnown reads: all of a text-format
// body, which must end in a newline, or an OpenMetrics body up to its # EOF
// line, which must be the last line, followed by nothing or a newline. Any
// other body is left to the parser, for its error.
func (k *knownPath) linesOf(b []byte) ([]byte, bool) {
	if k.format != formatOpenMetrics {
		return b, len(b) > 0 && b[len(b)-1] == '\n'
	}
	rest, ok := bytes.CutSuffix(bytes.TrimSuffix(b, []byte{'\n'}), []byte(eofLine))
	if !ok || len(rest) > 0 && rest[len(rest)-1] != '\n' {
		return nil, false
	}
	return rest, true
}

// scanKnown splits b, which ends in a newline, into known lines. It reads
// the cache without changing it.
func (sl *scrapeLoop) scanKnown(b []byte, lines []knownLine) ([]knownLine, bool) {
	k := &sl.cache.known
	order := k.order
	n := 0 // sample lines so far
	defer func() { k.order = order[:min(n, len(order))] }()
	for pos := 0; pos < len(b); {
		end := bytes.IndexByte(b[pos:], '\n')
		line, start := b[pos:pos+end], pos
		pos += end + 1
		switch {
		case len(line) == 0:
			if k.format == formatOpenMetrics {
				return lines, false // an error there.
			}
			continue // the text parser skips blank lines.
		case line[0] == '#':
			m, ok := k.meta[string(line)]
			if !ok || m.kind < 0 {
				return lines, false
			}
			lines = append(lines, knownLine{meta: m})
		default:
			var hint *cacheEntry
			if n < len(order) {
				hint = order[n]
			}
			l, ok := sl.knownSample(line, start, hint)
			if !ok {
				return lines, false
			}
			lines = append(lines, l)
			if n < len(order) {
				order[n] = l.e
			} else {
				order = append(order, l.e)
			}
			n++
		}
	}
	return lines, true
}

// knownSample reads a sample line `<series> <value>[ <timestamp>]` whose
// series text is cached. Anything else, including other whitespace and an
// OpenMetrics exemplar, is not known. line starts at offset start of the
// body; hint is the entry the line probably has, as the same line of the
// last scrape had.
func (sl *scrapeLoop) knownSample(line []byte, start int, hint *cacheEntry) (knownLine, bool) {
	var l knownLine
	om := sl.cache.known.format == formatOpenMetrics
	if sl.isHinted(line, hint) {
		l.e = hint
		rest := line[len(hint.key)+1:]
		l.start, l.end = start, start+len(hint.key)
		sp := bytes.IndexByte(rest, ' ')
		if sp < 0 {
			var ok bool
			l.v, ok = knownValue(rest)
			return l, ok
		}
		return l, knownValueTS(&l, rest[:sp], rest[sp+1:], om)
	}

	sp := bytes.LastIndexByte(line, ' ')
	if sp <= 0 {
		return l, false
	}
	last := line[sp+1:]
	// A series text ends in '}' or in a metric name, and a value holds no
	// '{': so if line[:sp] is a series text, the line has no timestamp and
	// line[:sp0] below cannot be a series text too.
	if sl.lookupKnown(line[:sp], &l) {
		l.start, l.end = start, start+sp
		var ok bool
		l.v, ok = knownValue(last)
		return l, ok
	}
	if !om && !allDigits(last) {
		return l, false
	}
	sp0 := bytes.LastIndexByte(line[:sp], ' ')
	if sp0 <= 0 || !sl.lookupKnown(line[:sp0], &l) {
		return l, false
	}
	l.start, l.end = start, start+sp0
	return l, knownValueTS(&l, line[sp0+1:sp], last, om)
}

// isHinted reports whether line is hint's series text followed by a space,
// hint being still cached and vouched for by the current format's parser.
func (sl *scrapeLoop) isHinted(line []byte, hint *cacheEntry) bool {
	c := sl.cache
	// An entry seen in this or the last iteration has not been evicted:
	// eviction takes two iterations without it.
	if hint == nil || hint.lastIter+1 < c.iter || hint.lastIter < c.known.since {
		return false
	}
	n := len(hint.key)
	if len(line) <= n || line[n] != ' ' || string(line[:n]) != hint.key {
		return false
	}
	if len(c.dropped) > 0 {
		// appendParsed looks for dropped series first.
		if _, ok := c.dropped[hint.key]; ok {
			return false
		}
	}
	return true
}

// lookupKnown finds a series text the format's parser produced since the known
// path's current run began, checking the dropped series first as
// appendParsed does.
func (sl *scrapeLoop) lookupKnown(series []byte, l *knownLine) bool {
	c := sl.cache
	since := c.known.since
	l.e, l.dropped = nil, nil
	if it, ok := c.dropped[string(series)]; ok {
		l.dropped = it
		return *it >= since
	}
	e, ok := c.series[string(series)]
	l.e = e
	return ok && e.lastIter >= since
}
