package query

import (
	"math"
	"math/rand"
	"slices"
	"testing"
)

// The reset tracker hands each window exactly the corrections a scan of
// that window finds, in the scan's order, however the windows slide: over
// overlapping windows, windows that skip points, and repeated windows.
func TestResetTrackerMatchesWindowScan(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, tc := range []struct {
		name          string
		width, stride int
	}{
		{"overlapping", 20, 1},
		{"one point", 1, 1},
		{"two points", 2, 1},
		{"skipping", 3, 7},
		{"repeated", 5, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pts := make([]FPoint, 500)
			v := 0.0
			for i := range pts {
				switch rng.Intn(8) {
				case 0:
					v = rng.Float64() * 10 // a reset, or an increase
				case 1:
					v = math.NaN() // never a reset on either side
				default:
					if math.IsNaN(v) {
						v = 0
					}
					v += rng.Float64()
				}
				pts[i] = FPoint{T: int64(i), F: v}
			}
			var tr resetTracker
			for lo := 0; lo+tc.width <= len(pts); lo += max(tc.stride, 1) {
				win := pts[lo : lo+tc.width]
				var want []float64
				for i := 1; i < len(win); i++ {
					if win[i].F < win[i-1].F {
						want = append(want, win[i-1].F)
					}
				}
				got := tr.update(win, lo)
				if !slices.Equal(got, want) {
					t.Fatalf("window at %d: corrections %v, want %v", lo, got, want)
				}
				if tc.stride == 0 && lo > 50 {
					break
				}
			}
		})
	}
}

// selectK picks exactly what a stable sort followed by a cut at k picks,
// in the same order, ties and NaN included.
func TestSelectKMatchesStableSort(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	values := []float64{1, 2, 2, 3, math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1)}
	cmps := map[string]func(a, b float64) int{
		"bottomk": compareNaNLast,
		"topk":    func(a, b float64) int { return compareNaNLast(-a, -b) },
	}
	for name, cmp := range cmps {
		for n := 0; n < 40; n++ {
			in := make([]stepSample, n)
			for i := range in {
				in[i] = stepSample{series: i, f: values[rng.Intn(len(values))]}
			}
			for _, k := range []int64{1, 2, 5, int64(n), int64(n) + 3, selectKLinearMax + 1} {
				want := slices.Clone(in)
				slices.SortStableFunc(want, func(a, b stepSample) int { return cmp(a.f, b.f) })
				want = want[:min(int(k), len(want))]
				got := selectK(slices.Clone(in), k, cmp)
				if len(got) != len(want) {
					t.Fatalf("%s k=%d of %d: got %d samples, want %d", name, k, n, len(got), len(want))
				}
				for i := range got {
					if got[i].series != want[i].series {
						t.Fatalf("%s k=%d of %d: got series %v, want %v", name, k, n, got, want)
					}
				}
			}
		}
	}
}
