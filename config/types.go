package config

import (
	"net/url"

	"github.com/alecthomas/units"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"
)

// Config is the top-level Prometheus-format configuration. Field and YAML
// names follow Prometheus's own config package so that users' files and
// readers of both code bases find the same words.
type Config struct {
	GlobalConfig       GlobalConfig         `yaml:"global"`
	AlertingConfig     AlertingConfig       `yaml:"alerting,omitempty"`
	RuleFiles          []string             `yaml:"rule_files,omitempty"`
	ScrapeConfigFiles  []string             `yaml:"scrape_config_files,omitempty"`
	ScrapeConfigs      []*ScrapeConfig      `yaml:"scrape_configs,omitempty"`
	StorageConfig      StorageConfig        `yaml:"storage,omitempty"`
	TracingConfig      TracingConfig        `yaml:"tracing,omitempty"`
	RemoteWriteConfigs []*RemoteWriteConfig `yaml:"remote_write,omitempty"`
	RemoteReadConfigs  []*RemoteReadConfig  `yaml:"remote_read,omitempty"`
	OTLPConfig         OTLPConfig           `yaml:"otlp,omitempty"`
	RuntimeConfig      RuntimeConfig        `yaml:"runtime,omitempty"`

	// Source is the file the config was read from ("" for the embedded one).
	Source string `yaml:"-"`
	// Original is the raw YAML as read, served by /api/v1/status/config.
	Original string `yaml:"-"`
}

// GlobalConfig holds the defaults shared by the other sections.
type GlobalConfig struct {
	ScrapeInterval                 model.Duration   `yaml:"scrape_interval,omitempty"`
	ScrapeTimeout                  model.Duration   `yaml:"scrape_timeout,omitempty"`
	ScrapeProtocols                []string         `yaml:"scrape_protocols,omitempty"`
	EvaluationInterval             model.Duration   `yaml:"evaluation_interval,omitempty"`
	RuleQueryOffset                model.Duration   `yaml:"rule_query_offset,omitempty"`
	QueryLogFile                   string           `yaml:"query_log_file,omitempty"`
	ScrapeFailureLogFile           string           `yaml:"scrape_failure_log_file,omitempty"`
	ExternalLabels                 labels.Labels    `yaml:"external_labels,omitempty"`
	BodySizeLimit                  units.Base2Bytes `yaml:"body_size_limit,omitempty"`
	SampleLimit                    uint             `yaml:"sample_limit,omitempty"`
	TargetLimit                    uint             `yaml:"target_limit,omitempty"`
	LabelLimit                     uint             `yaml:"label_limit,omitempty"`
	LabelNameLengthLimit           uint             `yaml:"label_name_length_limit,omitempty"`
	LabelValueLengthLimit          uint             `yaml:"label_value_length_limit,omitempty"`
	KeepDroppedTargets             uint             `yaml:"keep_dropped_targets,omitempty"`
	MetricNameValidationScheme     string           `yaml:"metric_name_validation_scheme,omitempty"`
	MetricNameEscapingScheme       string           `yaml:"metric_name_escaping_scheme,omitempty"`
	AlwaysScrapeClassicHistograms  bool             `yaml:"always_scrape_classic_histograms,omitempty"`
	ConvertClassicHistogramsToNHCB bool             `yaml:"convert_classic_histograms_to_nhcb,omitempty"`
	ExtraScrapeMetrics             bool             `yaml:"extra_scrape_metrics,omitempty"`
	// ScrapeNativeHistograms is nil when unset so that jobs can tell "not
	// configured" from "disabled".
	ScrapeNativeHistograms *bool `yaml:"scrape_native_histograms,omitempty"`
}

// StaticConfig is one entry of static_configs: a group of targets sharing labels.
type StaticConfig struct {
	Targets []string       `yaml:"targets"`
	Labels  model.LabelSet `yaml:"labels,omitempty"`
}

