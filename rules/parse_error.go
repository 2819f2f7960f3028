package rules

import (
	"fmt"
	"strings"
)

// ParseError is a problem found in a rule file. Its text has the form
// `file:line:col: group "g", rule 2, "name": problem`, leaving out the
// parts that are unknown, so an editor or CI log can jump to the place.
type ParseError struct {
	File   string
	Line   int // 1-based, 0 when unknown
	Column int // 1-based, 0 when unknown
	// Group is the group's name, empty for problems outside a group.
	Group string
	// Rule is the 1-based index of the rule in its group, 0 for problems
	// outside a rule.
	Rule int
	// RuleName is the rule's record or alert name, if it has one.
	RuleName string
	Err      error
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	if e.Group != "" || e.Rule > 0 {
		fmt.Fprintf(&b, "group %q", e.Group)
		if e.Rule > 0 {
			fmt.Fprintf(&b, ", rule %d", e.Rule)
			if e.RuleName != "" {
				fmt.Fprintf(&b, ", %q", e.RuleName)
			}
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *ParseError) Unwrap() error { return e.Err }
