package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
)

// scrapeConfigFile is the content of a file named by scrape_config_files.
type scrapeConfigFile struct {
	ScrapeConfigs []*ScrapeConfig `yaml:"scrape_configs"`
}

// loadScrapeConfigFiles appends the jobs of the files matched by
// scrape_config_files to c.ScrapeConfigs, as Prometheus merges them: each
// job gets the global defaults, its relative paths resolve against its own
// file's directory, and a job name may appear only once across the main
// file and all others. Errors name the file and line they come from.
func (c *Config) loadScrapeConfigFiles() error {
	seen := map[string]string{}
	for _, sc := range c.ScrapeConfigs {
		seen[sc.JobName] = c.Source
	}
	for _, pattern := range c.ScrapeConfigFiles {
		files, err := filepath.Glob(pattern)
		if err != nil {
			return &Error{File: c.Source, Err: fmt.Errorf("scrape_config_files pattern %q: %w", pattern, err)}
		}
		slices.Sort(files)
		for _, f := range files {
			jobs, err := loadScrapeConfigFile(f, &c.GlobalConfig)
			if err != nil {
				return err
			}
			for _, sc := range jobs {
				if prev, dup := seen[sc.JobName]; dup {
					return &Error{File: f, Err: fmt.Errorf("found multiple scrape configs with job name %q (also in %s)", sc.JobName, prev)}
				}
				seen[sc.JobName] = f
				c.ScrapeConfigs = append(c.ScrapeConfigs, sc)
			}
		}
	}
	return nil
}

func loadScrapeConfigFile(filename string, global *GlobalConfig) ([]*ScrapeConfig, error) {
	data, err := os.ReadFile(filename)
	if err != nil {
		return nil, &Error{File: filename, Err: fmt.Errorf("reading scrape config file: %w", err)}
	}
	var content scrapeConfigFile
	doc, err := decodeDocument(data, filename, &content)
	if err != nil {
		return nil, err
	}
	v := &validator{file: filename}
	p := rootPos(doc).key("scrape_configs")
	for i, sc := range content.ScrapeConfigs {
		sp := p.index(i)
		if sc == nil {
			return nil, v.errorf(sp, "empty or null scrape config section")
		}
		if err := v.scrapeConfig(sc, global, sp); err != nil {
			return nil, err
		}
		sc.setDirectory(filepath.Dir(filename))
	}
	return content.ScrapeConfigs, nil
}
