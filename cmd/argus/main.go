// Command argus is the Argus monitoring server. It owns the process: the
// command line (Prometheus's flag names), wiring the packages together,
// signals, configuration reloads and graceful shutdown, and the `check`
// subcommands.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/version"

	"github.com/argusmon/argus/rules/unittest"
)

// defaultVersion is reported when the build did not stamp a version with
// -ldflags (the Makefile does).
const defaultVersion = "0.1.0-dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses the command line and runs the chosen command, returning the
// process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if version.Version == "" {
		version.Version = defaultVersion
	}
	app := kingpin.New("argus", "The Argus monitoring server, a drop-in replacement for Prometheus.").UsageWriter(stdout).ErrorWriter(stderr)
	app.Version(version.Print("argus"))
	app.HelpFlag.Short('h')

	var flags serverFlags
	serve := app.Command("serve", "Run the server (the default command).").Default()
	flags.register(app)

	check := app.Command("check", "Check the validity of files.")
	checkConfig := check.Command("config", "Check that configuration files are valid.")
	checkConfigFiles := checkConfig.Arg("config-files", "The configuration files to check.").Required().Strings()
	checkRules := check.Command("rules", "Check that rule files are valid.")
	checkRulesFiles := checkRules.Arg("rule-files", "The rule files to check.").Required().Strings()

	testCmd := app.Command("test", "Unit testing.")
	testRules := testCmd.Command("rules", "Unit tests for rules, in promtool's test file format.")
	testRulesFiles := testRules.Arg("test-rule-file", "The unit test files for rules.").Required().Strings()

	cmd, err := app.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "argus: %s\n", err)
		return 2
	}
	switch cmd {
	case serve.FullCommand():
		return serveMain(&flags, stderr)
	case checkConfig.FullCommand():
		return checkConfigMain(*checkConfigFiles, stdout, stderr)
	case checkRules.FullCommand():
		return checkRulesMain(*checkRulesFiles, stdout, stderr)
	case testRules.FullCommand():
		return unittest.Run(*testRulesFiles, stdout, stderr)
	}
	// --help and --version end here: kingpin has printed what was asked.
	return 0
}
