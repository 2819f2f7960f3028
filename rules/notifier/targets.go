package notifier

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"

	"github.com/argusmon/argus/scrape/discovery"
)

// targetsOf turns target groups into the set's push URLs, applying
// relabel_configs. Labels are layered as in Prometheus: scheme and push
// path first, then the target's own labels, then the group's labels the
// target does not set, so that discovery can override scheme and path.
// Targets with an unusable address are reported in errs and left out.
func (s *amSet) targetsOf(groups []*discovery.Group) (urls, dropped []*url.URL, errs []error) {
	seen := map[string]bool{}
	lb := labels.NewBuilder(labels.EmptyLabels())
	for _, g := range groups {
		if g == nil {
			continue
		}
		for _, t := range g.Targets {
			lb.Reset(labels.EmptyLabels())
			lb.Set(model.SchemeLabel, cmpOr(s.cfg.Scheme, defaultScheme))
			lb.Set(alertsPathLabel, s.pushPath)
			for ln, lv := range t {
				lb.Set(string(ln), string(lv))
			}
			for ln, lv := range g.Labels {
				if _, ok := t[ln]; !ok {
					lb.Set(string(ln), string(lv))
				}
			}
			before := lb.Labels()
			if !relabel.ProcessBuilder(lb, s.cfg.RelabelConfigs...) {
				dropped = append(dropped, targetURL(before))
				continue
			}
			u := targetURL(lb.Labels())
			if u.Host == "" || strings.Contains(u.Host, "/") {
				errs = append(errs, fmt.Errorf("invalid address %q", u.Host))
				continue
			}
			// Two targets relabelled to one URL are one Alertmanager: posting
			// twice would only duplicate notifications.
			if key := u.String(); !seen[key] {
				seen[key] = true
				urls = append(urls, u)
			}
		}
	}
	return urls, dropped, errs
}

// setGroups rebuilds the set's Alertmanagers from discovered groups. Bad
// addresses are logged, not fatal: they come from outside the config.
func (s *amSet) setGroups(groups []*discovery.Group) {
	urls, dropped, errs := s.targetsOf(groups)
	if len(errs) > 0 {
		s.logger.Warn("ignoring discovered Alertmanagers", "err", errors.Join(errs...))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.groups, s.urls, s.dropped = groups, urls, dropped
}

// active returns the push URLs alerts currently go to.
func (s *amSet) active() []*url.URL {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.urls
}

// targets returns the active and dropped push URLs and the groups they
// were built from.
func (s *amSet) targets() (urls, dropped []*url.URL, groups []*discovery.Group) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.urls, s.dropped, s.groups
}

// discoveryConfig is the part of the set's config that decides its
// discovery providers.
func (s *amSet) discoveryConfig() discovery.Config {
	return discovery.Config{
		Static: s.cfg.StaticConfigs,
		File:   s.cfg.FileSDConfigs,
		HTTP:   s.cfg.HTTPSDConfigs,
		DNS:    s.cfg.DNSSDConfigs,
	}
}

// discovers reports whether the set's Alertmanagers come (also) from
// service discovery rather than only from static_configs.
func (s *amSet) discovers() bool {
	return len(s.cfg.FileSDConfigs)+len(s.cfg.HTTPSDConfigs)+len(s.cfg.DNSSDConfigs) > 0
}

// checkDiscovery builds, without running, the providers that can fail to
// build, so that a bad http_sd or dns_sd entry fails ApplyConfig instead
// of being only logged once discovery runs.
func checkDiscovery(cfg discovery.Config) error {
	for i, fc := range cfg.File {
		if fc == nil {
			return fmt.Errorf("file_sd_configs[%d] is empty", i)
		}
	}
	for i, hc := range cfg.HTTP {
		if hc == nil {
			return fmt.Errorf("http_sd_configs[%d] is empty", i)
		}
		if _, err := discovery.NewHTTP(hc, discovery.HTTPOptions{}); err != nil {
			return fmt.Errorf("http_sd_configs[%d]: %w", i, err)
		}
	}
	for i, dc := range cfg.DNS {
		if dc == nil {
			return fmt.Errorf("dns_sd_configs[%d] is empty", i)
		}
		if _, err := discovery.NewDNS(dc, discovery.DNSOptions{}); err != nil {
			return fmt.Errorf("dns_sd_configs[%d]: %w", i, err)
		}
	}
	return nil
}
