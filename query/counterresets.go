package query

// resetTracker finds the counter resets in successive windows over one
// series, comparing each pair of neighbouring points once for all the
// windows that hold both rather than once per window. Positions count the
// points the series' windower has yielded (see windower.base).
type resetTracker struct {
	pos     []int     // position of the point after each reset, increasing
	prev    []float64 // the value before each reset
	head    int       // resets before head fell out of the window
	scanned int       // points below this position were compared with their predecessor
}

// update takes the window pts whose first point is at position base and
// returns the values before each reset inside it, in order: exactly the
// corrections a scan of the window from its first point would add, in the
// order it would add them, so sums over them round the same way. Windows
// must only move forward. The result is valid until the next call.
func (r *resetTracker) update(pts []FPoint, base int) []float64 {
	end := base + len(pts)
	for i := max(r.scanned, base+1); i < end; i++ {
		if cur, before := pts[i-base].F, pts[i-base-1].F; cur < before {
			r.pos = append(r.pos, i)
			r.prev = append(r.prev, before)
		}
	}
	r.scanned = max(r.scanned, end)
	for r.head < len(r.pos) && r.pos[r.head] <= base {
		r.head++
	}
	if r.head > 0 && r.head*2 >= len(r.pos) {
		// Keep the lists as long as the resets still in the window.
		n := copy(r.pos, r.pos[r.head:])
		copy(r.prev, r.prev[r.head:])
		r.pos, r.prev, r.head = r.pos[:n], r.prev[:n], 0
	}
	return r.prev[r.head:]
}
