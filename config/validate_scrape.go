package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/relabel"
)

func (v *validator) scrapeConfigs(c *Config, p pos) error {
	firstLine := map[string]int{}
	for i, sc := range c.ScrapeConfigs {
		sp := p.index(i)
		if sc == nil {
			return v.errorf(sp, "empty or null scrape config section")
		}
		if err := v.scrapeConfig(sc, &c.GlobalConfig, sp); err != nil {
			return err
		}
		if line, dup := firstLine[sc.JobName]; dup {
			return v.errorf(sp.key("job_name"), "found multiple scrape configs with job name %q (first at line %d)", sc.JobName, line)
		}
		firstLine[sc.JobName] = sp.key("job_name").line
	}
	return nil
}

// scrapeConfig applies a job's defaults, inheriting from the global section,
// and validates it.
func (v *validator) scrapeConfig(c *ScrapeConfig, g *GlobalConfig, p pos) error {
	if c.JobName == "" {
		return v.errorf(p.key("job_name"), "job_name is empty")
	}
	job := fmt.Sprintf("job %q", c.JobName)

	setDefault(p, "metrics_path", &c.MetricsPath, DefaultMetricsPath)
	setDefault(p, "scheme", &c.Scheme, DefaultScheme)
	setDefault(p, "honor_timestamps", &c.HonorTimestamps, true)
	setDefault(p, "enable_compression", &c.EnableCompression, true)
	if err := v.httpClient(&c.HTTPClientConfig, p, true); err != nil {
		return err
	}
	if err := checkScheme(c.Scheme); err != nil {
		return v.errorf(p.key("scheme"), "%s: %w", job, err)
	}

	orDefault(&c.ScrapeInterval, g.ScrapeInterval)
	if c.ScrapeTimeout > c.ScrapeInterval {
		return v.errorf(p.key("scrape_timeout"), "scrape timeout greater than scrape interval for scrape config with %s (scrape_timeout %s > scrape_interval %s)", job, c.ScrapeTimeout, c.ScrapeInterval)
	}
	if c.ScrapeTimeout == 0 {
		c.ScrapeTimeout = min(g.ScrapeTimeout, c.ScrapeInterval)
	}
	orDefault(&c.BodySizeLimit, g.BodySizeLimit)
	orDefault(&c.SampleLimit, g.SampleLimit)
	orDefault(&c.TargetLimit, g.TargetLimit)
	orDefault(&c.LabelLimit, g.LabelLimit)
	orDefault(&c.LabelNameLengthLimit, g.LabelNameLengthLimit)
	orDefault(&c.LabelValueLengthLimit, g.LabelValueLengthLimit)
	orDefault(&c.KeepDroppedTargets, g.KeepDroppedTargets)
	orDefault(&c.ScrapeFailureLogFile, g.ScrapeFailureLogFile)
	if c.ScrapeNativeHistograms == nil {
		c.ScrapeNativeHistograms = boolPtr(g.ScrapeNativeHistograms != nil && *g.ScrapeNativeHistograms)
	}
	if c.ExtraScrapeMetrics == nil {
		c.ExtraScrapeMetrics = boolPtr(g.ExtraScrapeMetrics)
	}
	if c.AlwaysScrapeClassicHistograms == nil {
		c.AlwaysScrapeClassicHistograms = boolPtr(g.AlwaysScrapeClassicHistograms)
	}
	if c.ConvertClassicHistogramsToNHCB == nil {
		c.ConvertClassicHistogramsToNHCB = boolPtr(g.ConvertClassicHistogramsToNHCB)
	}

	if c.ScrapeProtocols == nil {
		switch {
		case g.ScrapeProtocols != nil:
			c.ScrapeProtocols = append([]string(nil), g.ScrapeProtocols...)
		case *c.ScrapeNativeHistograms:
			c.ScrapeProtocols = DefaultProtoFirstScrapeProtocols()
		default:
			c.ScrapeProtocols = DefaultScrapeProtocols()
		}
	}
	if err := checkScrapeProtocols(c.ScrapeProtocols); err != nil {
		return v.errorf(p.key("scrape_protocols"), "%s: %w", job, err)
	}
	if c.ScrapeFallbackProtocol != "" {
		if _, ok := ScrapeProtocolHeader(c.ScrapeFallbackProtocol); !ok {
			return v.errorf(p.key("fallback_scrape_protocol"), "%s: unknown fallback_scrape_protocol %q, supported: %s", job, c.ScrapeFallbackProtocol, scrapeProtocolNames)
		}
	}

	scheme, err := v.jobNameSchemes(c, g, p)
	if err != nil {
		return err
	}

	if err := v.relabelConfigs(c.RelabelConfigs, scheme, p.key("relabel_configs"), "target relabeling rule"); err != nil {
		return err
	}
	if err := v.relabelConfigs(c.MetricRelabelConfigs, scheme, p.key("metric_relabel_configs"), "metric relabeling rule"); err != nil {
		return err
	}
	return v.discovery(discoveryConfigs{
		static:     c.StaticConfigs,
		file:       c.FileSDConfigs,
		http:       c.HTTPSDConfigs,
		dns:        c.DNSSDConfigs,
		relabeling: len(c.RelabelConfigs) > 0,
	}, scheme, p)
}

