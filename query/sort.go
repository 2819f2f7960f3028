package query

import (
	"math"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// funcSort implements sort, sort_desc, sort_by_label and
// sort_by_label_desc. Order only means something in an instant query's
// result, so a range query gets its input back unchanged.
func (ev *evaluator) funcSort(e *parser.Call) (evalMatrix, error) {
	var names []string
	for _, a := range e.Args[1:] {
		s, err := stringArg(a)
		if err != nil {
			return nil, err
		}
		names = append(names, s)
	}
	if ev.start != ev.end {
		ev.annos.warn(e.PositionRange(), msgSortInRangeQuery)
	}
	m, err := ev.eval(e.Args[0])
	if err != nil || ev.steps != 1 {
		return m, err
	}
	value := func(s evalSeries) float64 {
		if len(s.points) == 0 {
			return math.NaN()
		}
		return s.points[0].F
	}
	switch e.Func.Name {
	case "sort":
		slices.SortStableFunc(m, func(a, b evalSeries) int { return compareNaNLast(value(a), value(b)) })
	case "sort_desc":
		slices.SortStableFunc(m, func(a, b evalSeries) int { return compareNaNLast(-value(a), -value(b)) })
	case "sort_by_label":
		slices.SortStableFunc(m, func(a, b evalSeries) int { return compareByLabels(a.metric, b.metric, names) })
	case "sort_by_label_desc":
		slices.SortStableFunc(m, func(a, b evalSeries) int { return -compareByLabels(a.metric, b.metric, names) })
	}
	return m, nil
}

// compareNaNLast orders floats ascending with NaN after everything.
func compareNaNLast(a, b float64) int {
	switch {
	case math.IsNaN(a) && math.IsNaN(b):
		return 0
	case math.IsNaN(a):
		return 1
	case math.IsNaN(b):
		return -1
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareByLabels orders label sets by the named labels' values in
// natural order, then by the whole label set.
func compareByLabels(a, b labels.Labels, names []string) int {
	for _, n := range names {
		va, vb := a.Get(n), b.Get(n)
		if va == vb {
			continue
		}
		if naturalLess(va, vb) {
			return -1
		}
		return 1
	}
	return labels.Compare(a, b)
}

// naturalLess compares strings treating runs of digits as numbers, so
// "a2" sorts before "a10".
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		ca, ra := nextChunk(a)
		cb, rb := nextChunk(b)
		if ca != cb {
			if isDigits(ca) && isDigits(cb) {
				na, nb := strings.TrimLeft(ca, "0"), strings.TrimLeft(cb, "0")
				if len(na) != len(nb) {
					return len(na) < len(nb)
				}
				if na != nb {
					return na < nb
				}
				return len(ca) < len(cb)
			}
			return ca < cb
		}
		a, b = ra, rb
	}
	return len(a) < len(b)
}

// nextChunk splits off the leading run of digits or of non-digits.
func nextChunk(s string) (chunk, rest string) {
	digit := isDigit(s[0])
	i := 1
	for i < len(s) && isDigit(s[i]) == digit {
		i++
	}
	return s[:i], s[i:]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isDigits(s string) bool { return s != "" && isDigit(s[0]) }
