package scrape

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/relabel"

	"github.com/argusmon/argus/config"
	"github.com/argusmon/argus/scrape/discovery"
)

// poolSettings is what a job's configuration means for its loops, resolved
// and validated once per (re)load. Loops share it read-only.
type poolSettings struct {
	honorLabels              bool
	honorTimestamps          bool
	trackTimestampsStaleness bool
	sampleLimit              int
	bodySizeLimit            int64
	metricRelabel            []*relabel.Config
	targetRelabel            []*relabel.Config
	validation               model.ValidationScheme
	accept                   string
	acceptEncoding           string
	fallbackMediaType        string
	keepDroppedTargets       int
	targetLimit              int
	labelLimits              labelLimits
}

func newPoolSettings(cfg *config.ScrapeConfig, global *config.GlobalConfig) (*poolSettings, error) {
	validation := model.UTF8Validation
	if global != nil && global.MetricNameValidationScheme == "legacy" {
		validation = model.LegacyValidation
	}
	escaping := model.NoEscaping
	if validation == model.LegacyValidation {
		escaping = model.UnderscoreEscaping
	}
	if global != nil && global.MetricNameEscapingScheme != "" {
		e, err := model.ToEscapingScheme(global.MetricNameEscapingScheme)
		if err != nil {
			return nil, fmt.Errorf("metric_name_escaping_scheme: %w", err)
		}
		escaping = e
	}
	protocols := cfg.ScrapeProtocols
	if len(protocols) == 0 && global != nil {
		protocols = global.ScrapeProtocols
	}
	accept, err := acceptHeader(protocols, escaping)
	if err != nil {
		return nil, err
	}
	fallback, err := fallbackMediaType(cfg.ScrapeFallbackProtocol)
	if err != nil {
		return nil, err
	}
	targetRelabel, err := prepareRelabel("relabel_configs", cfg.RelabelConfigs, validation)
	if err != nil {
		return nil, err
	}
	metricRelabel, err := prepareRelabel("metric_relabel_configs", cfg.MetricRelabelConfigs, validation)
	if err != nil {
		return nil, err
	}
	if cfg.ScrapeInterval <= 0 || cfg.ScrapeTimeout <= 0 {
		return nil, fmt.Errorf("scrape_interval (%s) and scrape_timeout (%s) must be positive", cfg.ScrapeInterval, cfg.ScrapeTimeout)
	}
	encoding := "identity"
	if cfg.EnableCompression {
		encoding = "gzip"
	}
	return &poolSettings{
		honorLabels:              cfg.HonorLabels,
		honorTimestamps:          cfg.HonorTimestamps,
		trackTimestampsStaleness: cfg.TrackTimestampsStaleness,
		sampleLimit:              int(cfg.SampleLimit),
		bodySizeLimit:            int64(cfg.BodySizeLimit),
		metricRelabel:            metricRelabel,
		targetRelabel:            targetRelabel,
		validation:               validation,
		accept:                   accept,
		acceptEncoding:           encoding,
		fallbackMediaType:        fallback,
		keepDroppedTargets:       int(cfg.KeepDroppedTargets),
		targetLimit:              int(cfg.TargetLimit),
		labelLimits: labelLimits{
			count:       int(cfg.LabelLimit),
			nameLength:  int(cfg.LabelNameLengthLimit),
			valueLength: int(cfg.LabelValueLengthLimit),
		},
	}, nil
}

