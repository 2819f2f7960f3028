package config

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is a problem found in a configuration file. Its text has the form
// "file:line: problem", or "file: problem" when no line is known.
type Error struct {
	// File is the name the configuration was loaded under.
	File string
	// Line is the 1-based line of the problem, 0 when unknown.
	Line int
	// Err is the problem itself.
	Err error
}

func (e *Error) Error() string {
	file := e.File
	if file == "" {
		file = "<config>"
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", file, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", file, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// yamlLinePrefix matches the "line N: " yaml.v3 puts in front of syntax
// errors and of each entry of a TypeError.
var yamlLinePrefix = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlUnknownField matches yaml.v3's strict-mode complaint, so that it can be
// reworded with the YAML path instead of a Go type name users never see.
var yamlUnknownField = regexp.MustCompile(`^field (.+) not found in type \S+$`)

// splitYAMLLine separates the line number yaml.v3 embeds in its messages.
func splitYAMLLine(msg string) (int, string) {
	m := yamlLinePrefix.FindStringSubmatch(msg)
	if m == nil {
		return 0, strings.TrimPrefix(msg, "yaml: ")
	}
	line, err := strconv.Atoi(m[1])
	if err != nil {
		return 0, m[2]
	}
	return line, m[2]
}

// syntaxError locates a yaml.v3 parse error. yaml.v3 numbers lines
// inconsistently: scanner errors carry a 1-based line, parser errors ("did
// not find expected ...") the 0-based line where the enclosing construct
// starts, and either omits the number when it is 0. Reader errors (bad
// encoding) have no position at all.
func syntaxError(file string, err error) *Error {
	line, msg := splitYAMLLine(err.Error())
	switch {
	case strings.HasPrefix(msg, "did not find expected"), strings.HasPrefix(msg, "found duplicate %"),
		strings.HasPrefix(msg, "found incompatible YAML"), strings.HasPrefix(msg, "found undefined tag handle"):
		line++
	case line == 0 && !isReaderError(msg):
		line = 1
	}
	return &Error{File: file, Line: line, Err: errors.New(msg)}
}

func isReaderError(msg string) bool {
	return strings.Contains(msg, "UTF-8") || strings.Contains(msg, "UTF-16") ||
		strings.Contains(msg, "control characters") || strings.Contains(msg, "Unicode")
}

// typeErrors turns each entry of a yaml.v3 TypeError into an *Error, sorted by
// line, rewording unknown-field errors to name the section they are in.
func typeErrors(file string, root *yaml.Node, te *yaml.TypeError) error {
	errs := make([]*Error, 0, len(te.Errors))
	for _, msg := range te.Errors {
		line, text := splitYAMLLine(msg)
		if m := yamlUnknownField.FindStringSubmatch(text); m != nil {
			text = fmt.Sprintf("field %s not found", m[1])
			if path := keyPath(root, line, m[1]); path != "" {
				text += " in " + path
			}
		}
		errs = append(errs, &Error{File: file, Line: line, Err: errors.New(text)})
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	if len(errs) == 1 {
		return errs[0]
	}
	joined := make([]error, len(errs))
	for i, e := range errs {
		joined[i] = e
	}
	return errors.Join(joined...)
}