// jobNameSchemes settles a job's metric name validation and escaping
// schemes: unset ones follow the global section, and an escaping scheme
// left blank follows the job's own validation scheme when that is set.
func (v *validator) jobNameSchemes(c *ScrapeConfig, g *GlobalConfig, p pos) (model.ValidationScheme, error) {
	localUnset := c.MetricNameValidationScheme == ""
	orDefault(&c.MetricNameValidationScheme, g.MetricNameValidationScheme)
	scheme, err := validationScheme(c.MetricNameValidationScheme)
	if err != nil {
		return scheme, v.wrap(p.key("metric_name_validation_scheme"), err)
	}
	if c.MetricNameEscapingScheme == "" {
		if localUnset {
			c.MetricNameEscapingScheme = g.MetricNameEscapingScheme
		} else {
			c.MetricNameEscapingScheme = defaultEscaping(scheme)
		}
	}
	if err := checkEscaping(c.MetricNameEscapingScheme); err != nil {
		return scheme, v.wrap(p.key("metric_name_escaping_scheme"), err)
	}
	if c.MetricNameEscapingScheme == model.AllowUTF8 && scheme != model.UTF8Validation {
		return scheme, v.errorf(p.key("metric_name_escaping_scheme"),
			"job %q: metric_name_escaping_scheme %q needs metric_name_validation_scheme utf8", c.JobName, model.AllowUTF8)
	}
	return scheme, nil
}

// httpClient applies the HTTP client defaults of prometheus/common (which
// remote write overrides for HTTP/2) and runs its validation.
func (v *validator) httpClient(h *commoncfg.HTTPClientConfig, p pos, http2 bool) error {
	setDefault(p, "follow_redirects", &h.FollowRedirects, true)
	setDefault(p, "enable_http2", &h.EnableHTTP2, http2)
	if err := h.Validate(); err != nil {
		return v.wrap(p, err)
	}
	return nil
}

func checkScheme(s string) error {
	if s != "http" && s != "https" {
		return fmt.Errorf("invalid scheme %q: must be \"http\" or \"https\"", s)
	}
	return nil
}

func (v *validator) relabelConfigs(rcs []*relabel.Config, scheme model.ValidationScheme, p pos, what string) error {
	for i, rc := range rcs {
		rp := p.index(i)
		if rc == nil {
			return v.errorf(rp, "empty or null %s", what)
		}
		if err := rc.Validate(scheme); err != nil {
			return v.errorf(rp, "invalid %s: %w", what, err)
		}
	}
	return nil
}

type discoveryConfigs struct {
	static []*StaticConfig
	file   []*FileSDConfig
	http   []*HTTPSDConfig
	dns    []*DNSSDConfig
	// relabeling is set when relabel_configs may rewrite __address__, which
	// makes static targets impossible to judge at load time.
	relabeling bool
}

