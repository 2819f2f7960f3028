package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/alecthomas/units"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/version"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/argusmon/argus/config"
	"github.com/argusmon/argus/internal/logging"
	"github.com/argusmon/argus/query"
	"github.com/argusmon/argus/rules"
	"github.com/argusmon/argus/rules/notifier"
	"github.com/argusmon/argus/scrape"
	"github.com/argusmon/argus/tsdb"
	"github.com/argusmon/argus/tsdb/chunkenc"
	"github.com/argusmon/argus/web"
)

// serveMain runs the server until SIGTERM/SIGINT or /-/quit and returns the
// exit code: 0 after a clean shutdown, 1 if start-up or shutdown failed.
func serveMain(f *serverFlags, stderr io.Writer) int {
	logger, err := logging.New(stderr, f.logLevel, f.logFormat)
	if err != nil {
		fmt.Fprintf(stderr, "argus: %s\n", err)
		return 2
	}
	if err := f.validate(); err != nil {
		logger.Error("invalid command line", "err", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := newServer(f, logger).run(ctx); err != nil {
		logger.Error("argus stopped with an error", "err", err)
		return 1
	}
	logger.Info("see you next time!")
	return 0
}

// server holds the running components and owns reloads.
type server struct {
	flags    *serverFlags
	features features
	logger   *slog.Logger

	reg *prometheus.Registry

	reloadMu        sync.Mutex
	reloads         *prometheus.CounterVec
	reloadOK        prometheus.Gauge
	reloadTimestamp prometheus.Gauge
	// replay follows the WAL replay for /api/v1/status/walreplay.
	replayMin, replayMax, replayCurrent atomic.Int64
	// evalInterval is the global evaluation_interval in ms, read by the
	// engine for subqueries without a step; it changes on reload.
	evalInterval atomic.Int64

	storage *readyStorage
	db      *tsdb.DB
	scraper *scrape.Manager
	rules   *rules.Manager
	// notifier sends alerts to Alertmanager; notifierDone closes when its
	// queue has been flushed at shutdown.
	notifier     *notifier.Manager
	stopNotifier context.CancelFunc
	notifierDone chan struct{}
	engine       *query.Engine
	// queryLogFile is the query log in use, to reopen it only on change.
	queryLogFile string
	// externalURL is the --web.external-url, for rule templates.
	externalURL string
	// config is the running configuration, for /api/v1/status/config.
	config atomic.Pointer[config.Config]
	// targets and ruleGroups forward to the scrape and rule managers once
	// they exist: the web handler is built before either.
	targets    scrapeTargets
	ruleGroups ruleGroups
}

func newServer(f *serverFlags, logger *slog.Logger) *server {
	s := &server{
		flags:   f,
		logger:  logger,
		reg:     prometheus.NewRegistry(),
		storage: &readyStorage{},
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "argus_config_reloads_total",
			Help: "Configuration reloads by result (success or failure), SIGHUP and /-/reload alike.",
		}, []string{"result"}),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "argus_config_last_reload_successful",
			Help: "Whether the last configuration reload attempt was successful.",
		}),
		reloadTimestamp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "argus_config_last_reload_success_timestamp_seconds",
			Help: "Timestamp of the last successful configuration reload.",
		}),
	}
	s.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector("argus"),
		s.reloads, s.reloadOK, s.reloadTimestamp,
	)
	// Both results exist from the start so that rate() sees the first one.
	s.reloads.WithLabelValues("success")
	s.reloads.WithLabelValues("failure")
	return s
}

// loadConfig reads the config file, or the embedded default without one.
func (s *server) loadConfig() (*config.Config, error) {
	if s.flags.configFile == "" {
		return config.Default(s.flags.listenAddress)
	}
	return config.LoadFile(s.flags.configFile)
}

