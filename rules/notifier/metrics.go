package notifier

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// alertmanagerLabel names the Alertmanager push URL on per-Alertmanager
// metrics, as in Prometheus.
const alertmanagerLabel = "alertmanager"

type metrics struct {
	sent     *prometheus.CounterVec
	errors   *prometheus.CounterVec
	dropped  prometheus.Counter
	capacity prometheus.Gauge
}

// newMetrics registers the notifier's metrics on r (nil registers
// nothing). queueLength and discovered are read at scrape time.
func newMetrics(r prometheus.Registerer, logger *slog.Logger, queueLength, discovered func() float64) *metrics {
	m := &metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "argus_notifications_sent_total",
			Help: "Total number of alerts sent, counting each attempt to each Alertmanager.",
		}, []string{alertmanagerLabel}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "argus_notifications_errors_total",
			Help: "Total number of alerts affected by errors when sending to an Alertmanager.",
		}, []string{alertmanagerLabel}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "argus_notifications_dropped_total",
			Help: "Total number of alerts dropped, oldest first, because a queue was full.",
		}),
		capacity: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "argus_notifications_queue_capacity",
			Help: "The capacity of each Alertmanager set's alert queue.",
		}),
	}
	if r == nil {
		return m
	}
	for _, c := range []prometheus.Collector{
		m.sent, m.errors, m.dropped, m.capacity,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "argus_notifications_queue_length",
			Help: "The number of alerts in the longest Alertmanager set queue.",
		}, queueLength),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "argus_notifications_alertmanagers_discovered",
			Help: "The number of Alertmanagers discovered and active.",
		}, discovered),
	} {
		if err := r.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if !errors.As(err, &are) {
				logger.Warn("registering notifier metric failed", "err", err)
			}
		}
	}
	return m
}
