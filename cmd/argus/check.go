package main

import (
	"fmt"
	"io"

	"github.com/argusmon/argus/config"
)

// checkConfigMain validates each file the way the server would load it and
// prints a verdict per file, as promtool does. It exits 1 if any file fails.
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
		fmt.Fprintf(stdout, "  SUCCESS: %s is valid Argus/Prometheus config file syntax (%d scrape configs, %d rule file patterns)\n",
			f, len(cfg.ScrapeConfigs), len(cfg.RuleFiles))
	}
	return code
}
