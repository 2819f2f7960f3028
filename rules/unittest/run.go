package unittest

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Run runs the rule unit test files in order, printing progress and
// "SUCCESS" to stdout and each failure, under "FAILED:", to stderr, in
// promtool's layout. It returns 0 when every test of every file passed and
// 1 otherwise, ready to be a command's exit code.
func Run(files []string, stdout, stderr io.Writer) int {
	return RunContext(context.Background(), files, stdout, stderr)
}

// RunContext is Run with a context that bounds the rule evaluations and
// queries: once it is done, the remaining tests fail.
func RunContext(ctx context.Context, files []string, stdout, stderr io.Writer) int {
	code := 0
	for _, f := range files {
		fmt.Fprintf(stdout, "Processing test file: %s\n", f)
		errs := runFile(ctx, f, stderr)
		if len(errs) > 0 {
			code = 1
			fmt.Fprintln(stderr, "  FAILED:")
			for _, err := range errs {
				fmt.Fprintln(stderr, err.Error())
				fmt.Fprintln(stderr)
			}
		} else {
			fmt.Fprintln(stdout, "  SUCCESS")
		}
		fmt.Fprintln(stdout)
	}
	return code
}

// runFile runs every test group of one file and returns their failures;
// warnings (rule file patterns matching nothing) go to stderr at once.
func runFile(ctx context.Context, name string, stderr io.Writer) []error {
	tf, warnings, err := loadTestFile(name)
	if err != nil {
		return []error{err}
	}
	for _, w := range warnings {
		fmt.Fprintln(stderr, "  WARNING:", w)
	}
	evalInterval := time.Duration(tf.EvaluationInterval)
	var errs []error
	for i := range tf.Tests {
		tg := &tf.Tests[i]
		if tg.Interval <= 0 {
			tg.Interval = tf.EvaluationInterval
		}
		r := groupRun{
			tg:           tg,
			label:        groupLabel(tg, i),
			evalInterval: evalInterval,
			order:        tf.GroupEvalOrder,
			ruleFiles:    tf.RuleFiles,
		}
		errs = append(errs, r.run(ctx)...)
	}
	return errs
}

// groupLabel names a test group in failures: its name, or its position
// when it has none, as promtool does.
func groupLabel(tg *testGroup, i int) string {
	if tg.Name != "" {
		return tg.Name
	}
	return fmt.Sprintf("unnamed#%d", i)
}