// prepareRelabel validates relabel rules and gives each the name validation
// scheme it needs at run time. The upstream relabel code panics on an unknown
// action or an unset scheme, so nothing unchecked may reach it. The rules are
// copied: the config belongs to its loader.
func prepareRelabel(field string, cfgs []*relabel.Config, scheme model.ValidationScheme) ([]*relabel.Config, error) {
	out := make([]*relabel.Config, 0, len(cfgs))
	for i, c := range cfgs {
		if c == nil {
			return nil, fmt.Errorf("%s[%d]: empty rule", field, i)
		}
		cp := *c
		if cp.NameValidationScheme == model.UnsetValidation {
			cp.NameValidationScheme = scheme
		}
		if cp.Regex.Regexp == nil {
			cp.Regex = relabel.MustNewRegexp("")
		}
		if !knownRelabelAction(cp.Action) {
			return nil, fmt.Errorf("%s[%d]: unknown relabel action %q", field, i, cp.Action)
		}
		if err := cp.Validate(cp.NameValidationScheme); err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", field, i, err)
		}
		out = append(out, &cp)
	}
	return out, nil
}

// knownRelabelAction guards relabel.ProcessBuilder, which panics on an action
// it does not know. YAML decoding rejects those, but configs built in code
// (tests, future discovery glue) do not pass through it.
func knownRelabelAction(a relabel.Action) bool {
	switch a {
	case relabel.Replace, relabel.Keep, relabel.Drop, relabel.KeepEqual, relabel.DropEqual,
		relabel.HashMod, relabel.LabelMap, relabel.LabelDrop, relabel.LabelKeep,
		relabel.Lowercase, relabel.Uppercase:
		return true
	}
	return false
}

// scrapePool runs the loops of one job.
type scrapePool struct {
	name       string
	deps       loopDeps
	logger     *slog.Logger
	metrics    *metrics
	userAgent  string
	clientOpts []commoncfg.HTTPClientOption
	// pending tracks the goroutines writing end-of-run staleness markers of
	// removed targets, which outlive their loops.
	pending  *sync.WaitGroup
	shutdown <-chan struct{}

	// mu guards everything below; the manager serialises the writers, the
	// API reads.
	mu       sync.Mutex
	cfg      *config.ScrapeConfig
	settings *poolSettings
	client   *http.Client
	loops    map[uint64]*scrapeLoop
	targets  map[uint64]*Target
	dropped  []*Target
	nDropped int
	// groups are the job's latest discovered target groups, kept to rebuild
	// the targets when the job's settings change.
	groups []*discovery.Group
	// forcedErr fails every scrape of the pool while target_limit is
	// exceeded.
	forcedErr error
}

// stopMode says what a stopped loop leaves behind.
type stopMode int

const (
	// stopRemoved marks the target's series stale after two intervals.
	stopRemoved stopMode = iota
	// stopShutdown leaves the target's series as they are.
	stopShutdown
)

// apply (re)configures the pool and re-syncs its current targets. When the
// change cannot affect running loops (only discovery settings changed), they
// are left alone; otherwise they are restarted with the new settings. On
// error the pool keeps running with its previous configuration. New target
// groups arrive separately, through syncGroups.
func (sp *scrapePool) apply(cfg *config.ScrapeConfig, global *config.GlobalConfig) error {
	settings, err := newPoolSettings(cfg, global)
	if err != nil {
		return err
	}

	sp.mu.Lock()
	defer sp.mu.Unlock()
	restart := sp.cfg != nil && !sameExceptTargets(sp.cfg, cfg)
	oldClient := sp.client
	client := oldClient
	if client == nil || restart {
		client, err = commoncfg.NewClientFromConfig(cfg.HTTPClientConfig, cfg.JobName, sp.clientOpts...)
		if err != nil {
			return fmt.Errorf("creating HTTP client: %w", err)
		}
	}
	reuseCache := sp.cfg != nil && cacheCompatible(sp.cfg, cfg)
	sp.cfg, sp.settings, sp.client = cfg, settings, client
	sp.sync(sp.groups, reuseCache, restart)
	if oldClient != nil && oldClient != client {
		oldClient.CloseIdleConnections()
	}
	return nil
}

// syncGroups makes groups the pool's targets, as discovery delivered them.
func (sp *scrapePool) syncGroups(groups []*discovery.Group) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.groups = groups
	sp.sync(groups, true, false)
}

