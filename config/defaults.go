package config

import (
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Defaults Prometheus applies to an unset field. They are constants, not
// package variables, so that nothing can change them behind a caller's back.
const (
	DefaultScrapeInterval     = model.Duration(time.Minute)
	DefaultScrapeTimeout      = model.Duration(10 * time.Second)
	DefaultEvaluationInterval = model.Duration(time.Minute)
	DefaultMetricsPath        = "/metrics"
	DefaultScheme             = "http"

	DefaultAlertmanagerTimeout    = model.Duration(10 * time.Second)
	DefaultAlertmanagerAPIVersion = "v2"

	DefaultRemoteWriteTimeout = model.Duration(30 * time.Second)
	DefaultRemoteReadTimeout  = model.Duration(time.Minute)
	// DefaultChunkedReadLimit bounds one remote-read frame: about 100k XOR chunks.
	DefaultChunkedReadLimit = 50_000_000

	DefaultQueueCapacity          = 10000
	DefaultQueueMaxShards         = 50
	DefaultQueueMinShards         = 1
	DefaultQueueMaxSamplesPerSend = 2000
	DefaultQueueBatchSendDeadline = model.Duration(5 * time.Second)
	DefaultQueueMinBackoff        = model.Duration(30 * time.Millisecond)
	DefaultQueueMaxBackoff        = model.Duration(5 * time.Second)

	DefaultMetadataSendInterval      = model.Duration(time.Minute)
	DefaultMetadataMaxSamplesPerSend = 2000

	DefaultFileSDRefreshInterval = model.Duration(5 * time.Minute)
	DefaultHTTPSDRefreshInterval = model.Duration(time.Minute)
	DefaultDNSSDRefreshInterval  = model.Duration(30 * time.Second)
	DefaultDNSSDType             = "SRV"

	DefaultTracingClientType = "grpc"
	DefaultOTLPTranslation   = "UnderscoreEscapingWithSuffixes"

	// DefaultGoGC is the GC target Prometheus sets unless GOGC says otherwise.
	DefaultGoGC = 75

	// Remote-write protobuf messages (remote write 1.0 and 2.0).
	RemoteWriteV1Message = "prometheus.WriteRequest"
	RemoteWriteV2Message = "io.prometheus.write.v2.Request"
)

// DefaultScrapeProtocols is the Accept order used when a job and the global
// section leave scrape_protocols unset.
func DefaultScrapeProtocols() []string {
	return []string{"OpenMetricsText1.0.0", "OpenMetricsText0.0.1", "PrometheusText1.0.0", "PrometheusText0.0.4"}
}

// DefaultProtoFirstScrapeProtocols is the order used when native histograms
// are scraped, which only the protobuf format carries.
func DefaultProtoFirstScrapeProtocols() []string {
	return append([]string{"PrometheusProto"}, DefaultScrapeProtocols()...)
}

// ScrapeProtocolHeader returns the media type a scrape_protocols entry
// negotiates, and false for a name scrape_protocols does not accept.
func ScrapeProtocolHeader(protocol string) (string, bool) {
	switch protocol {
	case "PrometheusProto":
		return "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited", true
	case "PrometheusText0.0.4":
		return "text/plain;version=0.0.4", true
	case "PrometheusText1.0.0":
		return "text/plain;version=1.0.0", true
	case "OpenMetricsText0.0.1":
		return "application/openmetrics-text;version=0.0.1", true
	case "OpenMetricsText1.0.0":
		return "application/openmetrics-text;version=1.0.0", true
	case "OpenMetricsText2.0.0":
		return "application/openmetrics-text;version=2.0.0", true
	}
	return "", false
}

// scrapeProtocolNames lists the accepted scrape_protocols names for errors.
const scrapeProtocolNames = "OpenMetricsText0.0.1, OpenMetricsText1.0.0, OpenMetricsText2.0.0, PrometheusProto, PrometheusText0.0.4, PrometheusText1.0.0"

// defaultGoGC follows the Go runtime: GOGC from the environment wins, "off"
// being -1.
func defaultGoGC() int {
	env := os.Getenv("GOGC")
	if strings.EqualFold(env, "off") {
		return -1
	}
	if n, err := strconv.Atoi(env); err == nil {
		return n
	}
	return DefaultGoGC
}

// setDefault gives a field its default when the key is absent (or null).
// Prometheus fills a section with defaults before decoding over it, so an
// explicit zero ("honor_timestamps: false", "max_shards: 0") is kept and
// must be told apart from a missing key.
func setDefault[T any](p pos, key string, field *T, def T) {
	if !p.has(key) {
		*field = def
	}
}

// orDefault replaces a zero value, for fields where Prometheus treats zero
// as "inherit" or "unset".
func orDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}
