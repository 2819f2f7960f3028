package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// validator applies defaults and checks one decoded configuration, using the
// node tree (through pos) for line numbers and for telling absent fields
// from explicit zeros. It stops at the first problem, as Prometheus does.
type validator struct {
	file string
}

func (v *validator) config(c *Config, p pos) error {
	if err := v.global(&c.GlobalConfig, p.key("global")); err != nil {
		return err
	}
	if err := v.filePatterns(c.RuleFiles, p.key("rule_files"), "rule file"); err != nil {
		return err
	}
	if err := v.filePatterns(c.ScrapeConfigFiles, p.key("scrape_config_files"), "scrape config file"); err != nil {
		return err
	}
	if err := v.scrapeConfigs(c, p.key("scrape_configs")); err != nil {
		return err
	}
	if err := v.alerting(&c.AlertingConfig, c.GlobalConfig.MetricNameValidationScheme, p.key("alerting")); err != nil {
		return err
	}
	if err := v.remoteWrites(c.RemoteWriteConfigs, c.GlobalConfig.MetricNameValidationScheme, p.key("remote_write")); err != nil {
		return err
	}
	if err := v.remoteReads(c.RemoteReadConfigs, p.key("remote_read")); err != nil {
		return err
	}
	if err := v.storage(&c.StorageConfig, p.key("storage")); err != nil {
		return err
	}
	if tp := p.key("tracing"); tp.present() {
		if err := v.tracing(&c.TracingConfig, tp); err != nil {
			return err
		}
	}
	if err := v.otlp(&c.OTLPConfig, c.GlobalConfig.MetricNameValidationScheme, p.key("otlp")); err != nil {
		return err
	}
	return v.runtime(&c.RuntimeConfig, p.key("runtime"))
}

func (v *validator) global(g *GlobalConfig, p pos) error {
	orDefault(&g.ScrapeInterval, DefaultScrapeInterval)
	if g.ScrapeTimeout > g.ScrapeInterval {
		return v.errorf(p.key("scrape_timeout"), "global scrape timeout greater than scrape interval (scrape_timeout %s > scrape_interval %s)", g.ScrapeTimeout, g.ScrapeInterval)
	}
	if g.ScrapeTimeout == 0 {
		g.ScrapeTimeout = min(DefaultScrapeTimeout, g.ScrapeInterval)
	}
	orDefault(&g.EvaluationInterval, DefaultEvaluationInterval)

	orDefault(&g.MetricNameValidationScheme, "utf8")
	scheme, err := validationScheme(g.MetricNameValidationScheme)
	if err != nil {
		return v.wrap(p.key("metric_name_validation_scheme"), err)
	}
	if g.MetricNameEscapingScheme == "" {
		g.MetricNameEscapingScheme = defaultEscaping(scheme)
	} else if err := checkEscaping(g.MetricNameEscapingScheme); err != nil {
		return v.wrap(p.key("metric_name_escaping_scheme"), err)
	}

	if g.ScrapeProtocols != nil {
		if err := checkScrapeProtocols(g.ScrapeProtocols); err != nil {
			return v.wrap(p.key("scrape_protocols"), err)
		}
	}

	g.ExternalLabels = expandExternalLabels(g.ExternalLabels)
	lp := p.key("external_labels")
	return g.ExternalLabels.Validate(func(l labels.Label) error {
		if !scheme.IsValidLabelName(l.Name) {
			return v.errorf(lp.key(l.Name), "external label name %q is not valid", l.Name)
		}
		if !utf8.ValidString(l.Value) {
			return v.errorf(lp.key(l.Name), "external label %q has a value that is not valid UTF-8", l.Name)
		}
		return nil
	})
}

// expandExternalLabels replaces $VAR and ${VAR} in label values with the
// environment, as Prometheus does; "$$" is a literal "$".
func expandExternalLabels(ls labels.Labels) labels.Labels {
	if ls.IsEmpty() {
		return ls
	}
	b := labels.NewScratchBuilder(ls.Len())
	ls.Range(func(l labels.Label) {
		b.Add(l.Name, os.Expand(l.Value, func(name string) string {
			if name == "$" {
				return "$"
			}
			return os.Getenv(name)
		}))
	})
	b.Sort()
	return b.Labels()
}

