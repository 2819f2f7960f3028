package config

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

func TestLoadFileFullConfig(t *testing.T) {
	t.Setenv("GOGC", "")
	cfg, err := LoadFile(filepath.Join("testdata", "good.yml"))
	if err != nil {
		t.Fatalf("LoadFile: %v", err)
	}
	dir := "testdata"
	g := cfg.GlobalConfig
	node, secure, discovered := cfg.ScrapeConfigs[0], cfg.ScrapeConfigs[1], cfg.ScrapeConfigs[2]
	rw, rr := cfg.RemoteWriteConfigs[0], cfg.RemoteReadConfigs[0]
	am := cfg.AlertingConfig.AlertmanagerConfigs[0]

	checks := []struct {
		name      string
		got, want any
	}{
		{"source", cfg.Source, filepath.Join("testdata", "good.yml")},
		{"original kept", strings.HasPrefix(cfg.Original, "global:\n  scrape_interval: 30s"), true},
		{"global scrape_interval", g.ScrapeInterval, model.Duration(30 * time.Second)},
		{"global scrape_timeout default", g.ScrapeTimeout, model.Duration(10 * time.Second)},
		{"global evaluation_interval default", g.EvaluationInterval, model.Duration(time.Minute)},
		{"external label", g.ExternalLabels.Get("region"), "eu-west-1"},
		{"rule file resolved", cfg.RuleFiles[0], filepath.Join(dir, "rules/*.yml")},
		{"scrape config file resolved", cfg.ScrapeConfigFiles[0], filepath.Join(dir, "scrape.d/*.yml")},
		{"jobs", len(cfg.ScrapeConfigs), 3},

		{"job interval inherited", node.ScrapeInterval, model.Duration(30 * time.Second)},
		{"job timeout inherited", node.ScrapeTimeout, model.Duration(10 * time.Second)},
		{"metrics_path default", node.MetricsPath, "/metrics"},
		{"scheme default", node.Scheme, "http"},
		{"honor_timestamps default", node.HonorTimestamps, true},
		{"enable_compression default", node.EnableCompression, true},
		{"follow_redirects default", node.HTTPClientConfig.FollowRedirects, true},
		{"enable_http2 default", node.HTTPClientConfig.EnableHTTP2, true},
		{"scrape_protocols default", strings.Join(node.ScrapeProtocols, ","), strings.Join(DefaultScrapeProtocols(), ",")},
		{"validation scheme inherited", node.MetricNameValidationScheme, "utf8"},
		{"escaping scheme inherited", node.MetricNameEscapingScheme, model.AllowUTF8},
		{"static targets", strings.Join(node.StaticConfigs[0].Targets, ","), "node1:9100,node2:9100"},
		{"static labels", node.StaticConfigs[0].Labels["env"], model.LabelValue("prod")},
		{"relabel target", node.RelabelConfigs[0].TargetLabel, "host"},
		{"relabel default separator", node.RelabelConfigs[0].Separator, ";"},

		{"explicit scheme", secure.Scheme, "https"},
		{"explicit metrics_path", secure.MetricsPath, "/probe"},
		{"explicit honor_timestamps false", secure.HonorTimestamps, false},
		{"explicit enable_compression false", secure.EnableCompression, false},
		{"explicit timeout", secure.ScrapeTimeout, model.Duration(5 * time.Second)},
		{"bearer_token_file becomes authorization, resolved", secure.HTTPClientConfig.Authorization.CredentialsFile, filepath.Join(dir, "secrets/token")},
		{"tls ca_file resolved", secure.HTTPClientConfig.TLSConfig.CAFile, filepath.Join(dir, "certs/ca.pem")},
		{"file_sd resolved", secure.FileSDConfigs[0].Files[0], filepath.Join(dir, "targets/*.json")},
		{"file_sd refresh default", secure.FileSDConfigs[0].RefreshInterval, DefaultFileSDRefreshInterval},
		{"http_sd refresh default", discovered.HTTPSDConfigs[0].RefreshInterval, DefaultHTTPSDRefreshInterval},
		{"dns_sd type default", discovered.DNSSDConfigs[0].Type, "SRV"},

		{"alertmanager scheme", am.Scheme, "http"},
		{"alertmanager timeout", am.Timeout, model.Duration(10 * time.Second)},
		{"alertmanager api_version", am.APIVersion, "v2"},
		{"alertmanager password_file resolved", am.HTTPClientConfig.BasicAuth.PasswordFile, filepath.Join(dir, "secrets/am-password")},

		{"remote_write url", rw.URL.String(), "https://mimir.example.org/api/v1/push"},
		{"remote_write timeout", rw.RemoteTimeout, model.Duration(30 * time.Second)},
		{"remote_write http2 off", rw.HTTPClientConfig.EnableHTTP2, false},
		{"remote_write message", rw.ProtobufMessage, RemoteWriteV1Message},
		{"queue max_shards explicit", rw.QueueConfig.MaxShards, 10},
		{"queue min_shards default", rw.QueueConfig.MinShards, 1},
		{"queue capacity default", rw.QueueConfig.Capacity, 10000},
		{"queue max_samples_per_send default", rw.QueueConfig.MaxSamplesPerSend, 2000},
		{"queue batch_send_deadline default", rw.QueueConfig.BatchSendDeadline, model.Duration(5 * time.Second)},
		{"queue min_backoff default", rw.QueueConfig.MinBackoff, model.Duration(30 * time.Millisecond)},
		{"queue max_backoff default", rw.QueueConfig.MaxBackoff, model.Duration(5 * time.Second)},
		{"metadata send default", rw.MetadataConfig.Send, true},
		{"metadata interval default", rw.MetadataConfig.SendInterval, model.Duration(time.Minute)},

		{"remote_read timeout", rr.RemoteTimeout, model.Duration(time.Minute)},
		{"remote_read filter_external_labels", rr.FilterExternalLabels, true},

		{"ooo window", cfg.StorageConfig.TSDBConfig.OutOfOrderTimeWindow, model.Duration(30 * time.Minute)},
		{"float chunk encoding", cfg.StorageConfig.TSDBConfig.ChunkEncoding.Floats, "xor2"},
		{"retention time", cfg.StorageConfig.TSDBConfig.Retention.Time, model.Duration(15 * 24 * time.Hour)},
		{"retention size", int64(cfg.StorageConfig.TSDBConfig.Retention.Size), int64(512 << 20)},
		{"exemplars", cfg.StorageConfig.ExemplarsConfig.MaxExemplars, int64(50000)},
		{"tracing client default", cfg.TracingConfig.ClientType, "grpc"},
		{"otlp translation default", cfg.OTLPConfig.TranslationStrategy, "UnderscoreEscapingWithSuffixes"},
		{"otlp attribute trimmed", cfg.OTLPConfig.PromoteResourceAttributes[1], "k8s.pod.name"},
		{"gogc default", cfg.RuntimeConfig.GoGC, DefaultGoGC},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLoadEmptyIsDefault(t *testing.T) {
	for _, in := range []string{"", "\n", "# only a comment\n", "---\n"} {
		cfg, err := Load([]byte(in), "empty.yml")
		if err != nil {
			t.Fatalf("Load(%q): %v", in, err)
		}
		if len(cfg.ScrapeConfigs) != 0 {
			t.Errorf("Load(%q): %d scrape configs, want none", in, len(cfg.ScrapeConfigs))
		}
		g := cfg.GlobalConfig
		if g.ScrapeInterval != DefaultScrapeInterval || g.ScrapeTimeout != DefaultScrapeTimeout || g.EvaluationInterval != DefaultEvaluationInterval {
			t.Errorf("Load(%q): global %s/%s/%s, want 1m/10s/1m", in, g.ScrapeInterval, g.ScrapeTimeout, g.EvaluationInterval)
		}
		if cfg.StorageConfig.TSDBConfig == nil || cfg.StorageConfig.TSDBConfig.Retention == nil {
			t.Errorf("Load(%q): storage.tsdb.retention not defaulted", in)
		}
	}
}

func TestLoadConformanceStorage(t *testing.T) {
	cfg, err := LoadFile(filepath.Join("testdata", "conformance.yml"))
	if err != nil {
		t.Fatalf("LoadFile: %v", err)
	}
	hundredYears := model.Duration(100 * 365 * 24 * time.Hour)
	tsdb := cfg.StorageConfig.TSDBConfig
	if tsdb.OutOfOrderTimeWindow != hundredYears || tsdb.Retention.Time != hundredYears {
		t.Errorf("got ooo window %s and retention %s, want 100y for both", tsdb.OutOfOrderTimeWindow, tsdb.Retention.Time)
	}
	if cfg.GlobalConfig.EvaluationInterval != model.Duration(time.Minute) {
		t.Errorf("evaluation_interval = %s, want 1m", cfg.GlobalConfig.EvaluationInterval)
	}
}

func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"unknown_field.yml", []string{"unknown_field.yml:8:", "scrape_intervall", "scrape_configs[0]"}},
		{"bad_duration.yml", []string{"bad_duration.yml:3:", "scrape_configs[0].scrape_interval", `"15 seconds"`}},
		{"timeout_gt_interval.yml", []string{"timeout_gt_interval.yml:5:", `job "node"`, "scrape timeout greater than scrape interval", "(scrape_timeout 20s > scrape_interval 10s)"}},
		{"duplicate_job.yml", []string{"duplicate_job.yml:6:", `multiple scrape configs with job name "node"`, "first at line 2"}},
		{"bad_regex.yml", []string{"bad_regex.yml:6:", "relabel_configs[0].regex", "missing closing ]"}},
		{"bad_target.yml", []string{"bad_target.yml:6:", `"http://localhost:9100/metrics" is not a valid target address`}},
		{"missing_remote_write_url.yml", []string{"missing_remote_write_url.yml:3:", "url for remote_write is empty"}},
		{"bad_scheme.yml", []string{"bad_scheme.yml:3:", `invalid scheme "ftp"`}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := LoadFile(filepath.Join("testdata", "bad", tt.file))
			if err == nil {
				t.Fatal("LoadFile succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			var cerr *Error
			if !errors.As(err, &cerr) || cerr.Line == 0 {
				t.Errorf("error %q is not a located *Error", err)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{"syntax", "global:\n  scrape_interval: [1m\n", "bad.yml:2:"},
		{"syntax on line 1", "a: b: c\n", "bad.yml:1: mapping values are not allowed"},
		{"bad indentation", "global:\n  scrape_interval: 1m\n evaluation_interval: 1m\n", "bad.yml:"},
		{"not a mapping", "just text\n", "bad.yml:1: cannot unmarshal"},
		{"wrong type", "global:\n  sample_limit: lots\n", "bad.yml:2: cannot unmarshal !!str `lots`"},
		{"duplicate key", "global:\n  scrape_interval: 1m\n  scrape_interval: 2m\n", "bad.yml:3: mapping key \"scrape_interval\" already defined at line 2"},
		{"unknown top-level", "global: {}\nscrape_cfgs: []\n", "bad.yml:2: field scrape_cfgs not found in the top level"},
		{"unknown in tls_config", "scrape_configs:\n  - job_name: a\n    tls_config:\n      ca_fle: x\n", "bad.yml:4: field ca_fle not found in scrape_configs[0].tls_config"},
		{"unknown in relabel", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - actionn: drop\n", "bad.yml:4: field actionn not found in scrape_configs[0].relabel_configs[0]"},
		{"global timeout", "global:\n  scrape_interval: 5s\n  scrape_timeout: 6s\n", "bad.yml:3: global scrape timeout greater than scrape interval (scrape_timeout 6s > scrape_interval 5s)"},
		{"empty job name", "scrape_configs:\n  - job_name: \"\"\n", "bad.yml:2: job_name is empty"},
		{"missing job name", "scrape_configs:\n  - scheme: https\n", "bad.yml:2: job_name is empty"},
		{"null scrape config", "scrape_configs:\n  -\n", "bad.yml:2: empty or null scrape config"},
		{"bad relabel action", "scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - action: explode\n", `bad.yml:4: scrape_configs[0].relabel_configs[0].action: unknown relabel action "explode"`},
		{"relabel invalid target label", "global:\n  metric_name_validation_scheme: legacy\nscrape_configs:\n  - job_name: a\n    relabel_configs:\n      - target_label: 'a-b'\n", `bad.yml:6: invalid target relabeling rule: "a-b" is invalid 'target_label'`},
		{"bad target port", "scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['host:http']\n", `bad.yml:4: "host:http" is not a valid target address: bad port`},
		{"bad external label", "global:\n  metric_name_validation_scheme: legacy\n  external_labels:\n    'a-b': x\n", `bad.yml:4: external label name "a-b" is not valid`},
		{"bad validation scheme", "global:\n  metric_name_validation_scheme: ascii\n", `bad.yml:2: invalid metric_name_validation_scheme "ascii"`},
		{"bad scrape protocol", "scrape_configs:\n  - job_name: a\n    scrape_protocols: [Gopher]\n", `bad.yml:3: job "a": unknown scrape protocol "Gopher"`},
		{"bearer token twice", "scrape_configs:\n  - job_name: a\n    bearer_token: x\n    bearer_token_file: y\n", "bad.yml:2: at most one of bearer_token & bearer_token_file"},
		{"tls cert without key", "scrape_configs:\n  - job_name: a\n    tls_config:\n      cert_file: c.pem\n", "bad.yml:3: scrape_configs[0].tls_config: exactly one of key or key_file"},
		{"bad rule glob", "rule_files:\n  - ok.yml\n  - 'rules/[a.yml'\n", `bad.yml:3: invalid rule file path "rules/[a.yml"`},
		{"wildcard in directory", "rule_files:\n  - '*/rules.yml'\n", `bad.yml:2: invalid rule file path "*/rules.yml"`},
		{"alertmanager v1", "alerting:\n  alertmanagers:\n    - api_version: v1\n", `bad.yml:3: unsupported Alertmanager api_version "v1"`},
		{"alertmanager scheme", "alerting:\n  alertmanagers:\n    - scheme: smtp\n", `bad.yml:3: alertmanagers entry: invalid scheme "smtp"`},
		{"remote write url scheme", "remote_write:\n  - url: localhost:9090/push\n", `bad.yml:2: remote_write: URL "localhost:9090/push" must use the http or https scheme`},
		{"remote write duplicate name", "remote_write:\n  - url: http://a/push\n    name: x\n  - url: http://b/push\n    name: x\n", `bad.yml:5: found multiple remote_write configs with name "x" (first at line 3)`},
		{"remote write reserved header", "remote_write:\n  - url: http://a/push\n    headers:\n      Content-Type: x\n", `bad.yml:3: header "Content-Type" is reserved`},
		{"remote write auth header", "remote_write:\n  - url: http://a/push\n    headers:\n      authorization: x\n", "bad.yml:3: the Authorization header must be set through"},
		{"queue min > max", "remote_write:\n  - url: http://a/push\n    queue_config:\n      min_shards: 10\n      max_shards: 5\n", "bad.yml:3: queue_config min_shards must not be greater than max_shards"},
		{"queue explicit zero", "remote_write:\n  - url: http://a/push\n    queue_config:\n      max_shards: 0\n", "bad.yml:3: queue_config max_shards must be positive"},
		{"remote write bad message", "remote_write:\n  - url: http://a/push\n    protobuf_message: v3\n", `bad.yml:3: invalid protobuf_message "v3"`},
		{"remote read url missing", "remote_read:\n  - read_recent: true\n", "bad.yml:2: url for remote_read is empty"},
		{"remote read duplicate name", "remote_read:\n  - url: http://a/read\n    name: r\n  - url: http://b/read\n    name: r\n", `bad.yml:5: found multiple remote_read configs with name "r"`},
		{"negative retention size", "storage:\n  tsdb:\n    retention:\n      size: -1GB\n", "bad.yml:4:"},
		{"retention percentage", "storage:\n  tsdb:\n    retention:\n      percentage: 101\n", "bad.yml:4: retention percentage must be between 0 and 100"},
		{"bad chunk encoding", "storage:\n  tsdb:\n    chunk_encoding:\n      floats: gorilla\n", `bad.yml:4: chunk_encoding.floats must be "xor" or "xor2", or omitted, got "gorilla"`},
		{"bad ooo window", "storage:\n  tsdb:\n    out_of_order_time_window: -5m\n", "bad.yml:3: storage.tsdb.out_of_order_time_window"},
		{"tracing without endpoint", "tracing:\n  client_type: http\n", "bad.yml:1: tracing endpoint must be set"},
		{"tracing bad client", "tracing:\n  endpoint: x:4317\n  client_type: carrier-pigeon\n", `bad.yml:3: tracing client_type must be "grpc" or "http"`},
		{"otlp strategy", "otlp:\n  translation_strategy: Whatever\n", `bad.yml:2: unsupported OTLP translation_strategy "Whatever"`},
		{"otlp duplicate attribute", "otlp:\n  promote_resource_attributes: [a, ' a']\n", `bad.yml:2: promoted OTel resource attribute "a" is listed more than once`},
		{"file_sd bad extension", "scrape_configs:\n  - job_name: a\n    file_sd_configs:\n      - files: [targets.txt]\n", `bad.yml:4: path "targets.txt" is not valid for file discovery`},
		{"http_sd bad url", "scrape_configs:\n  - job_name: a\n    http_sd_configs:\n      - url: ftp://sd/\n", `bad.yml:4: http_sd_configs entry: URL "ftp://sd/" must use the http or https scheme`},
		{"dns_sd A without port", "scrape_configs:\n  - job_name: a\n    dns_sd_configs:\n      - names: [x.example.org]\n        type: A\n", "bad.yml:4: dns_sd_configs entry of type A needs a port"},
		{"runtime log level", "runtime:\n  log_level: loud\n", `bad.yml:2: invalid log_level "loud"`},
		{"escaping needs utf8", "scrape_configs:\n  - job_name: a\n    metric_name_validation_scheme: legacy\n    metric_name_escaping_scheme: allow-utf-8\n", "bad.yml:4: job \"a\": metric_name_escaping_scheme \"allow-utf-8\" needs metric_name_validation_scheme utf8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load([]byte(tt.yaml), "bad.yml")
			if err == nil {
				t.Fatalf("Load succeeded, want error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "bad.yml:") {
				t.Errorf("error %q does not start with the file name", err)
			}
		})
	}
}

func TestLoadReportsEveryUnknownField(t *testing.T) {
	_, err := Load([]byte("global:\n  scrape_intervall: 1m\nscrape_configs:\n  - job_name: a\n    honor_label: true\n"), "many.yml")
	if err == nil {
		t.Fatal("Load succeeded, want errors")
	}
	for _, w := range []string{"many.yml:2: field scrape_intervall not found in global", "many.yml:5: field honor_label not found in scrape_configs[0]"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

func TestLoadDefaultsAndInheritance(t *testing.T) {
	t.Setenv("ARGUS_TEST_REGION", "mars")
	cfg, err := Load([]byte(`
global:
  scrape_interval: 5s
  scrape_protocols: [PrometheusText0.0.4]
  sample_limit: 1000
  external_labels:
    region: ${ARGUS_TEST_REGION}
    price: $$5
scrape_configs:
  - job_name: fast
  - job_name: slow
    scrape_interval: 2m
    sample_limit: 10
  - job_name: legacy
    metric_name_validation_scheme: legacy
    scrape_protocols: [PrometheusProto, PrometheusText0.0.4]
    honor_timestamps: null
remote_write:
  - url: http://a/push
    metadata_config:
      send: false
    enable_http2: true
remote_read:
  - url: http://a/read
    filter_external_labels: false
runtime:
  gogc: 50
`), "inherit.yml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	fast, slow, legacy := cfg.ScrapeConfigs[0], cfg.ScrapeConfigs[1], cfg.ScrapeConfigs[2]
	checks := []struct {
		name      string
		got, want any
	}{
		{"global timeout capped at interval", cfg.GlobalConfig.ScrapeTimeout, model.Duration(5 * time.Second)},
		{"env expanded in external label", cfg.GlobalConfig.ExternalLabels.Get("region"), "mars"},
		{"$$ is a literal $", cfg.GlobalConfig.ExternalLabels.Get("price"), "$5"},
		{"fast timeout", fast.ScrapeTimeout, model.Duration(5 * time.Second)},
		{"slow timeout from global", slow.ScrapeTimeout, model.Duration(5 * time.Second)},
		{"sample_limit inherited", fast.SampleLimit, uint(1000)},
		{"sample_limit overridden", slow.SampleLimit, uint(10)},
		{"global protocols inherited", strings.Join(fast.ScrapeProtocols, ","), "PrometheusText0.0.4"},
		{"job protocols kept", strings.Join(legacy.ScrapeProtocols, ","), "PrometheusProto,PrometheusText0.0.4"},
		{"legacy escaping", legacy.MetricNameEscapingScheme, model.EscapeUnderscores},
		{"null keeps the default", legacy.HonorTimestamps, true},
		{"metadata send false kept", cfg.RemoteWriteConfigs[0].MetadataConfig.Send, false},
		{"remote write http2 explicit", cfg.RemoteWriteConfigs[0].HTTPClientConfig.EnableHTTP2, true},
		{"filter_external_labels false kept", cfg.RemoteReadConfigs[0].FilterExternalLabels, false},
		{"gogc explicit", cfg.RuntimeConfig.GoGC, 50},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLoadNativeHistogramsPreferProtobuf(t *testing.T) {
	cfg, err := Load([]byte("scrape_configs:\n  - job_name: a\n    scrape_native_histograms: true\n"), "nh.yml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := cfg.ScrapeConfigs[0].ScrapeProtocols[0]; got != "PrometheusProto" {
		t.Errorf("first scrape protocol = %q, want PrometheusProto", got)
	}
}

func TestLoadYAMLAnchorsAndMerge(t *testing.T) {
	cfg, err := Load([]byte(`
defaults: &d
  honor_timestamps: false
  scrape_interval: 20s
`), "anchors.yml")
	if err == nil {
		t.Fatalf("unknown top-level key accepted: %+v", cfg)
	}
	cfg, err = Load([]byte(`
scrape_configs:
  - &base
    job_name: a
    honor_timestamps: false
  - <<: *base
    job_name: b
`), "anchors.yml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if b := cfg.ScrapeConfigs[1]; b.JobName != "b" || b.HonorTimestamps {
		t.Errorf("merged job = %q honor_timestamps=%v, want b with honor_timestamps false", b.JobName, b.HonorTimestamps)
	}
}

func TestLoadFileMissing(t *testing.T) {
	_, err := LoadFile(filepath.Join("testdata", "does-not-exist.yml"))
	if err == nil || !strings.Contains(err.Error(), "does-not-exist.yml") {
		t.Errorf("got %v, want an error naming the file", err)
	}
}