// sync brings the running loops in line with groups. Targets that stay keep
// their Target (and so their health history); when restartAll is set their
// loops are restarted to pick up new settings, with the series cache carried
// over if reuseCache.
func (sp *scrapePool) sync(groups []*discovery.Group, reuseCache, restartAll bool) {
	start := time.Now()
	active, dropped, failures := buildTargets(sp.cfg, sp.settings.targetRelabel, groups)
	for _, err := range failures {
		sp.logger.Error("Creating target failed", "err", err)
	}
	sp.metrics.syncFailed.WithLabelValues(sp.name).Add(float64(len(failures)))

	sp.nDropped = len(dropped)
	if k := sp.settings.keepDroppedTargets; k > 0 && len(dropped) > k {
		dropped = dropped[:k]
	}
	sp.dropped = dropped

	want := make(map[uint64]*Target, len(active))
	for _, t := range active {
		h := t.hash()
		if _, dup := want[h]; !dup {
			want[h] = t
		}
	}

	sp.forcedErr = nil
	if limit := sp.settings.targetLimit; limit > 0 && len(want) > limit {
		// As in Prometheus, the whole job fails rather than an arbitrary
		// subset of it being scraped.
		sp.forcedErr = fmt.Errorf("target_limit exceeded (number of targets: %d, limit: %d)", len(want), limit)
		sp.metrics.targetLimitExceeded.Inc()
		sp.logger.Error("Scrape pool exceeds its target_limit, failing all its targets", "err", sp.forcedErr)
	}
	sp.metrics.targetLimit.WithLabelValues(sp.name).Set(float64(sp.settings.targetLimit))

	type restart struct {
		old  *scrapeLoop
		t    *Target
		hash uint64
	}
	var (
		restarts []restart
		removed  []*scrapeLoop
	)
	for h := range sp.targets {
		l, running := sp.loops[h]
		switch _, keep := want[h]; {
		case !keep:
			if running {
				l.stop()
				removed = append(removed, l)
			}
			delete(sp.loops, h)
			delete(sp.targets, h)
		case running && restartAll:
			l.stop()
			restarts = append(restarts, restart{old: l, t: sp.targets[h], hash: h})
		}
	}
	for _, l := range sp.loops {
		l.setForcedErr(sp.forcedErr)
	}
	for _, r := range restarts {
		r.old.wait()
		delete(sp.loops, r.hash)
		var cache *seriesCache
		if reuseCache {
			cache = r.old.cache
		} else {
			// Series the new settings no longer produce must go stale; those
			// they still produce will have newer samples by then, and the
			// markers are rejected as out of order.
			sp.retire(r.old, stopRemoved)
		}
		sp.startLoop(r.hash, r.t, cache)
	}
	for h, t := range want {
		if _, ok := sp.loops[h]; !ok {
			sp.targets[h] = t
			sp.startLoop(h, t, nil)
		}
	}
	for _, l := range removed {
		l.wait()
		sp.retire(l, stopRemoved)
	}

	sp.metrics.poolTargets.WithLabelValues(sp.name).Set(float64(len(sp.loops)))
	sp.metrics.syncLength.WithLabelValues(sp.name).Observe(time.Since(start).Seconds())
}

// startLoop must be called with sp.mu held.
func (sp *scrapePool) startLoop(h uint64, t *Target, cache *seriesCache) {
	sc, err := newTargetScraper(t, sp.client, sp.settings.accept, sp.settings.acceptEncoding, sp.userAgent, sp.settings.bodySizeLimit)
	if err != nil {
		// Only reachable with a URL that cannot be requested at all; the
		// target stays listed, down, so the user can see why.
		sp.logger.Error("Cannot scrape target", "err", err)
		t.report(time.Time{}, 0, err)
		sp.targets[h] = t
		return
	}
	l := newScrapeLoop(sp.deps, t, sp.settings, sc, cache)
	l.setForcedErr(sp.forcedErr)
	sp.loops[h] = l
	sp.targets[h] = t
	l.start()
}

