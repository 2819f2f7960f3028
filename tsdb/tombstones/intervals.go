package tombstones

import "math"

// Interval is a closed time range [Mint, Maxt] in milliseconds.
type Interval struct {
	Mint, Maxt int64
}

// InBounds reports whether t lies in the interval.
func (in Interval) InBounds(t int64) bool { return t >= in.Mint && t <= in.Maxt }

// IsSubrange reports whether in lies entirely inside any of dranges.
func (in Interval) IsSubrange(dranges Intervals) bool {
	for _, r := range dranges {
		if r.InBounds(in.Mint) && r.InBounds(in.Maxt) {
			return true
		}
	}
	return false
}

// Intervals is a sorted list of disjoint, non-adjacent intervals.
type Intervals []Interval

// Add inserts n, merging it with the intervals it overlaps or touches, and
// returns the updated list.
func (ivs Intervals) Add(n Interval) Intervals {
	if n.Mint > n.Maxt {
		return ivs
	}
	// First interval that could merge with n: one ending at or after n.Mint-1.
	lo := 0
	for lo < len(ivs) && !touches(ivs[lo].Maxt, n.Mint) && ivs[lo].Maxt < n.Mint {
		lo++
	}
	hi := lo
	for hi < len(ivs) && (ivs[hi].Mint <= n.Maxt || touches(n.Maxt, ivs[hi].Mint)) {
		n.Mint = min(n.Mint, ivs[hi].Mint)
		n.Maxt = max(n.Maxt, ivs[hi].Maxt)
		hi++
	}
	out := make(Intervals, 0, len(ivs)-(hi-lo)+1)
	out = append(out, ivs[:lo]...)
	out = append(out, n)
	return append(out, ivs[hi:]...)
}

// touches reports whether b directly follows a, so [..a] and [b..] merge.
func touches(a, b int64) bool { return a != math.MaxInt64 && a+1 == b }

// Covers reports whether t is deleted by any interval.
func (ivs Intervals) Covers(t int64) bool {
	for _, in := range ivs {
		if in.InBounds(t) {
			return true
		}
		if in.Mint > t {
			return false
		}
	}
	return false
}
