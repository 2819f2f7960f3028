package scrape

import (
	"errors"
	"io"
	"math"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/model/value"
	ustorage "github.com/prometheus/prometheus/storage"
)

// upstreamLoop is the benchmark baseline: the append loop of Prometheus's
// scrape package (scrapeLoop.append with its scrapeCache) reduced to what a
// target without relabeling or limits exercises. It parses every scrape
// with upstream textparse, resolves a series text to its upstream reference
// through a map keyed by string(seriesBytes), parses labels and appends with
// reference 0 on a miss, tracks staleness by reference and records metadata.
type upstreamLoop struct {
	target  labels.Labels
	symbols *labels.SymbolTable
	lb      *labels.Builder

	iter      uint64
	series    map[string]*upstreamEntry
	dropped   map[string]*uint64
	cur, prev map[ustorage.SeriesRef]*upstreamEntry
	meta      map[string]*upstreamMeta
}

type upstreamEntry struct {
	ref      ustorage.SeriesRef
	lset     labels.Labels
	lastIter uint64
}

type upstreamMeta struct {
	typ        model.MetricType
	help, unit string
	lastIter   uint64
}

func newUpstreamLoop(target labels.Labels) *upstreamLoop {
	return &upstreamLoop{
		target:  target,
		symbols: labels.NewSymbolTable(),
		lb:      labels.NewBuilder(labels.EmptyLabels()),
		series:  map[string]*upstreamEntry{},
		dropped: map[string]*uint64{},
		cur:     map[ustorage.SeriesRef]*upstreamEntry{},
		prev:    map[ustorage.SeriesRef]*upstreamEntry{},
		meta:    map[string]*upstreamMeta{},
	}
}

func (u *upstreamLoop) metaEntry(name []byte) *upstreamMeta {
	e, ok := u.meta[string(name)]
	if !ok {
		e = &upstreamMeta{typ: model.MetricTypeUnknown}
		u.meta[string(name)] = e
	}
	e.lastIter = u.iter
	return e
}

func (u *upstreamLoop) append(app ustorage.Appender, b []byte, contentType string, ts time.Time) error {
	p, err := textparse.New(b, contentType, u.symbols, textparse.ParserOptions{IgnoreNativeHistograms: true})
	if p == nil {
		return err
	}
	defTime := timestamp.FromTime(ts)
	var lset labels.Labels
	for {
		et, err := p.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		switch et {
		case textparse.EntryType:
			name, typ := p.Type()
			if e := u.metaEntry(name); e.typ != typ {
				e.typ = typ
			}
			continue
		case textparse.EntryHelp:
			name, help := p.Help()
			if e := u.metaEntry(name); e.help != string(help) {
				e.help = string(help)
			}
			continue
		case textparse.EntryUnit:
			name, unit := p.Unit()
			if e := u.metaEntry(name); e.unit != string(unit) {
				e.unit = string(unit)
			}
			continue
		case textparse.EntrySeries:
		default:
			continue
		}
		met, pts, v := p.Series()
		t := defTime
		if pts != nil {
			t = *pts
		}
		if it, ok := u.dropped[string(met)]; ok {
			*it = u.iter
			continue
		}
		var ref ustorage.SeriesRef
		e, ok := u.series[string(met)]
		if ok {
			if e.lastIter == u.iter {
				continue // duplicate series text
			}
			e.lastIter = u.iter
			ref, lset = e.ref, e.lset
		} else {
			p.Labels(&lset)
			u.lb.Reset(lset)
			u.target.Range(func(l labels.Label) { u.lb.Set(l.Name, l.Value) })
			lset = u.lb.Labels()
		}
		newRef, err := app.Append(ref, lset, t, v)
		if err != nil {
			return err
		}
		if !ok {
			e = &upstreamEntry{ref: newRef, lset: lset, lastIter: u.iter}
			u.series[string(met)] = e
		} else if newRef != e.ref {
			e.ref = newRef
		}
		if pts == nil {
			u.cur[e.ref] = e
		}
	}
	stale := math.Float64frombits(value.StaleNaN)
	for ref, e := range u.prev {
		if _, ok := u.cur[ref]; !ok {
			if _, err := app.Append(e.ref, e.lset, defTime, stale); err != nil {
				return err
			}
		}
	}
	for k, e := range u.series {
		if e.lastIter != u.iter {
			delete(u.series, k)
		}
	}
	u.prev, u.cur = u.cur, u.prev
	clear(u.cur)
	u.iter++
	return nil
}
