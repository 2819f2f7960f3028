package scrape

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"reflect"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/version"

	"github.com/argusmon/argus/config"
)

// Options configure a Manager.
type Options struct {
	// Logger receives the manager's logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the self-metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// HTTPClientOptions are applied to every job's HTTP client.
	HTTPClientOptions []commoncfg.HTTPClientOption
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
	userAgent  string

	// ctx is cancelled by Stop, after the loops have ended: it aborts scrapes
	// in flight and tells pending end-of-run staleness writers to hurry.
	ctx     context.Context
	cancel  context.CancelFunc
	pending sync.WaitGroup

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
	return &Manager{
		logger:     logger,
		opts:       o,
		appendable: app,
		metrics:    newMetrics(o.Registerer, logger),
		buffers:    newBufferPool(),
		userAgent:  "Argus/" + v,
		ctx:        ctx,
		cancel:     cancel,
		pools:      map[string]*scrapePool{},
	}
}

// ApplyConfig brings the scrape pools in line with cfg: it starts pools for
// new jobs, stops those of removed jobs (their series are marked stale), and
// reloads jobs whose configuration changed. A job whose configuration is
// unchanged is not touched: its loops keep running with their phase and
// caches. A job that fails to apply keeps running as before (or does not
// start, if new); the error names every such job.
func (m *Manager) ApplyConfig(cfg *config.Config) error {
	if cfg == nil {
		return errors.New("nil configuration")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return errors.New("scrape manager is stopped")
	}

	jobs := make(map[string]*config.ScrapeConfig, len(cfg.ScrapeConfigs))
	for i, sc := range cfg.ScrapeConfigs {
		if sc == nil {
			return fmt.Errorf("scrape_configs[%d] is empty", i)
		}
		if _, dup := jobs[sc.JobName]; dup {
			return fmt.Errorf("found multiple scrape configs with job name %q", sc.JobName)
		}
		jobs[sc.JobName] = sc
	}
	m.seed = offsetSeed(cfg.GlobalConfig.ExternalLabels.String())

	for name, sp := range m.pools {
		if _, ok := jobs[name]; !ok {
			sp.stop(stopRemoved)
			delete(m.pools, name)
		}
	}

	failed := map[string]error{}
	for name, sc := range jobs {
		sp, exists := m.pools[name]
		if exists {
			sp.mu.Lock()
			unchanged := reflect.DeepEqual(sp.cfg, sc)
			sp.mu.Unlock()
			if unchanged {
				continue
			}
			m.metrics.poolReloads.Inc()
			if err := sp.apply(sc, &cfg.GlobalConfig); err != nil {
				m.metrics.poolReloadsFailed.Inc()
				failed[name] = err
			}
			continue
		}
		m.metrics.poolsCreated.Inc()
		sp = m.newPool(name)
		if err := sp.apply(sc, &cfg.GlobalConfig); err != nil {
			m.metrics.poolsFailed.Inc()
			failed[name] = err
			continue
		}
		m.pools[name] = sp
	}
	if err := errJoin(failed); err != nil {
		m.logger.Error("Applying scrape configuration failed", "err", err)
		return err
	}
	return nil
}

func (m *Manager) newPool(name string) *scrapePool {
	logger := m.logger.With("scrape_pool", name)
	return &scrapePool{
		name: name,
		deps: loopDeps{
			appendable: m.appendable,
			appCtx:     context.WithoutCancel(m.ctx),
			scrapeCtx:  m.ctx,
			buffers:    m.buffers,
			metrics:    m.metrics,
			logger:     logger,
			seed:       m.seed,
		},
		logger:     logger,
		metrics:    m.metrics,
		userAgent:  m.userAgent,
		clientOpts: m.opts.HTTPClientOptions,
		pending:    &m.pending,
		shutdown:   m.ctx.Done(),
		loops:      map[uint64]*scrapeLoop{},
		targets:    map[uint64]*Target{},
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
