package promqltest

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

var (
	patLoad        = regexp.MustCompile(`^load(_with_nhcb)?\s+(.+?)$`)
	patEvalInstant = regexp.MustCompile(`^eval(?:_(fail|ordered|warn|info))?\s+instant\s+(?:at\s+(.+?))?\s+(.+)$`)
	patEvalRange   = regexp.MustCompile(`^eval(?:_(fail|warn|info))?\s+range\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+?)\s+(.+)$`)
	patExpect      = regexp.MustCompile(`^expect\s+(ordered|fail|warn|no_warn|info|no_info)(?:\s+(regex|msg):(.+))?$`)
	patExpectRange = regexp.MustCompile(`^expect\s+range\s+vector\s+from\s+(.+)\s+to\s+(.+)\s+step\s+(.+)$`)
	patExpectStr   = regexp.MustCompile(`^expect\s+string\s+(.+)$`)
)

// seriesParser parses series descriptions; it is stateless and safe to share.
var seriesParser = parser.NewParser(parser.Options{})

// Script is a parsed test script.
type Script struct {
	Name     string
	Commands []Command
}

// Command is one of *LoadCmd, *ClearCmd or *EvalCmd.
type Command interface{ line() int }

// LoadCmd adds samples to the storage.
type LoadCmd struct {
	Line   int
	Series []LoadSeries
}

// LoadSeries is one series of a load command, already expanded: the
// value at Start+i*Interval is Values[i], unless Values[i].Omitted.
type LoadSeries struct {
	Labels   labels.Labels
	Interval time.Duration
	Values   []parser.SequenceValue
}

// ClearCmd removes all loaded data.
type ClearCmd struct{ Line int }

// EvalCmd runs a query and checks its result.
type EvalCmd struct {
	Line       int
	Expr       string
	Instant    bool
	Start, End time.Time // equal for instant queries
	Step       time.Duration

	Fail        bool
	FailMessage string         // exact error expected, if set
	FailRegexp  *regexp.Regexp // error pattern expected, if set
	Ordered     bool
	// Annotations are the annotation expectations, in script order.
	Annotations []ExpectedAnnotation

	// ExpectedString is the expected string result, if any.
	ExpectedString *string
	// RangeVector holds the expected timestamps of a range vector returned
	// by an instant query.
	RangeVector *struct{ Start, End, Step time.Duration }
	// Expected are the expected series, in script order. A scalar result
	// is written as a line holding just a number and gets empty labels.
	Expected []ExpectedSeries
}

// ExpectedAnnotation is one `expect warn|info|no_warn|no_info` line. For
// warn and info, Msg (exact) or Regexp, if set, must match one of the
// query's annotations of that kind; without either, any one will do.
type ExpectedAnnotation struct {
	Kind   string
	Msg    string
	Regexp *regexp.Regexp
}

func (a ExpectedAnnotation) matches(s string) bool {
	switch {
	case a.Msg != "":
		return s == a.Msg
	case a.Regexp != nil:
		return a.Regexp.MatchString(s)
	}
	return true
}

// ExpectedSeries is one expected series and its values.
type ExpectedSeries struct {
	Labels labels.Labels
	Values []parser.SequenceValue
	Line   int
}

func (c *LoadCmd) line() int  { return c.Line }
func (c *ClearCmd) line() int { return c.Line }
func (c *EvalCmd) line() int  { return c.Line }

// Parse parses a test script.
func Parse(name, input string) (*Script, error) {
	lines := strings.Split(input, "\n")
	s := &Script{Name: name}
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		var (
			cmd Command
			err error
		)
		switch {
		case l == "clear":
			cmd = &ClearCmd{Line: i + 1}
		case strings.HasPrefix(l, "load"):
			cmd, i, err = parseLoad(lines, i)
		case strings.HasPrefix(l, "eval"):
			cmd, i, err = parseEval(lines, i)
		default:
			err = errors.New("unknown command")
		}
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, i+1, err)
		}
		s.Commands = append(s.Commands, cmd)
	}
	return s, nil
}

// block returns the index of the last line belonging to the command on
// line i: the lines that follow, up to a blank or comment line.
func block(lines []string, i int) int {
	j := i
	for j+1 < len(lines) {
		if l := strings.TrimSpace(lines[j+1]); l == "" || strings.HasPrefix(l, "#") {
			break
		}
		j++
	}
	return j
}

func parseLoad(lines []string, i int) (Command, int, error) {
	m := patLoad.FindStringSubmatch(strings.TrimSpace(lines[i]))
	if m == nil {
		return nil, i, errors.New("invalid load command, want `load <interval>`")
	}
	if m[1] != "" {
		return nil, i, errors.New("load_with_nhcb: native histograms are not supported")
	}
	gap, err := model.ParseDuration(m[2])
	if err != nil {
		return nil, i, fmt.Errorf("invalid load interval %q: %w", m[2], err)
	}
	cmd := &LoadCmd{Line: i + 1}
	end := block(lines, i)
	for j := i + 1; j <= end; j++ {
		l := strings.TrimSpace(lines[j])
		lbls, vals, err := seriesParser.ParseSeriesDesc(l)
		if err != nil {
			return nil, j, fmt.Errorf("invalid series %q: %w", l, err)
		}
		cmd.Series = append(cmd.Series, LoadSeries{Labels: lbls, Interval: time.Duration(gap), Values: vals})
	}
	return cmd, end, nil
}