// ScrapeConfig configures one scrape job.
type ScrapeConfig struct {
	JobName                  string           `yaml:"job_name"`
	HonorLabels              bool             `yaml:"honor_labels,omitempty"`
	HonorTimestamps          bool             `yaml:"honor_timestamps"`
	TrackTimestampsStaleness bool             `yaml:"track_timestamps_staleness"`
	Params                   url.Values       `yaml:"params,omitempty"`
	ScrapeInterval           model.Duration   `yaml:"scrape_interval,omitempty"`
	ScrapeTimeout            model.Duration   `yaml:"scrape_timeout,omitempty"`
	ScrapeProtocols          []string         `yaml:"scrape_protocols,omitempty"`
	ScrapeFallbackProtocol   string           `yaml:"fallback_scrape_protocol,omitempty"`
	EnableCompression        bool             `yaml:"enable_compression"`
	MetricsPath              string           `yaml:"metrics_path,omitempty"`
	Scheme                   string           `yaml:"scheme,omitempty"`
	BodySizeLimit            units.Base2Bytes `yaml:"body_size_limit,omitempty"`
	SampleLimit              uint             `yaml:"sample_limit,omitempty"`
	TargetLimit              uint             `yaml:"target_limit,omitempty"`
	LabelLimit               uint             `yaml:"label_limit,omitempty"`
	LabelNameLengthLimit     uint             `yaml:"label_name_length_limit,omitempty"`
	LabelValueLengthLimit    uint             `yaml:"label_value_length_limit,omitempty"`
	KeepDroppedTargets       uint             `yaml:"keep_dropped_targets,omitempty"`

	// The fields below inherit the global value when unset; the pointers
	// distinguish "unset" from "false".
	ScrapeNativeHistograms         *bool   `yaml:"scrape_native_histograms,omitempty"`
	AlwaysScrapeClassicHistograms  *bool   `yaml:"always_scrape_classic_histograms,omitempty"`
	ConvertClassicHistogramsToNHCB *bool   `yaml:"convert_classic_histograms_to_nhcb,omitempty"`
	ExtraScrapeMetrics             *bool   `yaml:"extra_scrape_metrics,omitempty"`
	ScrapeFailureLogFile           string  `yaml:"scrape_failure_log_file,omitempty"`
	NativeHistogramBucketLimit     uint    `yaml:"native_histogram_bucket_limit,omitempty"`
	NativeHistogramMinBucketFactor float64 `yaml:"native_histogram_min_bucket_factor,omitempty"`
	MetricNameValidationScheme     string  `yaml:"metric_name_validation_scheme,omitempty"`
	MetricNameEscapingScheme       string  `yaml:"metric_name_escaping_scheme,omitempty"`

	StaticConfigs        []*StaticConfig   `yaml:"static_configs,omitempty"`
	FileSDConfigs        []*FileSDConfig   `yaml:"file_sd_configs,omitempty"`
	HTTPSDConfigs        []*HTTPSDConfig   `yaml:"http_sd_configs,omitempty"`
	DNSSDConfigs         []*DNSSDConfig    `yaml:"dns_sd_configs,omitempty"`
	RelabelConfigs       []*relabel.Config `yaml:"relabel_configs,omitempty"`
	MetricRelabelConfigs []*relabel.Config `yaml:"metric_relabel_configs,omitempty"`

	HTTPClientConfig commoncfg.HTTPClientConfig `yaml:",inline"`
}

// AlertingConfig configures where alerts go.
type AlertingConfig struct {
	AlertRelabelConfigs []*relabel.Config     `yaml:"alert_relabel_configs,omitempty"`
	AlertmanagerConfigs []*AlertmanagerConfig `yaml:"alertmanagers,omitempty"`
}

// AlertmanagerConfig configures one set of Alertmanagers.
type AlertmanagerConfig struct {
	Scheme              string            `yaml:"scheme,omitempty"`
	PathPrefix          string            `yaml:"path_prefix,omitempty"`
	Timeout             model.Duration    `yaml:"timeout,omitempty"`
	APIVersion          string            `yaml:"api_version"`
	StaticConfigs       []*StaticConfig   `yaml:"static_configs,omitempty"`
	FileSDConfigs       []*FileSDConfig   `yaml:"file_sd_configs,omitempty"`
	HTTPSDConfigs       []*HTTPSDConfig   `yaml:"http_sd_configs,omitempty"`
	DNSSDConfigs        []*DNSSDConfig    `yaml:"dns_sd_configs,omitempty"`
	RelabelConfigs      []*relabel.Config `yaml:"relabel_configs,omitempty"`
	AlertRelabelConfigs []*relabel.Config `yaml:"alert_relabel_configs,omitempty"`

	HTTPClientConfig commoncfg.HTTPClientConfig `yaml:",inline"`
}

