package scrape

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/argusmon/argus/config"
	"github.com/argusmon/argus/scrape/discovery"
)

// ApplyConfig brings the scrape pools in line with cfg: it starts pools for
// new jobs, stops those of removed jobs (their series are marked stale), and
// reloads jobs whose configuration changed. Targets come from each job's
// discovery (static_configs included): static targets apply before
// ApplyConfig returns, those of a new or changed discovery configuration as
// soon as its providers have reported, later changes after the discovery
// debounce. Providers of a job whose discovery configuration is unchanged
// keep running. A job whose configuration is unchanged is not touched: its
// loops keep running with their phase and caches. A job that fails to apply
// keeps running as before (or does not start, if new); the error names every
// such job.
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

	// Every pool's discovery follows the configuration the pool runs with:
	// the new one, or the old one for a job that failed to reload.
	sd := make(map[string]discovery.Config, len(m.pools))
	for name, sp := range m.pools {
		sp.mu.Lock()
		sd[name] = discovery.ConfigOf(sp.cfg)
		sp.mu.Unlock()
	}
	sdErr := m.discovery.ApplyConfig(sd)
	// Static targets, and whatever else is ready, apply before returning.
	m.syncDiscovered()
	if err := errors.Join(errJoin(failed), sdErr); err != nil {
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
			lines:      m.lines,
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
