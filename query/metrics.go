package query

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// engineMetrics are the engine's self-metrics. The names Prometheus also
// exports keep Prometheus's names so existing dashboards work unchanged.
type engineMetrics struct {
	running       prometheus.Gauge
	waiting       prometheus.Gauge
	concurrentMax prometheus.Gauge
	queued        prometheus.Counter
	duration      *prometheus.SummaryVec

	queryLogEnabled  prometheus.Gauge
	queryLogFailures prometheus.Counter
}

func newEngineMetrics(reg prometheus.Registerer, logger *slog.Logger) *engineMetrics {
	m := &engineMetrics{
		running: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "argus_engine_queries",
			Help: "The current number of queries being executed or waiting.",
		}),
		waiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "argus_engine_queries_waiting",
			Help: "The current number of queries waiting for a concurrency slot.",
		}),
		concurrentMax: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "argus_engine_queries_concurrent_max",
			Help: "The max number of concurrent queries (-1 for no limit).",
		}),
		queued: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "argus_engine_queries_queued_total",
			Help: "Queries that had to wait for a concurrency slot.",
		}),
		duration: prometheus.NewSummaryVec(prometheus.SummaryOpts{
			Name:       "argus_engine_query_duration_seconds",
			Help:       "Query timings.",
			Objectives: map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001},
		}, []string{"slice"}),
		queryLogEnabled: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "argus_engine_query_log_enabled",
			Help: "State of the query log.",
		}),
		queryLogFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "argus_engine_query_log_failures_total",
			Help: "The number of query log failures.",
		}),
	}
	if reg == nil {
		return m
	}
	for _, c := range []prometheus.Collector{m.running, m.waiting, m.concurrentMax, m.queued, m.duration, m.queryLogEnabled, m.queryLogFailures} {
		if err := reg.Register(c); err != nil {
			// A second engine on the same registry (tests, a reload) must not
			// stop the server; its metrics just go unexported.
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				logger.Warn("registering engine metric failed", "err", err)
			}
		}
	}
	return m
}