// validationScheme maps metric_name_validation_scheme to its model value.
func validationScheme(s string) (model.ValidationScheme, error) {
	switch s {
	case "utf8":
		return model.UTF8Validation, nil
	case "legacy":
		return model.LegacyValidation, nil
	}
	return model.UnsetValidation, fmt.Errorf("invalid metric_name_validation_scheme %q: must be \"utf8\" or \"legacy\"", s)
}

func defaultEscaping(scheme model.ValidationScheme) string {
	if scheme == model.LegacyValidation {
		return model.EscapeUnderscores
	}
	return model.AllowUTF8
}

func checkEscaping(s string) error {
	switch s {
	case model.AllowUTF8, model.EscapeUnderscores, model.EscapeDots, model.EscapeValues:
		return nil
	}
	return fmt.Errorf("invalid metric_name_escaping_scheme %q: must be one of %q, %q, %q or %q",
		s, model.AllowUTF8, model.EscapeUnderscores, model.EscapeDots, model.EscapeValues)
}

func checkScrapeProtocols(protocols []string) error {
	if len(protocols) == 0 {
		return errors.New("scrape_protocols cannot be empty")
	}
	seen := map[string]bool{}
	for _, sp := range protocols {
		if _, ok := ScrapeProtocolHeader(sp); !ok {
			return fmt.Errorf("unknown scrape protocol %q, supported: %s", sp, scrapeProtocolNames)
		}
		if seen[strings.ToLower(sp)] {
			return fmt.Errorf("scrape protocol %q is listed more than once", sp)
		}
		seen[strings.ToLower(sp)] = true
	}
	return nil
}

// globPattern is Prometheus's rule: a wildcard is allowed only in the last
// path element.
var globPattern = regexp.MustCompile(`^[^*]*(\*[^/]*)?$`)

func (v *validator) filePatterns(patterns []string, p pos, what string) error {
	for i, pat := range patterns {
		if !globPattern.MatchString(pat) {
			return v.errorf(p.index(i), "invalid %s path %q: a wildcard is only allowed in the last path element", what, pat)
		}
		if _, err := filepath.Match(pat, ""); err != nil {
			return v.errorf(p.index(i), "invalid %s path %q: %w", what, pat, err)
		}
	}
	return nil
}

func (v *validator) storage(s *StorageConfig, p pos) error {
	tp := p.key("tsdb")
	if s.TSDBConfig == nil {
		s.TSDBConfig = &TSDBConfig{}
	}
	t := s.TSDBConfig
	if t.Retention == nil {
		t.Retention = &TSDBRetentionConfig{}
	}
	if t.OutOfOrderTimeWindow < 0 {
		return v.errorf(tp.key("out_of_order_time_window"), "out_of_order_time_window must not be negative, got %s", t.OutOfOrderTimeWindow)
	}
	if t.StaleSeriesCompactionThreshold < 0 || t.StaleSeriesCompactionThreshold > 1 {
		return v.errorf(tp.key("stale_series_compaction_threshold"), "stale_series_compaction_threshold must be between 0 and 1, got %v", t.StaleSeriesCompactionThreshold)
	}
	switch t.ChunkEncoding.Floats {
	case "", FloatChunkEncodingXOR, FloatChunkEncodingXOR2:
	default:
		return v.errorf(tp.key("chunk_encoding").key("floats"), "chunk_encoding.floats must be %q or %q, or omitted, got %q", FloatChunkEncodingXOR, FloatChunkEncodingXOR2, t.ChunkEncoding.Floats)
	}
	rp := tp.key("retention")
	if t.Retention.Time < 0 {
		return v.errorf(rp.key("time"), "retention time must not be negative, got %s", t.Retention.Time)
	}
	if t.Retention.Size < 0 {
		return v.errorf(rp.key("size"), "retention size must not be negative, got %v", t.Retention.Size)
	}
	if t.Retention.Percentage < 0 || t.Retention.Percentage > 100 {
		return v.errorf(rp.key("percentage"), "retention percentage must be between 0 and 100, got %v", t.Retention.Percentage)
	}
	return nil
}

