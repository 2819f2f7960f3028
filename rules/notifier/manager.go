package notifier

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"

	"github.com/argusmon/argus/config"
	"github.com/argusmon/argus/rules"
	"github.com/argusmon/argus/scrape/discovery"
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
	// Discovery configures the providers of Alertmanager sets with
	// file_sd_configs, http_sd_configs or dns_sd_configs (file_sd poll
	// interval, DNS resolver, HTTP client options).
	Discovery discovery.ProviderOptions
	// DiscoveryDebounce is the minimum time between two updates of the
	// discovered Alertmanagers; 0 means discovery.DefaultDebounce. A set's
	// first discovery after Run or a config change is applied at once.
	DiscoveryDebounce time.Duration
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
	discOpts  discovery.Options

	mu             sync.RWMutex
	externalLabels labels.Labels
	relabelConfigs []*relabel.Config
	sets           []*amSet
	// runCtx is set while Run runs: sets created by ApplyConfig then start
	// sending at once.
	runCtx context.Context
	// disc runs the discovery of the sets that have some while Run runs.
	disc *discovery.Manager
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
		// The discovery self-metrics are left unregistered: they would
		// collide with those of the scrape discovery.
		discOpts: discovery.Options{
			Logger:    logger.With("component", "notifier discovery"),
			Debounce:  o.DiscoveryDebounce,
			Providers: o.Discovery,
		},
	}
	m.metrics = newMetrics(o.Registerer, logger, m.queueLength, func() float64 { return float64(len(m.Alertmanagers())) })
	m.metrics.capacity.Set(float64(m.capacity))
	return m
}

// ApplyConfig takes the external labels, alert_relabel_configs and
// Alertmanager sets of cfg. The alerts queued for a set are kept by the
// set at the same position in the new config, so a reload loses nothing;
// so are its discovered Alertmanagers when its discovery configs are
// unchanged (they are relabelled again under the new relabel_configs).
// Discovery of sets that changed or left is stopped. On error the
// previous configuration stays in force.
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
			if s.discovers() && reflect.DeepEqual(prev.discoveryConfig(), s.discoveryConfig()) {
				_, _, groups := prev.targets()
				s.setGroups(groups)
			}
		}
		if m.runCtx != nil {
			m.start(s)
		}
	}
	m.sets = sets
	m.externalLabels = cfg.GlobalConfig.ExternalLabels
	m.relabelConfigs = cfg.AlertingConfig.AlertRelabelConfigs
	if m.disc != nil {
		m.applyDiscovery()
	}
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
		if len(s.active()) == 0 {
			continue
		}
		if dropped := s.q.push(relabelAlerts(converted, s.cfg.AlertRelabelConfigs)); dropped > 0 {
			m.metrics.dropped.Add(float64(dropped))
			s.logger.Warn("alert queue full, dropped the oldest alerts", "count", dropped)
		}
	}
}

// Run sends queued alerts and follows the discovered Alertmanagers until
// ctx ends, then, with DrainOnShutdown, sends what is still queued. Send
// and ApplyConfig must not be called after Run returns.
func (m *Manager) Run(ctx context.Context) {
	m.mu.Lock()
	m.runCtx = ctx
	// Discovery providers stop with ctx.
	m.disc = discovery.NewManager(ctx, m.discOpts)
	m.applyDiscovery()
	ready := m.disc.Ready()
	for _, s := range m.sets {
		m.start(s)
	}
	m.mu.Unlock()

	// Ready is closed when ctx ends.
	for range ready {
		m.takeDiscovered()
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.sets {
		s.stop()
	}
	m.runCtx = nil
	m.disc = nil
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
	return m.urls(func(s *amSet) []*url.URL { u, _, _ := s.targets(); return u })
}

// DroppedAlertmanagers returns the Alertmanagers relabel_configs dropped.
func (m *Manager) DroppedAlertmanagers() []*url.URL {
	return m.urls(func(s *amSet) []*url.URL { _, d, _ := s.targets(); return d })
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
