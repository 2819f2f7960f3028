package rules

import (
	"context"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// evalSlot returns the latest evaluation time of the group at or before
// now. Each group is offset inside its interval by a hash of its identity,
// so that groups spread their load instead of all waking at :00, and keep
// the same slots across restarts.
func (g *Group) evalSlot(now time.Time) time.Time {
	interval := int64(g.interval)
	h := labels.FromStrings("file", g.file, "name", g.name).Hash()
	offset := int64(h % uint64(interval))
	adjusted := now.UnixNano() - offset
	base := adjusted - adjusted%interval
	return time.Unix(0, base+offset).UTC()
}

// run evaluates the group on its schedule until stop is called. Iterations
// that could not start in time (the previous one ran long) are skipped
// and counted, so evaluation timestamps stay on the group's slots.
func (g *Group) run(ctx context.Context) {
	defer close(g.terminated)

	next := g.evalSlot(time.Now()).Add(g.interval)
	select {
	case <-time.After(time.Until(next)):
	case <-g.done:
		return
	}
	tick := time.NewTicker(g.interval)
	defer tick.Stop()

	g.iterFunc(ctx, g, next)
	for {
		select {
		case <-g.done:
			return
		case <-tick.C:
		}
		// A tick and done may be ready together; done wins.
		select {
		case <-g.done:
			return
		default:
		}
		missed := time.Since(next)/g.interval - 1
		if missed > 0 {
			key := g.key()
			g.deps.metrics.iterationsMissed.WithLabelValues(key).Add(float64(missed))
			g.deps.metrics.iterationsScheduled.WithLabelValues(key).Add(float64(missed))
		}
		next = next.Add((missed + 1) * g.interval)
		g.iterFunc(ctx, g, next)
	}
}

// stop ends run after its current iteration and waits for it. It is safe
// to call on a group that never ran.
func (g *Group) stop(started bool) {
	g.stopOnce.Do(func() { close(g.done) })
	if started {
		<-g.terminated
	}
}

// copyState takes over, from the group this one replaces, the alerts and
// written series of the rules they share, matched by name and labels (the
// n-th duplicate with the n-th). Series of old rules with no counterpart
// will be marked stale at the next evaluation.
func (g *Group) copyState(from *Group) {
	from.evalMu.Lock()
	defer from.evalMu.Unlock()
	g.evalMu.Lock()
	defer g.evalMu.Unlock()

	from.mu.RLock()
	g.lastEvaluation, g.evaluationTime, g.lastEvalTimestamp = from.lastEvaluation, from.evaluationTime, from.lastEvalTimestamp
	from.mu.RUnlock()

	byID := map[string][]int{}
	for i, r := range from.rules {
		id := r.Name() + r.Labels().String()
		byID[id] = append(byID[id], i)
	}
	for i, r := range g.rules {
		id := r.Name() + r.Labels().String()
		idx := byID[id]
		if len(idx) == 0 {
			continue
		}
		fi := idx[0]
		byID[id] = idx[1:]
		g.seriesInPreviousEval[i] = from.seriesInPreviousEval[fi]
		ar, ok := r.(*AlertingRule)
		if !ok {
			continue
		}
		if old, ok := from.rules[fi].(*AlertingRule); ok {
			ar.copyStateFrom(old)
		}
	}
	if g.restore == nil {
		// from was replaced before its first evaluation.
		g.restore = from.restore
	}
	g.staleSeries = append(g.staleSeries, from.staleSeries...)
	for _, idx := range byID {
		for _, fi := range idx {
			for _, lset := range from.seriesInPreviousEval[fi] {
				g.staleSeries = append(g.staleSeries, lset)
			}
		}
	}
}

// allSeries lists every series the group's rules last wrote.
func (g *Group) allSeries() []labels.Labels {
	g.evalMu.Lock()
	defer g.evalMu.Unlock()
	var out []labels.Labels
	for _, m := range g.seriesInPreviousEval {
		for _, lset := range m {
			out = append(out, lset)
		}
	}
	return append(out, g.staleSeries...)
}