func (s *server) run(ctx context.Context) error {
	s.logger.Info("starting argus", "version", version.Info(), "build_context", version.BuildContext())
	cfg, err := s.loadConfig()
	if err != nil {
		return fmt.Errorf("load configuration: %w", err)
	}
	s.logger.Info("loaded configuration", "file", cfgName(s.flags.configFile))
	s.evalInterval.Store(time.Duration(cfg.GlobalConfig.EvaluationInterval).Milliseconds())
	s.config.Store(cfg)

	fs, unknown := parseFeatures(s.flags.features)
	s.features = fs
	for _, u := range unknown {
		s.logger.Warn("unknown option for --enable-feature", "option", u)
	}
	externalURL, err := parseExternalURL(s.flags.externalURL, s.flags.listenAddress)
	if err != nil {
		return err
	}

	engine := query.NewEngine(query.EngineOpts{
		Logger:                      s.logger.With("component", "query engine"),
		Registerer:                  s.reg,
		MaxSamples:                  s.flags.maxSamples,
		Timeout:                     time.Duration(s.flags.queryTimeout),
		LookbackDelta:               time.Duration(s.flags.lookbackDelta),
		MaxConcurrent:               s.flags.maxConcurrency,
		NoStepSubqueryIntervalFn:    func(int64) int64 { return s.evalInterval.Load() },
		EnableExperimentalFunctions: fs.experimentalFunctions,
		EnableDelayedNameRemoval:    fs.delayedNameRemoval,
		EnablePerStepStats:          fs.perStepStats,
	})
	defer engine.Close()
	s.engine = engine
	if err := s.applyQueryLog(cfg); err != nil {
		return err
	}

	// The notifier needs nothing from storage; it starts early so that the
	// web handler can list its Alertmanagers.
	s.notifier = notifier.New(notifier.Options{
		QueueCapacity:   s.flags.notificationQueue,
		DrainOnShutdown: true,
		Logger:          s.logger.With("component", "notifier"),
		Registerer:      s.reg,
	})
	if err := s.notifier.ApplyConfig(cfg); err != nil {
		s.logger.Error("applying alerting configuration", "err", err)
	}
	var notifierCtx context.Context
	notifierCtx, s.stopNotifier = context.WithCancel(context.Background())
	s.notifierDone = make(chan struct{})
	go func() {
		s.notifier.Run(notifierCtx)
		close(s.notifierDone)
	}()
	corsOrigin, err := web.CompileCORSOrigin(s.flags.corsOrigin)
	if err != nil {
		return fmt.Errorf("--web.cors.origin: %w", err)
	}

	retention, maxBytes := s.retention(cfg)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	webHandler := web.New(web.Options{
		ListenAddress:             s.flags.listenAddress,
		ExternalURL:               externalURL,
		EnableLifecycle:           s.flags.enableLifecycle,
		EnableAdminAPI:            s.flags.enableAdminAPI,
		EnableRemoteWriteReceiver: s.flags.enableRemoteWriteReceiver,
		Storage:                   s.storage,
		QueryEngine:               engine,
		Gatherer:                  s.reg,
		Registerer:                s.reg,
		Logger:                    s.logger.With("component", "web"),
		Reload:                    func(context.Context) error { return s.reload() },
		Quit:                      cancel,
		Parser: parser.NewParser(parser.Options{
			EnableExperimentalFunctions: fs.experimentalFunctions,
			EnableBinopFillModifiers:    fs.binopFillModifiers,
		}),
		CORSOrigin:            corsOrigin,
		Config:                s.config.Load,
		Flags:                 s.flags.values(),
		TSDBRetentionDuration: model.Duration(time.Duration(retention) * time.Millisecond),
		TSDBMaxBytes:          units.Base2Bytes(maxBytes),
		TargetRetriever:       &s.targets,
		Rules:                 &s.ruleGroups,
		Admin:                 s.storage,
		WALReplayStatus: func() web.WALReplayStatus {
			return web.WALReplayStatus{Min: int(s.replayMin.Load()), Max: int(s.replayMax.Load()), Current: int(s.replayCurrent.Load())}
		},
		Alertmanagers: s.notifier,
		TSDBStats: func(limit int) tsdb.Stats {
			// Only reached once ready, that is with the database open.
			return s.storage.db.Load().Stats(limit)
		},
		ExternalLabels: func() labels.Labels {
			return s.config.Load().GlobalConfig.ExternalLabels
		},
		LookbackDelta:              time.Duration(s.flags.lookbackDelta),
		RemoteReadSampleLimit:      s.flags.remoteReadSampleLimit,
		RemoteReadConcurrencyLimit: s.flags.remoteReadConcurrencyLimit,
		RemoteReadMaxBytesInFrame:  s.flags.remoteReadMaxBytesInFrame,
	})
	webErr := make(chan error, 1)
	go func() { webErr <- webHandler.Run(ctx) }()

	// Storage opens after the listener so that /-/healthy answers while the
	// WAL replays; /-/ready and the API answer 503 until it is done.
	start := time.Now()
	db, err := tsdb.Open(s.flags.tsdbPath, &tsdb.Options{
		OutOfOrderTimeWindow: outOfOrderWindow(cfg),
		RetentionDuration:    cmp.Or(retention, -1), // tsdb reads 0 as its default
		FloatChunkEncoding:   s.floatChunkEncoding(cfg),
		MaxBytes:             maxBytes,
		WALReplayProgress: func(first, last, current int) {
			s.replayMin.Store(int64(first))
			s.replayMax.Store(int64(last))
			s.replayCurrent.Store(int64(current))
		},
		Logger:     s.logger.With("component", "tsdb"),
		Registerer: s.reg,
	})
	if err != nil {
		cancel()
		<-webErr
		return fmt.Errorf("open storage at %s: %w", s.flags.tsdbPath, err)
	}
	s.db = db
	s.storage.set(db)
	s.logger.Info("storage ready", "path", s.flags.tsdbPath, "duration", time.Since(start))

	s.scraper = scrape.NewManager(scrape.Options{
		Logger:     s.logger.With("component", "scrape manager"),
		Registerer: s.reg,
	}, db)
	s.targets.set(s.scraper)
	if err := s.scraper.ApplyConfig(cfg); err != nil {
		s.logger.Error("applying scrape configuration", "err", err)
	}
	s.externalURL = externalURL.String()
	s.rules = rules.NewManager(rules.ManagerOptions{
		QueryFunc:       rules.EngineQueryFunc(engine, db),
		Appendable:      db,
		Notifier:        s.notifier,
		Queryable:       db,
		OutageTolerance: time.Duration(s.flags.forOutageTolerance),
		ForGracePeriod:  time.Duration(s.flags.forGracePeriod),
		Logger:          s.logger.With("component", "rule manager"),
		Registerer:      s.reg,
		ResendDelay:     time.Duration(s.flags.resendDelay),
		DefaultQueryOffset: func() time.Duration {
			return time.Duration(s.config.Load().GlobalConfig.RuleQueryOffset)
		},
	})
	if err := s.applyRules(cfg); err != nil {
		s.logger.Error("loading rule files", "err", err)
	}
	s.ruleGroups.set(s.rules)
	s.rules.Run()
	s.setReloadResult(true)
	webHandler.SetReady(true)
	s.logger.Info("server is ready to receive web requests")

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var runErr error
loop:
	for {
		select {
		case <-hup:
			_ = s.reload() // Logged and counted inside; a bad file keeps the old config.
		case err := <-webErr:
			runErr = err
			webErr = nil
			break loop
		case <-ctx.Done():
			break loop
		}
	}
	return errors.Join(runErr, s.shutdown(cancel, webErr))
}

