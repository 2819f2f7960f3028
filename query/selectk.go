package query

import "slices"

// selectKLinearMax is the largest k selectK keeps in a sorted buffer;
// beyond it a full stable sort is cheaper than shifting the buffer.
const selectKLinearMax = 64

// selectK reorders ms so that its first min(k, len(ms)) elements are those a
// stable sort by cmp would put first, in that order, and returns them.
// Ties keep input order, so the result is exactly a stable sort's prefix;
// for small k it costs one comparison per rejected sample instead of a
// sort of the whole step.
func selectK(ms []stepSample, k int64, cmp func(a, b float64) int) []stepSample {
	if k >= int64(len(ms)) || k > selectKLinearMax {
		slices.SortStableFunc(ms, func(a, b stepSample) int { return cmp(a.f, b.f) })
		return ms[:min(k, int64(len(ms)))]
	}
	kept := 0
	for _, s := range ms {
		// Writing ms[:kept] while reading further on is safe: kept never
		// passes the sample being read.
		kept = offerK(ms, kept, int(k), s, cmp)
	}
	return ms[:kept]
}

// offerK considers s for the selection sel[:kept] of at most k samples,
// best first, and returns the selection's new size. Samples must be offered
// in input order: each comes after all kept ones, so it only enters by
// comparing strictly better, and goes after its equals.
func offerK(sel []stepSample, kept, k int, s stepSample, cmp func(a, b float64) int) int {
	if kept == k && cmp(s.f, sel[k-1].f) >= 0 {
		return kept
	}
	pos := kept
	for pos > 0 && cmp(s.f, sel[pos-1].f) < 0 {
		pos--
	}
	if kept < k {
		kept++
	}
	copy(sel[pos+1:kept], sel[pos:kept-1])
	sel[pos] = s
	return kept
}
