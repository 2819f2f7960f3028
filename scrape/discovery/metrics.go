package discovery

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are discovery's self-metrics, named after Prometheus's
// prometheus_sd_* family with the argus_ prefix.
type metrics struct {
	receivedUpdates prometheus.Counter
	syncs           prometheus.Counter
	fileReadErrors  prometheus.Counter
	httpFailures    prometheus.Counter
	dnsFailures     prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, logger *slog.Logger) *metrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &metrics{
		receivedUpdates: counter("argus_sd_received_updates_total", "Total number of target group updates received from providers."),
		syncs:           counter("argus_sd_updates_total", "Total number of target group batches sent to the scrape manager."),
		fileReadErrors:  counter("argus_sd_file_read_errors_total", "Total number of file_sd read or parse errors."),
		httpFailures:    counter("argus_sd_http_failures_total", "Total number of http_sd refresh failures."),
		dnsFailures:     counter("argus_sd_dns_lookup_failures_total", "Total number of dns_sd lookup failures."),
	}
	if reg == nil {
		return m
	}
	for _, c := range []prometheus.Collector{m.receivedUpdates, m.syncs, m.fileReadErrors, m.httpFailures, m.dnsFailures} {
		if err := reg.Register(c); err != nil {
			// Discovery works without its self-metrics.
			logger.Warn("Registering discovery metric failed", "err", err)
		}
	}
	return m
}

// counterOrNew lets providers built outside a Manager (tests, tools) run
// without a counter.
func counterOrNew(c prometheus.Counter) prometheus.Counter {
	if c != nil {
		return c
	}
	return prometheus.NewCounter(prometheus.CounterOpts{Name: "unused"})
}

func loggerOrDiscard(l *slog.Logger) *slog.Logger {
	if l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}