// StorageConfig configures local storage.
type StorageConfig struct {
	TSDBConfig      *TSDBConfig      `yaml:"tsdb,omitempty"`
	ExemplarsConfig *ExemplarsConfig `yaml:"exemplars,omitempty"`
}

// TSDBConfig holds the TSDB settings that may change on reload.
type TSDBConfig struct {
	// OutOfOrderTimeWindow is how far behind the newest sample of the head an
	// out-of-order sample may be and still be accepted.
	OutOfOrderTimeWindow model.Duration `yaml:"out_of_order_time_window,omitempty"`
	// StaleSeriesCompactionThreshold is the fraction (0-1) of stale series in
	// the head above which they are compacted away early; 0 disables it.
	StaleSeriesCompactionThreshold float64              `yaml:"stale_series_compaction_threshold,omitempty"`
	ChunkEncoding                  ChunkEncodingConfig  `yaml:"chunk_encoding,omitempty"`
	Retention                      *TSDBRetentionConfig `yaml:"retention,omitempty"`
}

// Float chunk encodings storage.tsdb.chunk_encoding.floats accepts.
const (
	FloatChunkEncodingXOR  = "xor"
	FloatChunkEncodingXOR2 = "xor2"
)

// ChunkEncodingConfig chooses the encoding of newly cut chunks. Empty keeps
// the one --enable-feature selected (xor unless xor2-encoding is on).
type ChunkEncodingConfig struct {
	Floats string `yaml:"floats,omitempty"`
}

// TSDBRetentionConfig is retention set in the config file; it overrides the flags.
type TSDBRetentionConfig struct {
	Time model.Duration   `yaml:"time,omitempty"`
	Size units.Base2Bytes `yaml:"size,omitempty"`
	// Percentage is the share of the disk the blocks may use, 0-100.
	Percentage float64 `yaml:"percentage,omitempty"`
}

// ExemplarsConfig configures exemplar storage.
type ExemplarsConfig struct {
	MaxExemplars int64 `yaml:"max_exemplars,omitempty"`
}

// TracingConfig is parsed for compatibility; Argus does not trace yet.
type TracingConfig struct {
	ClientType       string              `yaml:"client_type,omitempty"`
	Endpoint         string              `yaml:"endpoint,omitempty"`
	SamplingFraction float64             `yaml:"sampling_fraction,omitempty"`
	Insecure         bool                `yaml:"insecure,omitempty"`
	TLSConfig        commoncfg.TLSConfig `yaml:"tls_config,omitempty"`
	Headers          map[string]string   `yaml:"headers,omitempty"`
	Compression      string              `yaml:"compression,omitempty"`
	Timeout          model.Duration      `yaml:"timeout,omitempty"`
}

// OTLPConfig is parsed for compatibility.
type OTLPConfig struct {
	PromoteAllResourceAttributes         bool     `yaml:"promote_all_resource_attributes,omitempty"`
	PromoteResourceAttributes            []string `yaml:"promote_resource_attributes,omitempty"`
	IgnoreResourceAttributes             []string `yaml:"ignore_resource_attributes,omitempty"`
	TranslationStrategy                  string   `yaml:"translation_strategy,omitempty"`
	KeepIdentifyingResourceAttributes    bool     `yaml:"keep_identifying_resource_attributes,omitempty"`
	ConvertHistogramsToNHCB              bool     `yaml:"convert_histograms_to_nhcb,omitempty"`
	PromoteScopeMetadata                 bool     `yaml:"promote_scope_metadata,omitempty"`
	LabelNameUnderscoreSanitization      bool     `yaml:"label_name_underscore_sanitization,omitempty"`
	LabelNamePreserveMultipleUnderscores bool     `yaml:"label_name_preserve_multiple_underscores,omitempty"`
}

// RuntimeConfig holds Go runtime settings.
type RuntimeConfig struct {
	GoGC int `yaml:"gogc,omitempty"`
	// LogLevel is one of debug, info, warn, error.
	LogLevel string `yaml:"log_level,omitempty"`
}

