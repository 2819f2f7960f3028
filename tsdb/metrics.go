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
	// reasonOutOfBounds is a sample older than what the head was truncated to.
	reasonOutOfBounds = "out_of_bounds"
)

// metrics are the database's self-metrics, named after Prometheus's
// prometheus_tsdb_* ones with the argus_ prefix. Counters are resolved once
// so that the append path does not look up label values.
type metrics struct {
	samplesAppended     prometheus.Counter
	oooAppended         prometheus.Counter
	oooRejected         prometheus.Counter
	rejectedOutOfOrder  prometheus.Counter
	rejectedTooOld      prometheus.Counter
	rejectedDuplicate   prometheus.Counter
	rejectedOutOfBounds prometheus.Counter
	walCorruptions      prometheus.Counter
	wblWriteFailures    prometheus.Counter
	seriesCreated       prometheus.Counter
	seriesRemoved       prometheus.Counter
	chunkWriteFailures  prometheus.Counter
	checkpoints         prometheus.Counter
	checkpointFailures  prometheus.Counter
	headSeries          prometheus.GaugeFunc
	blocksLoaded        prometheus.Gauge
	compactions         prometheus.Counter
	compactionsFailed   prometheus.Counter
	timeRetentions      prometheus.Counter
	sizeRetentions      prometheus.Counter
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
		rejectedOutOfOrder:  rejected.WithLabelValues(reasonOutOfOrder),
		rejectedTooOld:      rejected.WithLabelValues(reasonTooOld),
		rejectedDuplicate:   rejected.WithLabelValues(reasonDuplicate),
		rejectedOutOfBounds: rejected.WithLabelValues(reasonOutOfBounds),
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
		seriesRemoved: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "argus_tsdb_head_series_removed_total",
			Help: "Series removed from the head by truncation.",
		}),
		chunkWriteFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "argus_tsdb_head_chunk_write_failures_total",
			Help: "Full chunks kept in memory because writing them to chunks_head failed.",
		}),
		checkpoints: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "argus_tsdb_checkpoint_creations_total",
			Help: "WAL checkpoints created.",
		}),
		checkpointFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "argus_tsdb_checkpoint_creations_failed_total",
			Help: "WAL checkpoints that failed.",
		}),
		headSeries: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "argus_tsdb_head_series",
			Help: "Series in the head.",
		}, headSeries),
		blocksLoaded: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "argus_tsdb_blocks_loaded",
			Help: "Persistent blocks loaded.",
		}),
		compactions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "argus_tsdb_compactions_total",
			Help: "Blocks written: cut from the head or compacted from other blocks.",
		}),
		compactionsFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "argus_tsdb_compactions_failed_total",
			Help: "Block cuts and compactions that failed.",
		}),
		timeRetentions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "argus_tsdb_time_retentions_total",
			Help: "Times blocks were deleted for being older than the retention time.",
		}),
		sizeRetentions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "argus_tsdb_size_retentions_total",
			Help: "Times blocks were deleted to keep the data under the size limit.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{
		m.samplesAppended, m.oooAppended, m.oooRejected, rejected, m.walCorruptions,
		m.wblWriteFailures, m.seriesCreated, m.seriesRemoved, m.chunkWriteFailures,
		m.checkpoints, m.checkpointFailures, m.headSeries, m.blocksLoaded,
		m.compactions, m.compactionsFailed, m.timeRetentions, m.sizeRetentions,
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
