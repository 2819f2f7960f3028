package promqltest

import (
	"strings"
	"testing"

	"github.com/argusmon/argus/query"
)

// TestExecuteReportsMismatches makes sure the runner fails scripts whose
// expectations are wrong, so passing scripts mean something.
func TestExecuteReportsMismatches(t *testing.T) {
	const data = "load 1m\n  m{a=\"1\"} 1 2 3\n\n"
	tests := []struct {
		name, eval, wantErr string
	}{
		{"wrong value", "eval instant at 1m m\n  m{a=\"1\"} 5", "expected value 5, got 2"},
		{"missing sample", "eval instant at 1m m\n  m{a=\"1\"} 2\n  m{a=\"2\"} 2", "expected 2 samples, got 1"},
		{"unexpected sample", "eval instant at 1m m", "expected 0 samples, got 1"},
		{"wrong labels", "eval instant at 1m m\n  m{a=\"2\"} 2", "unexpected sample"},
		{"wrong range points", "eval range from 0 to 2m step 1m m\n  m{a=\"1\"} 1 2 4", "expected points"},
		{"missing range point", "eval range from 0 to 3m step 1m m\n  m{a=\"1\"} 1 2 3 3 3", "expected 5 points"},
		{"unexpected failure", "eval instant at 1m m + on(a) group_left(b) m{a=\"9\"} + sum(", "unexpected error"},
		{"expected failure", "eval instant at 1m m\n  expect fail", "expected the query to fail"},
		{"wrong failure message", "eval instant at 1m 1 < 2\n  expect fail msg: nope", "expected error \"nope\""},
		{"wrong scalar", "eval instant at 1m 1 + 1\n  3", "expected scalar 3, got 2"},
		{"wrong string", "eval instant at 1m \"a\"\n  expect string \"b\"", "expected string \"b\""},
		{"range vector without expect line", "eval instant at 1m m[1m]\n  m{a=\"1\"} 2", "add `expect range vector"},
		{"annotation expected", "eval instant at 1m m\n  expect warn\n  m{a=\"1\"} 2", "expected warn annotations but got none"},
		{"wrong annotation", "eval instant at 2m rate(m[2m])\n  expect info msg: nope\n  {a=\"1\"} 0", "expected a info annotation matching"},
		{"annotation refused", "eval instant at 2m rate(m[2m])\n  expect no_info\n  {a=\"1\"} 0", "unexpected info annotations"},
	}
	eng := query.NewEngine(query.EngineOpts{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse(tc.name, data+tc.eval)
			if err != nil {
				t.Fatal(err)
			}
			errs := Execute(s, eng)
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), tc.wantErr) {
				t.Fatalf("errors = %v, want one containing %q", errs, tc.wantErr)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, script := range []string{
		"bogus command",
		"load abc\n  m 1",
		"load 1m\n  m{ 1",
		"load_with_nhcb 1m\n  m 1",
		"eval instant at xyz m",
		"eval range from 0 to 1m m",
		"eval instant at 1m m\n  expect sometimes",
		"eval instant at 1m m\n  m{ 1",
	} {
		if _, err := Parse("bad", script); err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", script)
		}
	}
}
