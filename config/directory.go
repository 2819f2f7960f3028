package config

import (
	commoncfg "github.com/prometheus/common/config"
)

// SetDirectory resolves the relative file paths of the configuration
// (credentials, TLS files, rule files, file_sd files, log files) against dir,
// the directory of the configuration file, as Prometheus does. Absolute
// paths and empty ones are left alone.
func (c *Config) SetDirectory(dir string) {
	join := func(path *string) { *path = commoncfg.JoinDir(dir, *path) }
	join(&c.GlobalConfig.QueryLogFile)
	join(&c.GlobalConfig.ScrapeFailureLogFile)
	for i := range c.RuleFiles {
		join(&c.RuleFiles[i])
	}
	for i := range c.ScrapeConfigFiles {
		join(&c.ScrapeConfigFiles[i])
	}
	for _, sc := range c.ScrapeConfigs {
		if sc != nil {
			sc.setDirectory(dir)
		}
	}
	for _, am := range c.AlertingConfig.AlertmanagerConfigs {
		if am == nil {
			continue
		}
		am.HTTPClientConfig.SetDirectory(dir)
		setSDDirectory(dir, am.FileSDConfigs, am.HTTPSDConfigs)
	}
	for _, rw := range c.RemoteWriteConfigs {
		if rw != nil {
			rw.HTTPClientConfig.SetDirectory(dir)
		}
	}
	for _, rr := range c.RemoteReadConfigs {
		if rr != nil {
			rr.HTTPClientConfig.SetDirectory(dir)
		}
	}
	c.TracingConfig.TLSConfig.SetDirectory(dir)
}

func setSDDirectory(dir string, files []*FileSDConfig, https []*HTTPSDConfig) {
	for _, f := range files {
		if f == nil {
			continue
		}
		for i := range f.Files {
			f.Files[i] = commoncfg.JoinDir(dir, f.Files[i])
		}
	}
	for _, h := range https {
		if h != nil {
			h.HTTPClientConfig.SetDirectory(dir)
		}
	}
}

// setDirectory resolves a scrape job's relative paths against dir.
func (sc *ScrapeConfig) setDirectory(dir string) {
	sc.HTTPClientConfig.SetDirectory(dir)
	sc.ScrapeFailureLogFile = commoncfg.JoinDir(dir, sc.ScrapeFailureLogFile)
	setSDDirectory(dir, sc.FileSDConfigs, sc.HTTPSDConfigs)
}
