package notifier

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"

	"github.com/argusmon/argus/config"
	"github.com/argusmon/argus/rules"
)

const (
	defaultQueueCapacity = 10000
	// maxBatchSize is how many alerts go in one request, as in Prometheus.
	maxBatchSize         = 64
	defaultRetryInterval = 5 * time.Second
	defaultUserAgent     = "Argus"
)

// Options configures a Manager.
type Options struct {
	// QueueCapacity bounds each Alertmanager set's queue; 0 means 10000
	// (--alertmanager.notification-queue-capacity).
	QueueCapacity int
	// RetryInterval is how long a set waits after a batch none of its
	// Alertmanagers accepted before trying again; 0 means 5s.
	RetryInterval time.Duration
	// UserAgent is sent with every request; "" means "Argus".
	UserAgent string
	// DrainOnShutdown makes Run, when its context ends, send what is
	// still queued before returning, stopping at the first batch a set's
	// Alertmanagers all refuse (--alertmanager.drain-notification-queue-on-shutdown).
	DrainOnShutdown bool
	// Logger receives the notifier's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the notifier's metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// Manager queues alerts and delivers them to the configured Alertmanagers.
// It satisfies rules.Notifier.
type Manager struct {
	capacity  int
	retry     time.Duration
	userAgent string
	drain     bool
	logger    *slog.Logger
	metrics   *metrics

	mu             sync.RWMutex
	externalLabels labels.Labels
	relabelConfigs []*relabel.Config
	sets           []*amSet
	// runCtx is set while Run runs: sets created by ApplyConfig then start
	// sending at once.
	runCtx context.Context
}

var _ rules.Notifier = (*Manager)(nil)

// New returns a Manager with no Alertmanagers: call ApplyConfig, then Run.
func New(o Options) *Manager {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := &Manager{
		capacity:  cmp.Or(max(o.QueueCapacity, 0), defaultQueueCapacity),
		retry:     cmp.Or(max(o.RetryInterval, 0), defaultRetryInterval),
		userAgent: cmp.Or(o.UserAgent, defaultUserAgent),
		drain:     o.DrainOnShutdown,
		logger:    logger,
	}
	m.metrics = newMetrics(o.Registerer, logger, m.queueLength, func() float64 { return float64(len(m.Alertmanagers())) })
	m.metrics.capacity.Set(float64(m.capacity))
	return m
}

// ApplyConfig takes the external labels, alert_relabel_configs and
// Alertmanager sets of cfg. The alerts queued for a set are kept by the
// set at the same position in the new config, so a reload loses nothing.
// On error the previous configuration stays in force.
func (m *Manager) ApplyConfig(cfg *config.Config) error {
	var sets []*amSet
	for i, amc := range cfg.AlertingConfig.AlertmanagerConfigs {
		if amc == nil {
			continue
		}
		s, err := newAMSet(fmt.Sprintf("config-%d", i), amc, m.capacity, m.logger)
		if err != nil {
			return fmt.Errorf("applying alerting config: %w", err)
		}
		sets = append(sets, s)
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	old := make(map[string]*amSet, len(m.sets))
	for _, s := range m.sets {
		s.stop()
		old[s.name] = s
	}
	for _, s := range sets {
		if prev, ok := old[s.name]; ok {
			s.q = prev.q
		}
		if m.runCtx != nil {
			m.start(s)
		}
	}
	m.sets = sets
	m.externalLabels = cfg.GlobalConfig.ExternalLabels
	m.relabelConfigs = cfg.AlertingConfig.AlertRelabelConfigs
	return nil
}

// Send queues alerts for every Alertmanager set; it does not block on the
// network. Alerts dropped by relabelling, and alerts sent while no
// Alertmanager is configured, are discarded as in Prometheus.
func (m *Manager) Send(alerts ...*rules.Alert) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if len(m.sets) == 0 || len(alerts) == 0 {
		return
	}
	converted := make([]*apiAlert, 0, len(alerts))
	for _, a := range alerts {
		converted = append(converted, toAPIAlert(a, m.externalLabels))
	}
	converted = relabelAlerts(converted, m.relabelConfigs)
	for _, s := range m.sets {
		if len(s.urls) == 0 {
			continue
		}
		if dropped := s.q.push(relabelAlerts(converted, s.cfg.AlertRelabelConfigs)); dropped > 0 {
			m.metrics.dropped.Add(float64(dropped))
			s.logger.Warn("alert queue full, dropped the oldest alerts", "count", dropped)
		}
	}
}

// Run sends queued alerts until ctx ends, then, with DrainOnShutdown,
// what is still queued. Send and ApplyConfig must not be called after Run
// returns.
func (m *Manager) Run(ctx context.Context) {
	m.mu.Lock()
	m.runCtx = ctx
	for _, s := range m.sets {
		m.start(s)
	}
	m.mu.Unlock()

	<-ctx.Done()

	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.sets {
		s.stop()
	}
	m.runCtx = nil
	if m.drain {
		var wg sync.WaitGroup
		for _, s := range m.sets {
			wg.Go(func() { s.drain(context.WithoutCancel(ctx), maxBatchSize, m.metrics, m.userAgent) })
		}
		wg.Wait()
	}
}

// start runs s's send loop under m.runCtx. The caller holds m.mu.
func (m *Manager) start(s *amSet) {
	ctx, cancel := context.WithCancel(m.runCtx)
	s.cancel, s.done = cancel, make(chan struct{})
	go s.run(ctx, maxBatchSize, m.retry, m.metrics, m.userAgent)
}

// stop ends s's send loop, if running, and waits for it.
func (s *amSet) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	<-s.done
	s.cancel = nil
}

// Alertmanagers returns the push URLs of the active Alertmanagers, for
// /api/v1/alertmanagers.
func (m *Manager) Alertmanagers() []*url.URL {
	return m.urls(func(s *amSet) []*url.URL { return s.urls })
}

// DroppedAlertmanagers returns the Alertmanagers relabel_configs dropped.
func (m *Manager) DroppedAlertmanagers() []*url.URL {
	return m.urls(func(s *amSet) []*url.URL { return s.dropped })
}

func (m *Manager) urls(of func(*amSet) []*url.URL) []*url.URL {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []*url.URL
	for _, s := range m.sets {
		for _, u := range of(s) {
			c := *u
			out = append(out, &c)
		}
	}
	slices.SortFunc(out, func(a, b *url.URL) int { return cmp.Compare(a.String(), b.String()) })
	return out
}

// queueLength is the length of the longest set queue: the one closest to
// dropping alerts.
func (m *Manager) queueLength() float64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	n := 0
	for _, s := range m.sets {
		n = max(n, s.q.len())
	}
	return float64(n)
}