// shutdown stops scraping first (so the last stale markers are written),
// then the web server, then closes storage, flushing the WAL.
func (s *server) shutdown(cancel context.CancelFunc, webErr <-chan error) error {
	s.logger.Info("shutting down")
	s.scraper.Stop()
	s.rules.Stop()
	// The notifier flushes what the last evaluations queued before it ends.
	s.stopNotifier()
	<-s.notifierDone
	cancel()
	var err error
	if webErr != nil {
		err = <-webErr
	}
	if cerr := s.db.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close storage: %w", cerr))
	}
	return err
}

// reload re-reads the configuration and applies it. A file that does not
// load leaves every component on the running configuration.
func (s *server) reload() error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	start := time.Now()
	cfg, err := s.loadConfig()
	if err != nil {
		return s.reloadFailed(fmt.Errorf("load %s: %w", cfgName(s.flags.configFile), err))
	}
	// Rule files, the query log file and the alerting section are the other
	// inputs a reload can find broken: they go first, so that a bad one
	// leaves scraping and storage on the old configuration.
	if err := s.applyRules(cfg); err != nil {
		return s.reloadFailed(fmt.Errorf("load rule files: %w", err))
	}
	if err := s.applyQueryLog(cfg); err != nil {
		return s.reloadFailed(err)
	}
	if err := s.notifier.ApplyConfig(cfg); err != nil {
		return s.reloadFailed(fmt.Errorf("apply alerting configuration: %w", err))
	}
	s.db.SetOutOfOrderTimeWindow(outOfOrderWindow(cfg))
	s.db.SetRetention(s.retention(cfg))
	if err := s.db.SetFloatChunkEncoding(s.floatChunkEncoding(cfg)); err != nil {
		return s.reloadFailed(fmt.Errorf("apply storage.tsdb.chunk_encoding: %w", err))
	}
	s.evalInterval.Store(time.Duration(cfg.GlobalConfig.EvaluationInterval).Milliseconds())
	if err := s.scraper.ApplyConfig(cfg); err != nil {
		return s.reloadFailed(fmt.Errorf("apply scrape configuration: %w", err))
	}
	s.config.Store(cfg)
	s.setReloadResult(true)
	s.reloads.WithLabelValues("success").Inc()
	s.logger.Info("completed loading of configuration file", "file", cfgName(s.flags.configFile), "duration", time.Since(start))
	return nil
}