func (v *validator) tracing(t *TracingConfig, p pos) error {
	setDefault(p, "client_type", &t.ClientType, DefaultTracingClientType)
	if t.ClientType != "grpc" && t.ClientType != "http" {
		return v.errorf(p.key("client_type"), "tracing client_type must be \"grpc\" or \"http\", got %q", t.ClientType)
	}
	if t.Endpoint == "" {
		return v.errorf(p, "tracing endpoint must be set")
	}
	if t.Compression != "" && t.Compression != "gzip" {
		return v.errorf(p.key("compression"), "invalid tracing compression %q: only \"gzip\" is supported", t.Compression)
	}
	if t.SamplingFraction < 0 || t.SamplingFraction > 1 {
		return v.errorf(p.key("sampling_fraction"), "tracing sampling_fraction must be between 0 and 1, got %v", t.SamplingFraction)
	}
	if err := checkHeaders(t.Headers, "tracing"); err != nil {
		return v.wrap(p.key("headers"), err)
	}
	if err := t.TLSConfig.Validate(); err != nil {
		return v.wrap(p.key("tls_config"), err)
	}
	return nil
}

func (v *validator) otlp(o *OTLPConfig, validation string, p pos) error {
	setDefault(p, "translation_strategy", &o.TranslationStrategy, DefaultOTLPTranslation)
	setDefault(p, "label_name_underscore_sanitization", &o.LabelNameUnderscoreSanitization, true)
	setDefault(p, "label_name_preserve_multiple_underscores", &o.LabelNamePreserveMultipleUnderscores, true)

	switch o.TranslationStrategy {
	case "UnderscoreEscapingWithSuffixes", "UnderscoreEscapingWithoutSuffixes":
	case "NoUTF8EscapingWithSuffixes", "NoTranslation":
		if validation == "legacy" {
			return v.errorf(p.key("translation_strategy"), "OTLP translation_strategy %q is not allowed when metric_name_validation_scheme is legacy", o.TranslationStrategy)
		}
	default:
		return v.errorf(p.key("translation_strategy"), "unsupported OTLP translation_strategy %q", o.TranslationStrategy)
	}

	if o.PromoteAllResourceAttributes {
		if len(o.PromoteResourceAttributes) > 0 {
			return v.errorf(p.key("promote_resource_attributes"), "promote_all_resource_attributes and promote_resource_attributes cannot both be set")
		}
		return v.attributes(o.IgnoreResourceAttributes, p.key("ignore_resource_attributes"), "ignored")
	}
	if len(o.IgnoreResourceAttributes) > 0 {
		return v.errorf(p.key("ignore_resource_attributes"), "ignore_resource_attributes needs promote_all_resource_attributes: true")
	}
	return v.attributes(o.PromoteResourceAttributes, p.key("promote_resource_attributes"), "promoted")
}

// attributes trims OTel resource attribute names in place and rejects empty
// and repeated ones.
func (v *validator) attributes(attrs []string, p pos, adjective string) error {
	seen := map[string]bool{}
	for i, a := range attrs {
		a = strings.TrimSpace(a)
		if a == "" {
			return v.errorf(p.index(i), "empty %s OTel resource attribute", adjective)
		}
		if seen[a] {
			return v.errorf(p.index(i), "%s OTel resource attribute %q is listed more than once", adjective, a)
		}
		seen[a] = true
		attrs[i] = a
	}
	return nil
}

func (v *validator) runtime(r *RuntimeConfig, p pos) error {
	setDefault(p, "gogc", &r.GoGC, defaultGoGC())
	switch r.LogLevel {
	case "", "debug", "info", "warn", "error":
		return nil
	}
	return v.errorf(p.key("log_level"), "invalid log_level %q: must be debug, info, warn or error", r.LogLevel)
}
