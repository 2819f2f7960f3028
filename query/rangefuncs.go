package query

import (
	"fmt"
	"math"
	"slices"
)

func presentOverTime(window) (float64, bool) { return 1, true }

// quantileOverTime is quantile_over_time(q, range): p1 is q.
func quantileOverTime(w window) (float64, bool) {
	vals := make([]float64, len(w.points))
	for i, p := range w.points {
		vals[i] = p.F
	}
	return quantile(w.p1, vals), true
}

// quantile returns the q-quantile of vals, interpolating between the two
// nearest ranks as Prometheus does; it sorts vals. q outside [0, 1] gives
// ±Inf, a NaN q or no values NaN.
func quantile(q float64, vals []float64) float64 {
	switch {
	case len(vals) == 0 || math.IsNaN(q):
		return math.NaN()
	case q < 0:
		return math.Inf(-1)
	case q > 1:
		return math.Inf(1)
	}
	slices.SortFunc(vals, compareNaNFirst)
	n := float64(len(vals))
	rank := q * (n - 1)
	lower := math.Max(0, math.Floor(rank))
	upper := math.Min(n-1, lower+1)
	weight := rank - math.Floor(rank)
	if weight == 0 {
		return vals[int(lower)]
	}
	return vals[int(lower)]*(1-weight) + vals[int(upper)]*weight
}

// compareNaNFirst orders floats ascending with NaN below everything, the
// order Prometheus's quantile sorts in.
func compareNaNFirst(a, b float64) int {
	switch {
	case math.IsNaN(a) && math.IsNaN(b):
		return 0
	case math.IsNaN(a):
		return -1
	case math.IsNaN(b):
		return 1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// variance is the population variance of the window's values, computed
// with Welford's method and Kahan-compensated accumulators.
func variance(pts []FPoint) float64 {
	var count, mean, cMean, aux, cAux float64
	for _, p := range pts {
		count++
		delta := p.F - (mean + cMean)
		mean, cMean = kahanInc(delta/count, mean, cMean)
		aux, cAux = kahanInc(delta*(p.F-(mean+cMean)), aux, cAux)
	}
	return (aux + cAux) / count
}

// madOverTime is the median absolute deviation from the median; a NaN
// value makes it NaN.
func madOverTime(w window) (float64, bool) {
	vals := make([]float64, len(w.points))
	for i, p := range w.points {
		if math.IsNaN(p.F) {
			return math.NaN(), true
		}
		vals[i] = p.F
	}
	median := quantile(0.5, vals)
	for i := range vals {
		vals[i] = math.Abs(vals[i] - median)
	}
	return quantile(0.5, vals), true
}

// changes counts value changes between successive samples; NaN to NaN is
// no change.
func changes(w window) (float64, bool) {
	n := 0
	for i := 1; i < len(w.points); i++ {
		prev, cur := w.points[i-1].F, w.points[i].F
		if cur != prev && !(math.IsNaN(cur) && math.IsNaN(prev)) {
			n++
		}
	}
	return float64(n), true
}

// resets counts decreases between successive samples.
func resets(w window) (float64, bool) {
	n := 0
	for i := 1; i < len(w.points); i++ {
		if w.points[i].F < w.points[i-1].F {
			n++
		}
	}
	return float64(n), true
}

// linearRegression fits a least-squares line through pts, with x in
// seconds relative to interceptTime, using compensated sums.
func linearRegression(pts []FPoint, interceptTime int64) (slope, intercept float64) {
	var n, sumX, cX, sumY, cY, sumXY, cXY, sumX2, cX2 float64
	initY := pts[0].F
	constY := true
	for i, p := range pts {
		if constY && i > 0 && p.F != initY {
			constY = false
		}
		n++
		x := float64(p.T-interceptTime) / 1e3
		sumX, cX = kahanInc(x, sumX, cX)
		sumY, cY = kahanInc(p.F, sumY, cY)
		sumXY, cXY = kahanInc(x*p.F, sumXY, cXY)
		sumX2, cX2 = kahanInc(x*x, sumX2, cX2)
	}
	if constY {
		// A flat line: avoid the rounding errors the general formula would
		// introduce.
		if math.IsInf(initY, 0) {
			return math.NaN(), math.NaN()
		}
		return 0, initY
	}
	sumX += cX
	sumY += cY
	sumXY += cXY
	sumX2 += cX2
	covXY := sumXY - sumX*sumY/n
	varX := sumX2 - sumX*sumX/n
	slope = covXY / varX
	intercept = sumY/n - slope*sumX/n
	return slope, intercept
}

func deriv(w window) (float64, bool) {
	if len(w.points) < 2 {
		return 0, false
	}
	// Measuring x from the first sample keeps the numbers small.
	slope, _ := linearRegression(w.points, w.points[0].T)
	return slope, true
}

// predictLinear is predict_linear(range, t): p1 is t, in seconds after the
// evaluation time.
func predictLinear(w window) (float64, bool) {
	if len(w.points) < 2 {
		return 0, false
	}
	slope, intercept := linearRegression(w.points, w.ts)
	return slope*w.p1 + intercept, true
}

func checkSmoothingFactors(sf, tf float64) error {
	if sf <= 0 || sf >= 1 {
		return fmt.Errorf("invalid smoothing factor. Expected: 0 < sf < 1, got: %f", sf)
	}
	if tf <= 0 || tf >= 1 {
		return fmt.Errorf("invalid trend factor. Expected: 0 < tf < 1, got: %f", tf)
	}
	return nil
}

// doubleExponentialSmoothing is Holt's linear smoothing: p1 is the
// smoothing factor, p2 the trend factor.
func doubleExponentialSmoothing(w window) (float64, bool) {
	pts := w.points
	if len(pts) < 2 {
		return 0, false
	}
	sf, tf := w.p1, w.p2
	var s0 float64
	s1 := pts[0].F
	b := pts[1].F - pts[0].F
	for i := 1; i < len(pts); i++ {
		x := sf * pts[i].F
		if i > 1 {
			b = tf*(s1-s0) + (1-tf)*b
		}
		y := (1 - sf) * (s1 + b)
		s0, s1 = s1, x+y
	}
	return s1, true
}

func firstOverTime(w window) (float64, bool) { return w.points[0].F, true }

func tsOfFirstOverTime(w window) (float64, bool) { return float64(w.points[0].T) / 1000, true }

func tsOfLastOverTime(w window) (float64, bool) {
	return float64(w.points[len(w.points)-1].T) / 1000, true
}

// tsOfMinOverTime returns when the window's minimum was reached, the last
// time if it was reached several times.
func tsOfMinOverTime(w window) (float64, bool) {
	return tsOfExtreme(w.points, func(cur, best float64) bool { return cur <= best || math.IsNaN(best) })
}

// tsOfMaxOverTime returns when the window's maximum was reached, the last
// time if it was reached several times.
func tsOfMaxOverTime(w window) (float64, bool) {
	return tsOfExtreme(w.points, func(cur, best float64) bool { return cur >= best || math.IsNaN(best) })
}

func tsOfExtreme(pts []FPoint, better func(cur, best float64) bool) (float64, bool) {
	best, ts := pts[0].F, pts[0].T
	for _, p := range pts {
		if better(p.F, best) {
			best, ts = p.F, p.T
		}
	}
	return float64(ts) / 1000, true
}