// reloadFailed records and logs a failed reload and returns its error.
func (s *server) reloadFailed(err error) error {
	s.setReloadResult(false)
	s.reloads.WithLabelValues("failure").Inc()
	s.logger.Error("error reloading config; keeping the running configuration", "err", err)
	return err
}

func (s *server) setReloadResult(ok bool) {
	if !ok {
		s.reloadOK.Set(0)
		return
	}
	s.reloadOK.Set(1)
	s.reloadTimestamp.SetToCurrentTime()
}

func outOfOrderWindow(cfg *config.Config) int64 {
	if cfg.StorageConfig.TSDBConfig == nil {
		return 0
	}
	return time.Duration(cfg.StorageConfig.TSDBConfig.OutOfOrderTimeWindow).Milliseconds()
}

func cfgName(file string) string {
	if file == "" {
		return "(embedded default)"
	}
	return file
}

// scrapeTargets lets the web handler, built before the scrape manager
// exists, list its targets once it does; until then there are none.
type scrapeTargets struct {
	m atomic.Pointer[scrape.Manager]
}

func (t *scrapeTargets) set(m *scrape.Manager) { t.m.Store(m) }

func (t *scrapeTargets) TargetsActive() map[string][]*scrape.Target {
	if m := t.m.Load(); m != nil {
		return m.TargetsActive()
	}
	return nil
}

func (t *scrapeTargets) TargetsDropped() map[string][]*scrape.Target {
	if m := t.m.Load(); m != nil {
		return m.TargetsDropped()
	}
	return nil
}

func (t *scrapeTargets) TargetsDroppedCounts() map[string]int {
	if m := t.m.Load(); m != nil {
		return m.TargetsDroppedCounts()
	}
	return nil
}