func parseTime(s string) (time.Time, error) {
	d, err := model.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid time %q: %w", s, err)
	}
	return time.UnixMilli(0).Add(time.Duration(d)), nil
}

func parseEval(lines []string, i int) (Command, int, error) {
	l := strings.TrimSpace(lines[i])
	cmd := &EvalCmd{Line: i + 1}
	var mod string
	if m := patEvalInstant.FindStringSubmatch(l); m != nil {
		mod, cmd.Expr, cmd.Instant = m[1], m[3], true
		at := "0"
		if m[2] != "" {
			at = m[2]
		}
		t, err := parseTime(at)
		if err != nil {
			return nil, i, err
		}
		cmd.Start, cmd.End = t, t
	} else if m := patEvalRange.FindStringSubmatch(l); m != nil {
		mod, cmd.Expr = m[1], m[5]
		var err error
		if cmd.Start, err = parseTime(m[2]); err != nil {
			return nil, i, err
		}
		if cmd.End, err = parseTime(m[3]); err != nil {
			return nil, i, err
		}
		step, err := model.ParseDuration(m[4])
		if err != nil {
			return nil, i, fmt.Errorf("invalid step %q: %w", m[4], err)
		}
		cmd.Step = time.Duration(step)
	} else {
		return nil, i, errors.New("invalid eval command, want `eval instant at <time> <query>` or `eval range from <time> to <time> step <duration> <query>`")
	}
	cmd.Fail = mod == "fail"
	cmd.Ordered = mod == "ordered"
	if mod == "warn" || mod == "info" {
		cmd.Annotations = append(cmd.Annotations, ExpectedAnnotation{Kind: mod})
	}

	end := block(lines, i)
	for j := i + 1; j <= end; j++ {
		if err := cmd.parseLine(strings.TrimSpace(lines[j]), j); err != nil {
			return nil, j, err
		}
	}
	return cmd, end, nil
}

func (cmd *EvalCmd) parseLine(l string, j int) error {
	switch {
	case strings.HasPrefix(l, "expected_fail_message"):
		cmd.Fail, cmd.FailMessage = true, strings.TrimSpace(strings.TrimPrefix(l, "expected_fail_message"))
		return nil
	case strings.HasPrefix(l, "expected_fail_regexp"):
		re, err := regexp.Compile(strings.TrimSpace(strings.TrimPrefix(l, "expected_fail_regexp")))
		if err != nil {
			return fmt.Errorf("invalid expected_fail_regexp: %w", err)
		}
		cmd.Fail, cmd.FailRegexp = true, re
		return nil
	}
	if m := patExpectRange.FindStringSubmatch(l); m != nil {
		var ds [3]model.Duration
		for k := range ds {
			d, err := model.ParseDuration(strings.TrimSpace(m[k+1]))
			if err != nil {
				return fmt.Errorf("invalid expect range vector: %w", err)
			}
			ds[k] = d
		}
		cmd.RangeVector = &struct{ Start, End, Step time.Duration }{time.Duration(ds[0]), time.Duration(ds[1]), time.Duration(ds[2])}
		return nil
	}
	if m := patExpectStr.FindStringSubmatch(l); m != nil {
		s, err := strconv.Unquote(strings.TrimSpace(m[1]))
		if err != nil {
			return fmt.Errorf("invalid expect string, want a quoted string: %w", err)
		}
		cmd.ExpectedString = &s
		return nil
	}
	if strings.HasPrefix(l, "expect ") {
		m := patExpect.FindStringSubmatch(l)
		if m == nil {
			return errors.New("invalid expect line, want `expect <type> [msg|regex]: <string>`")
		}
		switch m[1] {
		case "ordered":
			cmd.Ordered = true
		case "warn", "info", "no_warn", "no_info":
			a := ExpectedAnnotation{Kind: m[1]}
			pattern := strings.TrimSpace(m[3])
			switch m[2] {
			case "msg":
				a.Msg = pattern
			case "regex":
				re, err := regexp.Compile(pattern)
				if err != nil {
					return fmt.Errorf("invalid expect %s regex: %w", m[1], err)
				}
				a.Regexp = re
			}
			cmd.Annotations = append(cmd.Annotations, a)
		case "fail":
			cmd.Fail = true
			msg := strings.TrimSpace(m[3])
			switch m[2] {
			case "msg":
				cmd.FailMessage = msg
			case "regex":
				re, err := regexp.Compile(msg)
				if err != nil {
					return fmt.Errorf("invalid expect fail regex: %w", err)
				}
				cmd.FailRegexp = re
			}
		}
		return nil
	}
	if f, err := parseNumber(l); err == nil {
		cmd.Expected = append(cmd.Expected, ExpectedSeries{
			Labels: labels.EmptyLabels(),
			Values: []parser.SequenceValue{{Value: f}},
			Line:   j + 1,
		})
		return nil
	}
	lbls, vals, err := seriesParser.ParseSeriesDesc(l)
	if err != nil {
		return fmt.Errorf("invalid expected series %q: %w", l, err)
	}
	cmd.Expected = append(cmd.Expected, ExpectedSeries{Labels: lbls, Values: vals, Line: j + 1})
	return nil
}

func parseNumber(s string) (float64, error) {
	if n, err := strconv.ParseInt(s, 0, 64); err == nil {
		return float64(n), nil
	}
	return strconv.ParseFloat(s, 64)
}
