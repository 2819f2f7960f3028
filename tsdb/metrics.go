package tsdb

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Rejection reasons, the values of argus_tsdb_samples_rejected_total's
// reason label.
const (
	reasonOutOfOrder = "out_of_order"
	reasonTooOld     = "too_old"
	reasonDuplicate  = "duplicate"
)

// metrics are the database's self-metrics, named after Prometheus's
// prometheus_tsdb_* ones with the argus_ prefix. Counters are resolved once
// so that the append path does not look up label values.
type metrics struct {
	samplesAppended    prometheus.Counter
	oooAppended        prometheus.Counter
	oooRejected        prometheus.Counter
	rejectedOutOfOrder prometheus.Counter
	rejectedTooOld     prometheus.Counter
	rejectedDuplicate  prometheus.Counter
	walCorruptions     prometheus.Counter
	wblWriteFailures   prometheus.Counter
	seriesCreated      prometheus.Counter
	headSeries         prometheus.GaugeFunc
}

func newMetrics(reg prometheus.Registerer, headSeries func() float64) (*metrics, error) {
	rejected := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "argus_tsdb_samples_rejected_total",
		Help: "Samples rejected at append or commit, by reason.",
	}, []string{"reason"})
	m := &metrics{
		samplesAppended: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "argus_tsdb_head_samples_appended_total",
			Help: "Samples committed to the head, in order and out of order.",
		}),
		oooAppended: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "argus_tsdb_head_out_of_order_samples_appended_total",
			Help: "Out-of-order samples committed to the head within the out-of-order time window.",
		}),
		oooRejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "argus_tsdb_out_of_order_samples_total",
			Help: "Out-of-order samples rejected: older than the series' newest sample and outside the out-of-order time window.",
		}),
		rejectedOutOfOrder: rejected.WithLabelValues(reasonOutOfOrder),
		rejectedTooOld:     rejected.WithLabelValues(reasonTooOld),
		rejectedDuplicate:  rejected.WithLabelValues(reasonDuplicate),
		walCorruptions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "argus_tsdb_wal_corruptions_total",
			Help: "Corrupt or torn WAL and WBL tails repaired at start-up.",
		}),
		wblWriteFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "argus_tsdb_out_of_order_wbl_write_failures_total",
			Help: "Failed writes to the out-of-order WBL (the samples stay durable in the WAL).",
		}),
		seriesCreated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "argus_tsdb_head_series_created_total",
			Help: "Series created in the head.",
		}),
		headSeries: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "argus_tsdb_head_series",
			Help: "Series in the head.",
		}, headSeries),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{
		m.samplesAppended, m.oooAppended, m.oooRejected, rejected, m.walCorruptions,
		m.wblWriteFailures, m.seriesCreated, m.headSeries,
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
