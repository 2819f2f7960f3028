package scrape

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the manager's self-metrics. Names follow Prometheus's
// prometheus_target_* family with the argus_ prefix, so dashboards port by
// renaming the prefix.
type metrics struct {
	scrapes             prometheus.Counter
	poolsCreated        prometheus.Counter
	poolsFailed         prometheus.Counter
	poolReloads         prometheus.Counter
	poolReloadsFailed   prometheus.Counter
	poolTargets         *prometheus.GaugeVec
	syncLength          *prometheus.SummaryVec
	syncFailed          *prometheus.CounterVec
	intervalLength      *prometheus.SummaryVec
	sampleLimitExceeded prometheus.Counter
	bodySizeExceeded    prometheus.Counter
	outOfOrder          prometheus.Counter
	duplicate           prometheus.Counter
	outOfBounds         prometheus.Counter
	cacheFlushForced    prometheus.Counter
	targetLimitExceeded prometheus.Counter
	targetLimit         *prometheus.GaugeVec
	labelLimitsExceeded prometheus.Counter
}

var summaryObjectives = map[float64]float64{0.01: 0.001, 0.05: 0.005, 0.5: 0.05, 0.90: 0.01, 0.99: 0.001}

func newMetrics(reg prometheus.Registerer, logger *slog.Logger) *metrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	m := &metrics{
		scrapes:           counter("argus_target_scrapes_total", "Total number of scrapes attempted."),
		poolsCreated:      counter("argus_target_scrape_pools_total", "Total number of scrape pool creation attempts."),
		poolsFailed:       counter("argus_target_scrape_pools_failed_total", "Total number of scrape pool creations that failed."),
		poolReloads:       counter("argus_target_scrape_pool_reloads_total", "Total number of scrape pool reloads."),
		poolReloadsFailed: counter("argus_target_scrape_pool_reloads_failed_total", "Total number of failed scrape pool reloads."),
		poolTargets: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "argus_target_scrape_pool_targets",
			Help: "Current number of targets in this scrape pool.",
		}, []string{"scrape_job"}),
		syncLength: prometheus.NewSummaryVec(prometheus.SummaryOpts{
			Name:       "argus_target_sync_length_seconds",
			Help:       "Actual interval to sync the scrape pool.",
			Objectives: summaryObjectives,
		}, []string{"scrape_job"}),
		syncFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "argus_target_sync_failed_total",
			Help: "Total number of target sync failures.",
		}, []string{"scrape_job"}),
		intervalLength: prometheus.NewSummaryVec(prometheus.SummaryOpts{
			Name:       "argus_target_interval_length_seconds",
			Help:       "Actual intervals between scrapes.",
			Objectives: summaryObjectives,
		}, []string{"interval"}),
		sampleLimitExceeded: counter("argus_target_scrapes_exceeded_sample_limit_total", "Total number of scrapes that hit the sample limit and were rejected."),
		bodySizeExceeded:    counter("argus_target_scrapes_exceeded_body_size_limit_total", "Total number of scrapes that hit the body size limit."),
		outOfOrder:          counter("argus_target_scrapes_sample_out_of_order_total", "Total number of samples rejected due to not being out of the expected order."),
		duplicate:           counter("argus_target_scrapes_sample_duplicate_timestamp_total", "Total number of samples rejected due to duplicate timestamps but different values."),
		outOfBounds:         counter("argus_target_scrapes_sample_out_of_bounds_total", "Total number of samples rejected due to timestamp falling outside of the time bounds."),
		cacheFlushForced:    counter("argus_target_scrapes_cache_flush_forced_total", "How many times a scrape cache was flushed due to getting big while scrapes are failing."),
		targetLimitExceeded: counter("argus_target_scrape_pool_exceeded_target_limit_total", "Total number of times scrape pools hit the target limit, during sync or config reload."),
		targetLimit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "argus_target_scrape_pool_target_limit",
			Help: "Maximum number of targets allowed in this scrape pool.",
		}, []string{"scrape_job"}),
		labelLimitsExceeded: counter("argus_target_scrape_pool_exceeded_label_limits_total", "Total number of times scrape pools hit the label limits, during sync or config reload."),
	}
	if reg == nil {
		return m
	}
	for _, c := range []prometheus.Collector{
		m.scrapes, m.poolsCreated, m.poolsFailed, m.poolReloads, m.poolReloadsFailed,
		m.poolTargets, m.syncLength, m.syncFailed, m.intervalLength,
		m.sampleLimitExceeded, m.bodySizeExceeded, m.outOfOrder, m.duplicate, m.outOfBounds,
		m.cacheFlushForced, m.targetLimitExceeded, m.targetLimit, m.labelLimitsExceeded,
	} {
		if err := reg.Register(c); err != nil {
			// Scraping works without its self-metrics; a clash (a second
			// manager on one registry) is worth a log line, not a failure.
			logger.Warn("Registering scrape metric failed", "err", err)
		}
	}
	return m
}

func (m *metrics) forgetJob(job string) {
	m.poolTargets.DeleteLabelValues(job)
	m.syncLength.DeleteLabelValues(job)
	m.syncFailed.DeleteLabelValues(job)
	m.targetLimit.DeleteLabelValues(job)
}