// RemoteWriteConfig configures one remote-write destination.
type RemoteWriteConfig struct {
	URL                  *commoncfg.URL    `yaml:"url"`
	RemoteTimeout        model.Duration    `yaml:"remote_timeout,omitempty"`
	Headers              map[string]string `yaml:"headers,omitempty"`
	WriteRelabelConfigs  []*relabel.Config `yaml:"write_relabel_configs,omitempty"`
	Name                 string            `yaml:"name,omitempty"`
	SendExemplars        bool              `yaml:"send_exemplars,omitempty"`
	SendNativeHistograms bool              `yaml:"send_native_histograms,omitempty"`
	RoundRobinDNS        bool              `yaml:"round_robin_dns,omitempty"`
	ProtobufMessage      string            `yaml:"protobuf_message,omitempty"`
	FailedRequestLogging bool              `yaml:"failed_request_logging,omitempty"`
	ConvertNHCBToClassic bool              `yaml:"convert_nhcb_to_classic,omitempty"`

	HTTPClientConfig commoncfg.HTTPClientConfig `yaml:",inline"`
	QueueConfig      QueueConfig                `yaml:"queue_config,omitempty"`
	MetadataConfig   MetadataConfig             `yaml:"metadata_config,omitempty"`
}

// QueueConfig tunes the remote-write shards.
type QueueConfig struct {
	Capacity          int            `yaml:"capacity,omitempty"`
	MaxShards         int            `yaml:"max_shards,omitempty"`
	MinShards         int            `yaml:"min_shards,omitempty"`
	MaxSamplesPerSend int            `yaml:"max_samples_per_send,omitempty"`
	BatchSendDeadline model.Duration `yaml:"batch_send_deadline,omitempty"`
	MinBackoff        model.Duration `yaml:"min_backoff,omitempty"`
	MaxBackoff        model.Duration `yaml:"max_backoff,omitempty"`
	RetryOnRateLimit  bool           `yaml:"retry_on_http_429,omitempty"`
	SampleAgeLimit    model.Duration `yaml:"sample_age_limit,omitempty"`
}

// MetadataConfig configures metadata sending.
type MetadataConfig struct {
	Send              bool           `yaml:"send"`
	SendInterval      model.Duration `yaml:"send_interval"`
	MaxSamplesPerSend int            `yaml:"max_samples_per_send,omitempty"`
}

// RemoteReadConfig configures one remote-read source.
type RemoteReadConfig struct {
	URL                  *commoncfg.URL    `yaml:"url"`
	RemoteTimeout        model.Duration    `yaml:"remote_timeout,omitempty"`
	ChunkedReadLimit     uint64            `yaml:"chunked_read_limit,omitempty"`
	Headers              map[string]string `yaml:"headers,omitempty"`
	ReadRecent           bool              `yaml:"read_recent,omitempty"`
	Name                 string            `yaml:"name,omitempty"`
	RequiredMatchers     model.LabelSet    `yaml:"required_matchers,omitempty"`
	FilterExternalLabels bool              `yaml:"filter_external_labels,omitempty"`

	HTTPClientConfig commoncfg.HTTPClientConfig `yaml:",inline"`
}

// FileSDConfig discovers targets from JSON or YAML files of target groups.
type FileSDConfig struct {
	Files           []string       `yaml:"files"`
	RefreshInterval model.Duration `yaml:"refresh_interval,omitempty"`
}

// HTTPSDConfig discovers targets from an HTTP endpoint returning target groups.
type HTTPSDConfig struct {
	HTTPClientConfig commoncfg.HTTPClientConfig `yaml:",inline"`
	RefreshInterval  model.Duration             `yaml:"refresh_interval,omitempty"`
	URL              string                     `yaml:"url"`
}

// DNSSDConfig discovers targets from DNS records.
type DNSSDConfig struct {
	Names           []string       `yaml:"names"`
	RefreshInterval model.Duration `yaml:"refresh_interval,omitempty"`
	Type            string         `yaml:"type"`
	// Port is used for A, AAAA, MX and NS records; SRV records carry their own.
	Port int `yaml:"port"`
}
