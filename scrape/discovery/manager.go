package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultDebounce is how long the Manager gathers updates before it sends
// them, as Prometheus's discovery manager does.
const DefaultDebounce = 5 * time.Second

// Options configure a Manager.
type Options struct {
	// Logger receives the manager's and providers' logs; nil discards them.
	Logger *slog.Logger
	// Registerer receives the self-metrics; nil leaves them unregistered.
	Registerer prometheus.Registerer
	// Debounce is the minimum time between two batches of updates; 0 means
	// DefaultDebounce.
	Debounce time.Duration
	// Providers holds settings shared by the providers.
	Providers ProviderOptions
}

// Manager runs the providers of every job and keeps their groups, merged per
// job, for its consumer to Take. Updates are debounced: Ready fires at most
// once per Debounce for ordinary changes. The exception is a job whose
// providers ApplyConfig just (re)started: Ready fires as soon as all of them
// have reported, so a new or edited job does not wait for the debounce.
//
// Taking batches (rather than receiving them on a channel) lets a consumer
// that serialises Take with ApplyConfig never see groups of a configuration
// it has already replaced.
type Manager struct {
	ctx      context.Context
	logger   *slog.Logger
	opts     Options
	debounce time.Duration
	metrics  *metrics
	ready    chan struct{}
	trigger  chan struct{}

	mu   sync.Mutex
	jobs map[string]*jobState
	// dirty jobs changed since the last Take.
	dirty map[string]bool
	// overdue is set when the debounce elapsed: Take then also returns fresh
	// jobs whose providers have not all reported yet.
	overdue bool
}

// jobState is one job's running providers and what they found.
type jobState struct {
	cfg    Config
	cancel context.CancelFunc
	provs  []*providerState
	// fresh is set until the job's first Take after (re)start.
	fresh bool
}

// providerState holds the groups of one provider by source.
type providerState struct {
	groups   map[string]*Group
	reported bool
}

// NewManager returns a manager whose providers stop when ctx ends; Ready is
// closed then.
func NewManager(ctx context.Context, o Options) *Manager {
	logger := loggerOrDiscard(o.Logger)
	d := o.Debounce
	if d <= 0 {
		d = DefaultDebounce
	}
	m := &Manager{
		ctx:      ctx,
		logger:   logger,
		opts:     o,
		debounce: d,
		metrics:  newMetrics(o.Registerer, logger),
		ready:    make(chan struct{}, 1),
		trigger:  make(chan struct{}, 1),
		jobs:     map[string]*jobState{},
		dirty:    map[string]bool{},
	}
	go m.signaller()
	return m
}

// Ready receives a value when a batch should be taken, and is closed when the
// manager's context ends.
func (m *Manager) Ready() <-chan struct{} { return m.ready }

// ApplyConfig makes jobs the set of jobs discovered. Providers of jobs whose
// Config is unchanged keep running; jobs that left are stopped; new and
// changed jobs get new providers. A job whose providers cannot be built keeps
// its previous ones (none if new); the error names every such job.
func (m *Manager) ApplyConfig(jobs map[string]Config) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ctx.Err() != nil {
		return errors.New("discovery manager is stopped")
	}
	for name, js := range m.jobs {
		if _, ok := jobs[name]; !ok {
			js.cancel()
			delete(m.jobs, name)
			delete(m.dirty, name)
		}
	}
	var errs []error
	names := make([]string, 0, len(jobs))
	for name := range jobs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		cfg := jobs[name]
		if old, ok := m.jobs[name]; ok && reflect.DeepEqual(old.cfg, cfg) {
			continue
		}
		logger := m.logger.With("job", name)
		provs, err := newProviders(name, cfg, m.opts.Providers, logger, m.metrics)
		if err != nil {
			errs = append(errs, fmt.Errorf("discovery for job %q: %w", name, err))
			continue
		}
		if old, ok := m.jobs[name]; ok {
			old.cancel()
		}
		m.jobs[name] = m.startJob(cfg, provs)
		m.dirty[name] = true
	}
	m.poke()
	return errors.Join(errs...)
}