func (v *validator) discovery(d discoveryConfigs, scheme model.ValidationScheme, p pos) error {
	sp := p.key("static_configs")
	for i, sc := range d.static {
		if err := v.staticConfig(sc, scheme, d.relabeling, sp.index(i)); err != nil {
			return err
		}
	}
	fp := p.key("file_sd_configs")
	for i, fc := range d.file {
		if err := v.fileSD(fc, fp.index(i)); err != nil {
			return err
		}
	}
	hp := p.key("http_sd_configs")
	for i, hc := range d.http {
		if err := v.httpSD(hc, hp.index(i)); err != nil {
			return err
		}
	}
	dp := p.key("dns_sd_configs")
	for i, dc := range d.dns {
		if err := v.dnsSD(dc, dp.index(i)); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) staticConfig(sc *StaticConfig, scheme model.ValidationScheme, relabeling bool, p pos) error {
	if sc == nil {
		return v.errorf(p, "empty or null static config")
	}
	tp := p.key("targets")
	if !relabeling {
		for i, t := range sc.Targets {
			if err := CheckTargetAddress(t); err != nil {
				return v.wrap(tp.index(i), err)
			}
		}
	}
	lp := p.key("labels")
	for name, value := range sc.Labels {
		if !scheme.IsValidLabelName(string(name)) {
			return v.errorf(lp.key(string(name)), "invalid label name %q", name)
		}
		if !utf8.ValidString(string(value)) {
			return v.errorf(lp.key(string(name)), "label %q has a value that is not valid UTF-8", name)
		}
	}
	return nil
}

// CheckTargetAddress reports whether a static target is a plain "host" or
// "host:port", the form __address__ takes; a URL is the usual mistake.
func CheckTargetAddress(address string) error {
	if address == "" {
		return errors.New("empty target address")
	}
	if strings.Contains(address, "/") {
		return fmt.Errorf("%q is not a valid target address: want host:port, without scheme or path (use scheme and metrics_path for those)", address)
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		// Prometheus accepts a bare host; the scheme decides the port.
		if strings.Count(address, ":") == 0 || (strings.HasPrefix(address, "[") && strings.HasSuffix(address, "]")) {
			return nil
		}
		return fmt.Errorf("%q is not a valid target address: %w", address, err)
	}
	if host == "" {
		return fmt.Errorf("%q is not a valid target address: empty host", address)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
		return fmt.Errorf("%q is not a valid target address: bad port %q", address, port)
	}
	return nil
}

// fileSDName is Prometheus's rule for file_sd paths: a wildcard only in the
// last element, and a JSON or YAML extension.
var fileSDName = regexp.MustCompile(`^[^*]*(\*[^/]*)?\.(json|yml|yaml|JSON|YML|YAML)$`)

func (v *validator) fileSD(c *FileSDConfig, p pos) error {
	if c == nil {
		return v.errorf(p, "empty or null file_sd_configs entry")
	}
	setDefault(p, "refresh_interval", &c.RefreshInterval, DefaultFileSDRefreshInterval)
	if len(c.Files) == 0 {
		return v.errorf(p, "file_sd_configs entry must list at least one file")
	}
	for i, name := range c.Files {
		if !fileSDName.MatchString(name) {
			return v.errorf(p.key("files").index(i), "path %q is not valid for file discovery: want a .json, .yml or .yaml file, with a wildcard only in the last element", name)
		}
	}
	return nil
}

func (v *validator) httpSD(c *HTTPSDConfig, p pos) error {
	if c == nil {
		return v.errorf(p, "empty or null http_sd_configs entry")
	}
	setDefault(p, "refresh_interval", &c.RefreshInterval, DefaultHTTPSDRefreshInterval)
	if err := v.httpClient(&c.HTTPClientConfig, p, true); err != nil {
		return err
	}
	if c.URL == "" {
		return v.errorf(p, "http_sd_configs entry: url is missing")
	}
	if err := checkHTTPURL(c.URL); err != nil {
		return v.errorf(p.key("url"), "http_sd_configs entry: %w", err)
	}
	return nil
}

func (v *validator) dnsSD(c *DNSSDConfig, p pos) error {
	if c == nil {
		return v.errorf(p, "empty or null dns_sd_configs entry")
	}
	setDefault(p, "refresh_interval", &c.RefreshInterval, DefaultDNSSDRefreshInterval)
	setDefault(p, "type", &c.Type, DefaultDNSSDType)
	if len(c.Names) == 0 {
		return v.errorf(p, "dns_sd_configs entry must list at least one name")
	}
	switch strings.ToUpper(c.Type) {
	case "SRV":
	case "A", "AAAA", "MX", "NS":
		if c.Port == 0 {
			return v.errorf(p, "dns_sd_configs entry of type %s needs a port", c.Type)
		}
	default:
		return v.errorf(p.key("type"), "invalid dns_sd_configs record type %q: must be SRV, A, AAAA, MX or NS", c.Type)
	}
	return nil
}

// checkHTTPURL requires an absolute http(s) URL with a host.
func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	return checkURL(u)
}

func checkURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("URL %q must use the http or https scheme", u.Redacted())
	}
	if u.Host == "" {
		return fmt.Errorf("URL %q has no host", u.Redacted())
	}
	return nil
}

func boolPtr(b bool) *bool { return &b }