// retire handles a loop whose goroutine has exited.
func (sp *scrapePool) retire(l *scrapeLoop, mode stopMode) {
	switch mode {
	case stopRemoved:
		sp.pending.Add(1)
		go func() {
			defer sp.pending.Done()
			l.staleAfterRemoval(sp.shutdown)
		}()
	case stopShutdown:
		// No markers, as in Prometheus: a restart within the lookback
		// delta continues the series without a gap in graphs.
	}
}

// stop ends every loop of the pool and waits for them. mode is stopRemoved
// when the job left the configuration, stopShutdown on shutdown.
func (sp *scrapePool) stop(mode stopMode) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	for _, l := range sp.loops {
		l.stop()
	}
	var wg sync.WaitGroup
	for h, l := range sp.loops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.wait()
			sp.retire(l, mode)
		}()
		delete(sp.loops, h)
		delete(sp.targets, h)
	}
	wg.Wait()
	if sp.client != nil {
		sp.client.CloseIdleConnections()
	}
	sp.metrics.forgetJob(sp.name)
}

// activeTargets returns the pool's targets sorted by URL.
func (sp *scrapePool) activeTargets() []*Target {
	sp.mu.Lock()
	ts := make([]*Target, 0, len(sp.targets))
	for _, t := range sp.targets {
		ts = append(ts, t)
	}
	sp.mu.Unlock()
	sort.Slice(ts, func(i, j int) bool { return ts[i].url.String() < ts[j].url.String() })
	return ts
}

func (sp *scrapePool) droppedTargets() ([]*Target, int) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return append([]*Target(nil), sp.dropped...), sp.nDropped
}

// cacheCompatible reports whether series cached under old still resolve to
// the same label sets under new: only settings that cannot change a sample's
// labels may differ.
func cacheCompatible(old, new *config.ScrapeConfig) bool {
	zero := func(c *config.ScrapeConfig) config.ScrapeConfig {
		z := withoutTargets(c)
		z.ScrapeInterval, z.ScrapeTimeout = 0, 0
		z.SampleLimit, z.BodySizeLimit = 0, 0
		z.HTTPClientConfig = commoncfg.HTTPClientConfig{}
		z.EnableCompression = false
		z.TargetLimit, z.KeepDroppedTargets = 0, 0
		return z
	}
	return reflect.DeepEqual(zero(old), zero(new))
}

// sameExceptTargets reports whether two configs of a job differ at most in
// which targets they yield, so running loops need no restart.
func sameExceptTargets(old, new *config.ScrapeConfig) bool {
	return reflect.DeepEqual(withoutTargets(old), withoutTargets(new))
}

// withoutTargets copies c without what decides its target set (discovery
// and target relabeling) or only judges it (target_limit, re-checked at every
// sync). Target labels are part of a target's identity (its hash), so a
// target that stays has the same labels whatever produced them.
func withoutTargets(c *config.ScrapeConfig) config.ScrapeConfig {
	z := *c
	z.StaticConfigs, z.RelabelConfigs = nil, nil
	z.FileSDConfigs, z.HTTPSDConfigs, z.DNSSDConfigs = nil, nil, nil
	z.KeepDroppedTargets, z.TargetLimit = 0, 0
	return z
}

// errJoin joins per-job errors under one message naming the jobs.
func errJoin(errs map[string]error) error {
	if len(errs) == 0 {
		return nil
	}
	names := make([]string, 0, len(errs))
	for n := range errs {
		names = append(names, n)
	}
	sort.Strings(names)
	joined := make([]error, 0, len(names))
	for _, n := range names {
		joined = append(joined, fmt.Errorf("scrape job %q: %w", n, errs[n]))
	}
	return fmt.Errorf("applying scrape configuration failed for %s: %w", strings.Join(names, ", "), errors.Join(joined...))
}
