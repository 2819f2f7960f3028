package discovery

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	commoncfg "github.com/prometheus/common/config"

	"github.com/argusmon/argus/config"
)

// Provider discovers target groups. Run sends the groups it knows as soon as
// it can, then whatever changes, until ctx is done; a send must not outlive
// ctx. Groups are keyed by Source: a group replaces the previous one of the
// same source, and a group without targets removes it.
type Provider interface {
	Run(ctx context.Context, up chan<- []*Group)
}

// Config is the part of a scrape job that decides its providers. Jobs with
// equal Configs (reflect.DeepEqual) keep their running providers on reload.
type Config struct {
	Static []*config.StaticConfig
	File   []*config.FileSDConfig
	HTTP   []*config.HTTPSDConfig
	DNS    []*config.DNSSDConfig
}

// ConfigOf extracts the discovery part of a scrape job.
func ConfigOf(sc *config.ScrapeConfig) Config {
	return Config{Static: sc.StaticConfigs, File: sc.FileSDConfigs, HTTP: sc.HTTPSDConfigs, DNS: sc.DNSSDConfigs}
}

// ProviderOptions are the settings shared by every provider a Manager
// builds. The zero value works.
type ProviderOptions struct {
	// Resolver answers dns_sd lookups; nil uses net.DefaultResolver.
	Resolver Resolver
	// HTTPClientOptions are applied to every http_sd client.
	HTTPClientOptions []commoncfg.HTTPClientOption
	// FilePollInterval is how often file_sd checks its files for changes;
	// 0 means 5s.
	FilePollInterval time.Duration
}

// newProviders builds the providers of one job. Static groups come first so
// that a job's address list is known without waiting for anything else.
func newProviders(job string, c Config, o ProviderOptions, logger *slog.Logger, m *metrics) ([]Provider, error) {
	var provs []Provider
	if len(c.Static) > 0 {
		provs = append(provs, NewStatic(c.Static))
	}
	for i, fc := range c.File {
		if fc == nil {
			return nil, fmt.Errorf("file_sd_configs[%d] is empty", i)
		}
		provs = append(provs, NewFile(fc, FileOptions{
			Logger:       logger.With("discovery", "file"),
			PollInterval: o.FilePollInterval,
			ReadErrors:   m.fileReadErrors,
		}))
	}
	for i, hc := range c.HTTP {
		if hc == nil {
			return nil, fmt.Errorf("http_sd_configs[%d] is empty", i)
		}
		p, err := NewHTTP(hc, HTTPOptions{
			Logger:            logger.With("discovery", "http"),
			HTTPClientOptions: o.HTTPClientOptions,
			Failures:          m.httpFailures,
			ClientName:        job,
		})
		if err != nil {
			return nil, fmt.Errorf("http_sd_configs[%d]: %w", i, err)
		}
		provs = append(provs, p)
	}
	for i, dc := range c.DNS {
		if dc == nil {
			return nil, fmt.Errorf("dns_sd_configs[%d] is empty", i)
		}
		p, err := NewDNS(dc, DNSOptions{
			Logger:   logger.With("discovery", "dns"),
			Resolver: o.Resolver,
			Failures: m.dnsFailures,
		})
		if err != nil {
			return nil, fmt.Errorf("dns_sd_configs[%d]: %w", i, err)
		}
		provs = append(provs, p)
	}
	return provs, nil
}

// send delivers groups unless ctx ends first.
func send(ctx context.Context, up chan<- []*Group, groups []*Group) bool {
	select {
	case up <- groups:
		return true
	case <-ctx.Done():
		return false
	}
}
