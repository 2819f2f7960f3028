package block

import (
	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/tsdb/index"
)

// postingsForMatchers returns the series matching every matcher, with the
// semantics of the head's index: a matcher that matches the empty string
// also selects series without the label, and is applied as a subtraction
// of the series whose value does not match.
func postingsForMatchers(ir *index.Reader, ms []*labels.Matcher) (index.Postings, error) {
	var positives, negatives []index.Postings
	for _, m := range ms {
		if m.Matches("") {
			p, err := postingsForValues(ir, m.Name, func(v string) bool { return !m.Matches(v) }, nil)
			if err != nil {
				return nil, err
			}
			negatives = append(negatives, p)
			continue
		}
		p, err := postingsForValues(ir, m.Name, m.Matches, m)
		if err != nil {
			return nil, err
		}
		positives = append(positives, p)
	}
	if len(positives) == 0 {
		all, err := ir.AllPostings()
		if err != nil {
			return nil, err
		}
		positives = append(positives, all)
	}
	p := index.Intersect(positives...)
	if len(negatives) > 0 {
		p = index.Without(p, index.Merge(negatives...))
	}
	return p, nil
}

// postingsForValues returns the union of the postings of the values of name
// satisfying match. exact, when not nil, allows a lookup without scanning
// the values: equality, or a regexp that is a set of literals.
func postingsForValues(ir *index.Reader, name string, match func(string) bool, exact *labels.Matcher) (index.Postings, error) {
	if exact != nil {
		switch {
		case exact.Type == labels.MatchEqual:
			return ir.Postings(name, exact.Value)
		case exact.Type == labels.MatchRegexp:
			if set := exact.SetMatches(); len(set) > 0 {
				return ir.Postings(name, set...)
			}
		}
	}
	var values []string
	for _, v := range ir.LabelValues(name) {
		if match(v) {
			values = append(values, v)
		}
	}
	if len(values) == 0 {
		return index.EmptyPostings(), nil
	}
	return ir.Postings(name, values...)
}
