package scrape

import (
	"fmt"
	"strings"

	"github.com/prometheus/common/model"
)

// The scrape_protocols values and the media types they ask for, as in
// Prometheus's configuration.
var protocolMediaTypes = map[string]string{
	"PrometheusProto":      "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
	"PrometheusText0.0.4":  "text/plain;version=0.0.4",
	"PrometheusText1.0.0":  "text/plain;version=1.0.0",
	"OpenMetricsText0.0.1": "application/openmetrics-text;version=0.0.1",
	"OpenMetricsText1.0.0": "application/openmetrics-text;version=1.0.0",
	"OpenMetricsText2.0.0": "application/openmetrics-text;version=2.0.0",
}

// defaultScrapeProtocols is Prometheus's default preference order.
var defaultScrapeProtocols = []string{
	"OpenMetricsText1.0.0",
	"OpenMetricsText0.0.1",
	"PrometheusText1.0.0",
	"PrometheusText0.0.4",
}

// acceptHeader builds the Accept header for the given protocol preference, with
// descending q-values and a trailing */* so that a target that knows none of
// them still answers. The newer text formats carry the escaping scheme the
// target should use for names outside the legacy character set.
func acceptHeader(protocols []string, escaping model.EscapingScheme) (string, error) {
	if len(protocols) == 0 {
		protocols = defaultScrapeProtocols
	}
	vals := make([]string, 0, len(protocols)+1)
	weight := len(protocolMediaTypes) + 1
	for _, p := range protocols {
		mt, ok := protocolMediaTypes[p]
		if !ok {
			return "", fmt.Errorf("unknown scrape protocol %q", p)
		}
		switch p {
		case "PrometheusText1.0.0", "OpenMetricsText1.0.0", "OpenMetricsText2.0.0":
			mt += ";" + model.EscapingKey + "=" + escaping.String()
		}
		vals = append(vals, fmt.Sprintf("%s;q=0.%d", mt, weight))
		weight--
	}
	vals = append(vals, fmt.Sprintf("*/*;q=0.%d", weight))
	return strings.Join(vals, ","), nil
}

// fallbackMediaType maps fallback_scrape_protocol to the media type the parser
// uses when a target sends no or an unknown Content-Type.
func fallbackMediaType(protocol string) (string, error) {
	if protocol == "" {
		return "", nil
	}
	mt, ok := protocolMediaTypes[protocol]
	if !ok {
		return "", fmt.Errorf("unknown fallback_scrape_protocol %q", protocol)
	}
	return strings.SplitN(mt, ";", 2)[0], nil
}
