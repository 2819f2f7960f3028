package query

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// FPoint is one float value at a timestamp in milliseconds.
type FPoint struct {
	T int64
	F float64
}

func (p FPoint) String() string {
	return strconv.FormatFloat(p.F, 'f', -1, 64) + " @[" + strconv.FormatInt(p.T, 10) + "]"
}

// Sample is one element of an instant vector.
type Sample struct {
	Metric labels.Labels
	T      int64
	F      float64
}

func (s Sample) String() string {
	return s.Metric.String() + " => " + FPoint{T: s.T, F: s.F}.String()
}

// Series is one element of a range vector: a label set and its points in
// increasing time order.
type Series struct {
	Metric labels.Labels
	Floats []FPoint
}

func (s Series) String() string {
	pts := make([]string, len(s.Floats))
	for i, p := range s.Floats {
		pts[i] = p.String()
	}
	return s.Metric.String() + " =>\n" + strings.Join(pts, "\n")
}

// Vector is an instant vector, the result of an instant query.
type Vector []Sample

// Type implements parser.Value.
func (Vector) Type() parser.ValueType { return parser.ValueTypeVector }

func (v Vector) String() string {
	parts := make([]string, len(v))
	for i, s := range v {
		parts[i] = s.String()
	}
	return strings.Join(parts, "\n")
}

// Matrix is a range vector, the result of a range query or of a range
// selector in an instant query.
type Matrix []Series

// Type implements parser.Value.
func (Matrix) Type() parser.ValueType { return parser.ValueTypeMatrix }

func (m Matrix) String() string {
	parts := make([]string, len(m))
	for i, s := range m {
		parts[i] = s.String()
	}
	return strings.Join(parts, "\n")
}

// Len, Less and Swap sort a Matrix by label set, the order Prometheus
// returns range query results in.
func (m Matrix) Len() int           { return len(m) }
func (m Matrix) Less(i, j int) bool { return labels.Compare(m[i].Metric, m[j].Metric) < 0 }
func (m Matrix) Swap(i, j int)      { m[i], m[j] = m[j], m[i] }

// Scalar is a single number at a timestamp.
type Scalar struct {
	T int64
	V float64
}

// Type implements parser.Value.
func (Scalar) Type() parser.ValueType { return parser.ValueTypeScalar }

func (s Scalar) String() string {
	return "scalar: " + FPoint{T: s.T, F: s.V}.String()
}

// String is a string value at a timestamp.
type String struct {
	T int64
	V string
}

// Type implements parser.Value.
func (String) Type() parser.ValueType { return parser.ValueTypeString }

func (s String) String() string { return s.V }

// Result is the outcome of executing a query: a value or an error, plus
// annotations that do not fail the query. Warnings flag results that may
// be wrong or meaningless; Infos flag results that may surprise. Both are
// worded as Prometheus words them.
type Result struct {
	Value    parser.Value
	Err      error
	Warnings []string
	Infos    []string
}

// Vector returns the result as an instant vector, or an error if the query
// failed or produced another type.
func (r *Result) Vector() (Vector, error) {
	if r.Err != nil {
		return nil, r.Err
	}
	v, ok := r.Value.(Vector)
	if !ok {
		return nil, fmt.Errorf("query result is not a vector but %s", typeName(r.Value))
	}
	return v, nil
}

// Matrix returns the result as a range vector, or an error if the query
// failed or produced another type.
func (r *Result) Matrix() (Matrix, error) {
	if r.Err != nil {
		return nil, r.Err
	}
	m, ok := r.Value.(Matrix)
	if !ok {
		return nil, fmt.Errorf("query result is not a matrix but %s", typeName(r.Value))
	}
	return m, nil
}

// Scalar returns the result as a scalar, or an error if the query failed or
// produced another type.
func (r *Result) Scalar() (Scalar, error) {
	if r.Err != nil {
		return Scalar{}, r.Err
	}
	s, ok := r.Value.(Scalar)
	if !ok {
		return Scalar{}, fmt.Errorf("query result is not a scalar but %s", typeName(r.Value))
	}
	return s, nil
}

func typeName(v parser.Value) string {
	if v == nil {
		return "empty"
	}
	return string(v.Type())
}
