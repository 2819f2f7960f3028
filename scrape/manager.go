package scrape

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/version"

	"github.com/argusmon/argus/scrape/discovery"
)

// Options configure a Manager.
type Options struct {
	// Logger receives the manager's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the self-metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// HTTPClientOptions are applied to every job's HTTP client.
	HTTPClientOptions []commoncfg.HTTPClientOption
	// DiscoveryDebounce is how long target-group updates are gathered
	// before pools sync; 0 means discovery.DefaultDebounce (5s). A new or
	// changed job syncs as soon as its providers have reported.
	DiscoveryDebounce time.Duration
	// Discovery holds settings for the service-discovery providers (DNS
	// resolver, http_sd client options, file_sd poll interval).
	Discovery discovery.ProviderOptions
}

// Manager runs one scrape pool per scrape job. Loops start as soon as
// ApplyConfig has created them; Run is only a convenience to stop everything
// when a context ends.
type Manager struct {
	logger     *slog.Logger
	opts       Options
	appendable Appendable
	metrics    *metrics
	buffers    *sync.Pool
	lines      *sync.Pool
	userAgent  string

	// ctx is cancelled by Stop, after the loops have ended: it aborts scrapes
	// in flight and tells pending end-of-run staleness writers to hurry.
	ctx     context.Context
	cancel  context.CancelFunc
	pending sync.WaitGroup

	// discovery feeds the pools their target groups; updates ends when it
	// has stopped and the goroutine applying them has returned.
	discovery *discovery.Manager
	updates   chan struct{}

	mu      sync.Mutex // serialises ApplyConfig and Stop.
	pools   map[string]*scrapePool
	seed    uint64
	stopped bool
}

// NewManager returns a manager appending to app. It scrapes nothing until
// ApplyConfig.
func NewManager(o Options, app Appendable) *Manager {
	logger := o.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	v := version.Version
	if v == "" {
		v = "unknown"
	}
	m := &Manager{
		logger:     logger,
		opts:       o,
		appendable: app,
		metrics:    newMetrics(o.Registerer, logger),
		buffers:    newBufferPool(),
		lines:      newLinePool(),
		userAgent:  "Argus/" + v,
		ctx:        ctx,
		cancel:     cancel,
		pools:      map[string]*scrapePool{},
		updates:    make(chan struct{}),
	}
	m.discovery = discovery.NewManager(ctx, discovery.Options{
		Logger:     logger.With("component", "discovery"),
		Registerer: o.Registerer,
		Debounce:   o.DiscoveryDebounce,
		Providers:  o.Discovery,
	})
	go m.applyUpdates()
	return m
}

// applyUpdates syncs pools with the target groups discovery has ready,
// until discovery stops.
func (m *Manager) applyUpdates() {
	defer close(m.updates)
	for range m.discovery.Ready() {
		m.mu.Lock()
		if !m.stopped {
			m.syncDiscovered()
		}
		m.mu.Unlock()
	}
}

// syncDiscovered takes discovery's pending groups and syncs the pools they
// belong to. Must hold m.mu, which also serialises it with ApplyConfig so a
// pool never receives groups of a configuration it no longer runs.
func (m *Manager) syncDiscovered() {
	for job, groups := range m.discovery.Take() {
		// A job whose pool is gone (removed, or never created because its
		// config failed) has nothing to sync.
		if sp, ok := m.pools[job]; ok {
			sp.syncGroups(groups)
		}
	}
}

// Run blocks until ctx is done, then stops the manager. Loops do not need it
// to run; it exists so the manager can join a run group.
func (m *Manager) Run(ctx context.Context) error {
	<-ctx.Done()
	m.Stop()
	return nil
}

// Stop ends every loop, waiting for scrapes in progress to finish and commit,
// and returns once all of that is done. The manager cannot be restarted.
//
// Like Prometheus, it writes no staleness markers for the targets it stops:
// after a quick restart the series go on without a gap. Targets removed by an
// earlier reload whose markers are still pending get them written now.
func (m *Manager) Stop() {
	m.stop()
	// Outside the lock: the update goroutine may be waiting for it.
	<-m.updates
}

func (m *Manager) stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return
	}
	m.stopped = true
	var wg sync.WaitGroup
	for _, sp := range m.pools {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sp.stop(stopShutdown)
		}()
	}
	wg.Wait()
	m.cancel()
	m.pending.Wait()
	m.pools = map[string]*scrapePool{}
}

// TargetsActive returns the scraped targets by job name, each list sorted by
// URL.
func (m *Manager) TargetsActive() map[string][]*Target {
	pools := m.snapshotPools()
	out := make(map[string][]*Target, len(pools))
	for name, sp := range pools {
		out[name] = sp.activeTargets()
	}
	return out
}

// TargetsDropped returns, by job name, the targets that target relabeling
// dropped (at most keep_dropped_targets of them when that is set).
func (m *Manager) TargetsDropped() map[string][]*Target {
	pools := m.snapshotPools()
	out := make(map[string][]*Target, len(pools))
	for name, sp := range pools {
		out[name], _ = sp.droppedTargets()
	}
	return out
}

// TargetsDroppedCounts returns, by job name, how many targets relabeling
// dropped, including those beyond keep_dropped_targets.
func (m *Manager) TargetsDroppedCounts() map[string]int {
	pools := m.snapshotPools()
	out := make(map[string]int, len(pools))
	for name, sp := range pools {
		_, out[name] = sp.droppedTargets()
	}
	return out
}

// snapshotPools copies the pool map so readers do not wait for a reload.
func (m *Manager) snapshotPools() map[string]*scrapePool {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]*scrapePool, len(m.pools))
	for k, v := range m.pools {
		out[k] = v
	}
	return out
}

// offsetSeed spreads the phases of servers scraping the same targets (an HA
// pair has different hostnames or external labels) while keeping each
// server's phases across restarts.
func offsetSeed(externalLabels string) uint64 {
	host, _ := os.Hostname()
	h := fnv.New64a()
	fmt.Fprintf(h, "%s%s", host, externalLabels)
	return h.Sum64()
}