// applyRules loads the configuration's rule files into the rule manager.
func (s *server) applyRules(cfg *config.Config) error {
	files, err := expandRuleFiles(cfg.RuleFiles)
	if err != nil {
		return err
	}
	return s.rules.Update(time.Duration(cfg.GlobalConfig.EvaluationInterval), files, cfg.GlobalConfig.ExternalLabels, s.externalURL, nil)
}

// expandRuleFiles expands the rule_files globs (already resolved against the
// config file's directory) into a sorted, duplicate-free file list.
func expandRuleFiles(patterns []string) ([]string, error) {
	var files []string
	seen := map[string]bool{}
	for _, pat := range patterns {
		matches, err := filepath.Glob(pat)
		if err != nil {
			return nil, fmt.Errorf("rule_files pattern %q: %w", pat, err)
		}
		for _, m := range matches {
			if !seen[m] {
				seen[m] = true
				files = append(files, m)
			}
		}
	}
	slices.Sort(files)
	return files, nil
}

type ruleGroups struct {
	m atomic.Pointer[rules.Manager]
}

func (r *ruleGroups) set(m *rules.Manager) { r.m.Store(m) }

func (r *ruleGroups) RuleGroups() []*rules.Group {
	if m := r.m.Load(); m != nil {
		return m.RuleGroups()
	}
	return nil
}

func (r *ruleGroups) AlertingRules() []*rules.AlertingRule {
	if m := r.m.Load(); m != nil {
		return m.AlertingRules()
	}
	return nil
}

// retention returns the TSDB's time retention in ms (0 keeps blocks
// forever) and its size limit in bytes, as Prometheus resolves them: a
// storage.tsdb.retention section setting either replaces both flags, and
// with neither a time nor a size set anywhere, blocks are kept for 15 days.
func (s *server) retention(cfg *config.Config) (int64, int64) {
	d := time.Duration(s.flags.retentionTime)
	size := int64(s.flags.retentionSize)
	if tc := cfg.StorageConfig.TSDBConfig; tc != nil && tc.Retention != nil && (tc.Retention.Time > 0 || tc.Retention.Size > 0) {
		d, size = time.Duration(tc.Retention.Time), int64(tc.Retention.Size)
	}
	if d == 0 && size == 0 {
		d = defaultRetention
	}
	return d.Milliseconds(), size
}

// floatChunkEncoding is the encoding of new float chunks: the config
// file's storage.tsdb.chunk_encoding.floats, else XOR2 with
// --enable-feature=xor2-encoding, else XOR, as Prometheus chooses.
func (s *server) floatChunkEncoding(cfg *config.Config) chunkenc.Encoding {
	floats := ""
	if tc := cfg.StorageConfig.TSDBConfig; tc != nil {
		floats = tc.ChunkEncoding.Floats
	}
	if floats == "" && s.features.xor2Encoding {
		return chunkenc.EncXOR2
	}
	// The config was validated: anything but xor2 is xor.
	if floats == config.FloatChunkEncodingXOR2 {
		return chunkenc.EncXOR2
	}
	return chunkenc.EncXOR
}

// defaultRetention is the time retention when neither flags nor the config
// file set one.
const defaultRetention = 15 * 24 * time.Hour

// applyQueryLog opens global.query_log_file when it changed, or turns the
// query log off when it is unset. A file that cannot be opened is an error
// and the previous log stays in use.
func (s *server) applyQueryLog(cfg *config.Config) error {
	path := cfg.GlobalConfig.QueryLogFile
	if path == s.queryLogFile {
		return nil
	}
	if path == "" {
		s.engine.SetQueryLogger(nil)
		s.queryLogFile = ""
		return nil
	}
	l, err := query.NewFileQueryLogger(path)
	if err != nil {
		return fmt.Errorf("open query log %s: %w", path, err)
	}
	s.engine.SetQueryLogger(l)
	s.queryLogFile = path
	return nil
}
