package main

import (
	"fmt"
	"io"

	"github.com/argusmon/argus/config"
	"github.com/argusmon/argus/rules"
)

// checkConfigMain validates each file the way the server would load it,
// including the rule files it names, and prints a verdict per file, as
// promtool does. It exits 1 if any file fails.
func checkConfigMain(files []string, stdout, stderr io.Writer) int {
	code := 0
	for _, f := range files {
		fmt.Fprintf(stdout, "Checking %s\n", f)
		cfg, err := config.LoadFile(f)
		if err != nil {
			fmt.Fprintf(stderr, "  FAILED: %s\n", err)
			code = 1
			continue
		}
		ruleFiles, err := expandRuleFiles(cfg.RuleFiles)
		if err != nil {
			fmt.Fprintf(stderr, "  FAILED: %s\n", err)
			code = 1
			continue
		}
		fmt.Fprintf(stdout, "  SUCCESS: %s is valid Argus/Prometheus config file syntax (%d scrape configs, %d rule files)\n",
			f, len(cfg.ScrapeConfigs), len(ruleFiles))
		if len(ruleFiles) > 0 && checkRulesMain(ruleFiles, stdout, stderr) != 0 {
			code = 1
		}
	}
	return code
}

// checkRulesMain validates rule files as the rule manager would load them:
// YAML structure, PromQL expressions and templates. Every problem is
// printed with file:line:column; it exits 1 if there is any.
func checkRulesMain(files []string, stdout, stderr io.Writer) int {
	code := 0
	for _, f := range files {
		fmt.Fprintf(stdout, "Checking %s\n", f)
		groups, errs := rules.ParseFiles([]string{f})
		if len(errs) > 0 {
			fmt.Fprintf(stderr, "  FAILED:\n")
			for _, err := range errs {
				fmt.Fprintf(stderr, "%s\n", err)
			}
			code = 1
			continue
		}
		n := 0
		for _, g := range groups {
			n += len(g.Rules)
		}
		fmt.Fprintf(stdout, "  SUCCESS: %d rules found\n", n)
	}
	return code
}
