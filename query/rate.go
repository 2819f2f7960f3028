package query

import (
	"math"
)

// extrapolatedRate implements rate, increase and delta exactly as
// Prometheus does: the difference between the window's first and last
// samples (corrected for counter resets when isCounter), extrapolated
// towards the window's edges when the samples come close enough to them,
// and per second when isRate.
func extrapolatedRate(w window, isCounter, isRate bool) (float64, bool) {
	pts := w.points
	if len(pts) < 2 {
		return 0, false
	}
	first, last := pts[0], pts[len(pts)-1]
	result := last.F - first.F
	if isCounter {
		// A drop means the counter restarted from zero, so the value just
		// before the drop was lost from the difference. The corrections
		// are added in the order of the resets, as Prometheus does.
		for _, before := range w.resetPrev {
			result += before
		}
	}

	durationToStart := float64(first.T-w.start) / 1000
	durationToEnd := float64(w.end-last.T) / 1000
	sampledInterval := float64(last.T-first.T) / 1000
	avgInterval := sampledInterval / float64(len(pts)-1)
	// Samples this close to an edge count as reaching it; further away, the
	// series is assumed to start or end half an interval beyond its sample.
	threshold := avgInterval * 1.1

	if durationToStart >= threshold {
		durationToStart = avgInterval / 2
	}
	if isCounter && result > 0 && first.F >= 0 {
		// A counter cannot go below zero: do not extrapolate past the point
		// where the trend would have crossed it.
		if durationToZero := sampledInterval * (first.F / result); durationToZero < durationToStart {
			durationToStart = durationToZero
		}
	}
	if durationToEnd >= threshold {
		durationToEnd = avgInterval / 2
	}

	factor := 1.0
	if sampledInterval != 0 {
		factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval
	}
	if isRate {
		factor /= float64(w.rng) / 1000
	}
	return result * factor, true
}

// instantValue implements irate and idelta from the window's last two
// samples.
func instantValue(w window, isRate bool) (float64, bool) {
	pts := w.points
	if len(pts) < 2 {
		return 0, false
	}
	prev, last := pts[len(pts)-2], pts[len(pts)-1]
	interval := last.T - prev.T
	if interval == 0 {
		return 0, false
	}
	result := last.F
	// For irate, a drop is a counter reset and the last value is the
	// increase since it.
	if !isRate || !(last.F < prev.F) {
		result = last.F - prev.F
	}
	if isRate {
		result /= float64(interval) / 1000
	}
	return result, true
}

func sumOverTime(w window) (float64, bool) {
	var sum, c float64
	for _, p := range w.points {
		sum, c = kahanInc(p.F, sum, c)
	}
	if math.IsInf(sum, 0) {
		return sum, true
	}
	return sum + c, true
}

// avgOverTime averages with Kahan summation, switching to an incremental
// mean only if the plain sum would overflow, as Prometheus does.
func avgOverTime(w window) (float64, bool) {
	pts := w.points
	var (
		sum, count  = pts[0].F, 1.0
		mean, c     float64
		incremental bool
	)
	for i, p := range pts[1:] {
		count = float64(i + 2)
		if !incremental {
			newSum, newC := kahanInc(p.F, sum, c)
			if !math.IsInf(newSum, 0) {
				sum, c = newSum, newC
				continue
			}
			incremental = true
			mean = sum / (count - 1)
			c /= count - 1
		}
		q := (count - 1) / count
		mean, c = kahanInc(p.F/count, q*mean, q*c)
	}
	if incremental {
		return mean + c, true
	}
	return sum/count + c/count, true
}

func minOverTime(w window) (float64, bool) {
	v := w.points[0].F
	for _, p := range w.points {
		if p.F < v || math.IsNaN(v) {
			v = p.F
		}
	}
	return v, true
}

func maxOverTime(w window) (float64, bool) {
	v := w.points[0].F
	for _, p := range w.points {
		if p.F > v || math.IsNaN(v) {
			v = p.F
		}
	}
	return v, true
}

func countOverTime(w window) (float64, bool) { return float64(len(w.points)), true }

func lastOverTime(w window) (float64, bool) { return w.points[len(w.points)-1].F, true }

// kahanInc adds inc to a Kahan-Neumaier compensated sum.
func kahanInc(inc, sum, c float64) (newSum, newC float64) {
	// The explicit conversions stop the compiler fusing multiply-adds
	// across the call, which would change the rounding the compensation
	// relies on.
	inc, sum, c = float64(inc), float64(sum), float64(c)
	t := sum + inc
	switch {
	case math.IsInf(t, 0):
		c = 0
	case math.Abs(sum) >= math.Abs(inc):
		c += (sum - t) + inc
	default:
		c += (inc - t) + sum
	}
	return float64(t), float64(c)
}