// startJob runs provs, each feeding its own state. Must hold m.mu.
func (m *Manager) startJob(cfg Config, provs []Provider) *jobState {
	ctx, cancel := context.WithCancel(m.ctx)
	js := &jobState{cfg: cfg, cancel: cancel, fresh: true}
	for _, p := range provs {
		ps := &providerState{groups: map[string]*Group{}}
		js.provs = append(js.provs, ps)
		if st, ok := p.(*Static); ok {
			// Known now: a job's static targets need not wait for a
			// goroutine, so a reload applies them at once.
			ps.merge(st.groups)
			continue
		}
		up := make(chan []*Group)
		go p.Run(ctx, up)
		go m.receive(ctx, js, ps, up)
	}
	return js
}

// receive merges a provider's updates into its state.
func (m *Manager) receive(ctx context.Context, js *jobState, ps *providerState, up <-chan []*Group) {
	for {
		var groups []*Group
		select {
		case <-ctx.Done():
			return
		case groups = <-up:
		}
		m.metrics.receivedUpdates.Inc()
		m.mu.Lock()
		if ctx.Err() != nil { // the job was replaced meanwhile.
			m.mu.Unlock()
			return
		}
		ps.merge(groups)
		for name, j := range m.jobs {
			if j == js {
				m.dirty[name] = true
			}
		}
		m.mu.Unlock()
		m.poke()
	}
}

func (m *Manager) poke() {
	select {
	case m.trigger <- struct{}{}:
	default:
	}
}

// merge applies a provider's update to its state.
func (ps *providerState) merge(groups []*Group) {
	for _, g := range groups {
		if g == nil {
			continue
		}
		if len(g.Targets) == 0 {
			delete(ps.groups, g.Source)
		} else {
			ps.groups[g.Source] = g
		}
	}
	ps.reported = true
}

// signaller turns updates into Ready signals: at once when fresh jobs are
// ready, otherwise once the debounce has elapsed since the first pending
// update.
func (m *Manager) signaller() {
	defer close(m.ready)
	timer := time.NewTimer(m.debounce)
	timer.Stop()
	defer timer.Stop()
	armed := false
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-m.trigger:
			// Armed even when fresh jobs are ready: a job held back by
			// Take for a silent provider must still go out in time.
			if !armed {
				timer.Reset(m.debounce)
				armed = true
			}
			if !m.freshReady() {
				continue
			}
		case <-timer.C:
			armed = false
			m.mu.Lock()
			m.overdue = true
			m.mu.Unlock()
		}
		select {
		case m.ready <- struct{}{}:
		default: // a signal is already pending.
		}
	}
}

// freshReady reports whether some fresh job is dirty and has heard from
// all its providers.
func (m *Manager) freshReady() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, js := range m.jobs {
		if js.fresh && m.dirty[name] && js.allReported() {
			return true
		}
	}
	return false
}

func (js *jobState) allReported() bool {
	for _, ps := range js.provs {
		if !ps.reported {
			return false
		}
	}
	return true
}

// Take returns, for each job whose groups changed since the last Take, all
// its current groups (an empty list when it has none), sorted by provider
// then source. A job whose providers were just (re)started is held back until
// they have all reported or the debounce has elapsed, so that it does not
// lose the targets of a slow provider for a moment. The groups are shared:
// callers must not modify them.
func (m *Manager) Take() map[string][]*Group {
	m.mu.Lock()
	defer m.mu.Unlock()
	batch := make(map[string][]*Group, len(m.dirty))
	for name := range m.dirty {
		js, ok := m.jobs[name]
		if !ok {
			delete(m.dirty, name)
			continue
		}
		if js.fresh && !m.overdue && !js.allReported() {
			continue
		}
		js.fresh = false
		delete(m.dirty, name)
		groups := []*Group{}
		for _, ps := range js.provs {
			srcs := make([]string, 0, len(ps.groups))
			for s := range ps.groups {
				srcs = append(srcs, s)
			}
			sort.Strings(srcs)
			for _, s := range srcs {
				groups = append(groups, ps.groups[s])
			}
		}
		batch[name] = groups
	}
	m.overdue = false
	if len(batch) > 0 {
		m.metrics.syncs.Inc()
	}
	return batch
}
