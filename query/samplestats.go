package query

// sampleCounter accumulates an evaluator's sample statistics. Per-step
// counts are kept when the query asked for them and always inside a
// subquery, whose steps must be mapped onto the outer windows that use
// them.
type sampleCounter struct {
	start, interval int64 // the evaluator's step grid
	total, read     int64
	totalPerStep    []int64 // nil unless per-step counts are kept
	readPerStep     []int64
	series          int64
	peak            int
}

func newSampleCounter(start, interval int64, steps int, perStep bool) *sampleCounter {
	c := &sampleCounter{start: start, interval: interval}
	if perStep {
		c.totalPerStep = make([]int64, steps)
		c.readPerStep = make([]int64, steps)
	}
	return c
}

// add counts n samples used at step i, of which read were not already
// held from the previous step.
func (c *sampleCounter) add(i int, n, read int64) {
	c.total += n
	c.read += read
	if c.totalPerStep != nil {
		c.totalPerStep[i] += n
		c.readPerStep[i] += read
	}
}

func (c *sampleCounter) stepTime(i int) int64 { return c.start + int64(i)*c.interval }

// subqueryUse describes how an outer evaluator consumes a subquery: at
// outer step i (time start+i*interval) it reads the subquery points in
// (t-rng, t] with t the step time less offset, or the @ time less offset
// at every step when at is set.
type subqueryUse struct {
	steps       int
	rng, offset int64
	at          *int64
}

// mergeSubquery adds a finished subquery's counts: each outer step's total
// is the sum of the subquery steps in its window, as a range function over
// stored samples counts its window; each subquery step's reads count once,
// at the first outer step whose window holds it.
func (c *sampleCounter) mergeSubquery(sub *sampleCounter, use subqueryUse) {
	c.series += sub.series
	c.peak = max(c.peak, sub.peak)
	if use.steps <= 1 {
		c.add(0, sub.total, sub.read)
		return
	}
	// Outer windows only move forward, so slide over the subquery's steps.
	var sum int64
	lo, hi, nextRead := 0, 0, 0
	n := len(sub.totalPerStep)
	for i := range use.steps {
		end := c.stepTime(i) - use.offset
		if use.at != nil {
			end = *use.at - use.offset
		}
		for hi < n && sub.stepTime(hi) <= end {
			sum += sub.totalPerStep[hi]
			hi++
		}
		for lo < hi && sub.stepTime(lo) <= end-use.rng {
			sum -= sub.totalPerStep[lo]
			lo++
		}
		var read int64
		for nextRead = max(nextRead, lo); nextRead < hi; nextRead++ {
			read += sub.readPerStep[nextRead]
		}
		c.add(i, sum, read)
	}
}

// public returns the counts as Prometheus reports them.
func (c *sampleCounter) public(perStep bool) *SampleStats {
	s := &SampleStats{
		TotalQueryableSamples: c.total,
		SamplesRead:           c.read,
		SeriesTouched:         c.series,
		PeakSamples:           c.peak,
	}
	if perStep && c.totalPerStep != nil {
		s.TotalQueryableSamplesPerStep = c.stepStats(c.totalPerStep)
		s.SamplesReadPerStep = c.stepStats(c.readPerStep)
	}
	return s
}

func (c *sampleCounter) stepStats(counts []int64) []StepStat {
	out := make([]StepStat, len(counts))
	for i, v := range counts {
		out[i] = StepStat{T: c.stepTime(i), V: v}
	}
	return out
}
