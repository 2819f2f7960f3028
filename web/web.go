// Package web owns Argus's HTTP surface: the server, its middleware (request
// ids, request metrics, compression), the lifecycle endpoints, self-metrics
// exposition, the Prometheus-compatible HTTP API v1, the remote-write
// receiver (1.0 and 2.0), remote read and federation. It only calls into
// the other packages; nothing calls into it.
package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/alecthomas/units"
	"github.com/gorilla/mux"
	"github.com/grafana/regexp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/argusmon/argus/config"
	"github.com/argusmon/argus/internal/logging"
	"github.com/argusmon/argus/query"
	"github.com/argusmon/argus/storage"
	"github.com/argusmon/argus/tsdb"
)

// Storage is what the HTTP layer needs from the database: reads for the
// query API, appends for the remote-write receiver.
type Storage interface {
	query.Queryable
	Appender(ctx context.Context) storage.Appender
}

// QueryEngine creates queries; *query.Engine satisfies it.
type QueryEngine interface {
	NewInstantQuery(ctx context.Context, q query.Queryable, qs string, ts time.Time) (query.Query, error)
	NewRangeQuery(ctx context.Context, q query.Queryable, qs string, start, end time.Time, step time.Duration) (query.Query, error)
}

// Options configures the HTTP server.
type Options struct {
	ListenAddress string
	ExternalURL   *url.URL

	EnableLifecycle           bool
	EnableAdminAPI            bool
	EnableRemoteWriteReceiver bool

	Storage     Storage
	QueryEngine QueryEngine
	// Gatherer serves /metrics; Registerer receives the HTTP metrics.
	Gatherer   prometheus.Gatherer
	Registerer prometheus.Registerer
	Logger     *slog.Logger

	// Reload asks the owner of the config to reload it and reports the
	// outcome; it backs POST /-/reload.
	Reload func(ctx context.Context) error
	// Quit asks the process to shut down; it backs POST /-/quit.
	Quit func()

	// Parser parses match[] selectors and the queries of format_query and
	// parse_query; nil means a parser with default options.
	Parser parser.Parser
	// CORSOrigin is the anchored --web.cors.origin (see CompileCORSOrigin);
	// nil allows every origin, Prometheus's default.
	CORSOrigin *regexp.Regexp
	// Config returns the running configuration for /api/v1/status/config.
	Config func() *config.Config
	// Flags maps every command-line flag name to its value, for
	// /api/v1/status/flags.
	Flags map[string]string
	// TSDBRetentionDuration and TSDBMaxBytes are reported by
	// /api/v1/status/runtimeinfo; zero means unset.
	TSDBRetentionDuration model.Duration
	TSDBMaxBytes          units.Base2Bytes
	// WALReplayStatus reports WAL replay progress; nil reports zeros.
	WALReplayStatus func() WALReplayStatus
	// TargetRetriever backs /api/v1/targets and /api/v1/scrape_pools; nil
	// lists no targets.
	TargetRetriever TargetRetriever
	// Rules backs /api/v1/rules and /api/v1/alerts; nil lists no rules.
	Rules RulesRetriever

	// ExternalLabels returns the running config's global external_labels,
	// added by /federate and remote read to series that lack them. It is a
	// function so that a reload takes effect; nil means none.
	ExternalLabels func() labels.Labels
	// LookbackDelta is how far back /federate looks for a series' latest
	// sample (--query.lookback-delta); zero means 5m.
	LookbackDelta time.Duration
	// RemoteReadSampleLimit caps the samples of one sampled remote-read
	// response (--storage.remote.read-sample-limit); zero means no limit.
	RemoteReadSampleLimit int
	// RemoteReadConcurrencyLimit caps concurrent remote-read requests
	// (--storage.remote.read-concurrent-limit); zero means no limit.
	RemoteReadConcurrencyLimit int
	// RemoteReadMaxBytesInFrame is the target size of a streamed
	// remote-read frame (--storage.remote.read-max-bytes-in-frame); zero
	// means 1 MiB.
	RemoteReadMaxBytesInFrame int

	// TSDBStats returns the head statistics for /api/v1/status/tsdb.
	TSDBStats func(limit int) tsdb.Stats
	// Admin backs the admin API, served only with EnableAdminAPI; nil
	// answers as if it were disabled.
	Admin Admin

	// Alertmanagers lists where alerts go, for /api/v1/alertmanagers.
	Alertmanagers AlertmanagerRetriever
}

// Handler serves Argus's HTTP endpoints.
type Handler struct {
	opts   Options
	logger *slog.Logger
	router *mux.Router
	parser parser.Parser
	ready  atomic.Bool

	// startTime and cwd are fixed at start-up for runtimeinfo.
	startTime time.Time
	cwd       string

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec

	// readGate holds one token per running remote read; nil is unlimited.
	readGate chan struct{}
	// now is the clock of /federate, replaceable by tests.
	now func() time.Time
}

// New builds the handler and its routes. It does not listen yet.
func New(o Options) *Handler {
	if o.Logger == nil {
		o.Logger = logging.Discard()
	}
	if o.Parser == nil {
		o.Parser = parser.NewParser(parser.Options{})
	}
	cwd, err := os.Getwd()
	if err != nil {
		cwd = "<error retrieving current working directory>"
	}
	h := &Handler{
		opts:      o,
		logger:    o.Logger,
		router:    mux.NewRouter(),
		parser:    o.Parser,
		startTime: time.Now().UTC(),
		cwd:       cwd,
		now:       time.Now,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "argus_http_requests_total",
			Help: "Counter of HTTP requests.",
		}, []string{"handler", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "argus_http_request_duration_seconds",
			Help:    "Histogram of latencies for HTTP requests.",
			Buckets: []float64{.1, .2, .4, 1, 3, 8, 20, 60, 120},
		}, []string{"handler"}),
	}
	if o.Registerer != nil {
		o.Registerer.MustRegister(h.requests, h.duration)
	}
	if o.RemoteReadConcurrencyLimit > 0 {
		h.readGate = make(chan struct{}, o.RemoteReadConcurrencyLimit)
	}
	h.routes()
	return h
}

// SetReady marks the server ready (storage open, WAL replayed) or not.
func (h *Handler) SetReady(ready bool) { h.ready.Store(ready) }

// ServeHTTP lets tests drive the handler without a listener.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.router.ServeHTTP(w, r) }

func (h *Handler) routes() {
	r := h.router
	r.Use(h.requestID)

	r.Handle("/metrics", h.instrument("/metrics", promhttp.HandlerFor(h.gatherer(), promhttp.HandlerOpts{})))
	r.HandleFunc("/-/healthy", h.instrumentFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Argus Server is Healthy.")
	})).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/-/ready", h.instrumentFunc("/-/ready", h.testReady(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Argus Server is Ready.")
	}))).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/-/reload", h.instrumentFunc("/-/reload", h.reload)).Methods(http.MethodPost, http.MethodPut)
	r.HandleFunc("/-/quit", h.instrumentFunc("/-/quit", h.quit)).Methods(http.MethodPost, http.MethodPut)

	r.Handle("/federate", h.instrument("/federate", gzipMiddleware(h.testReady(h.federate)))).Methods(http.MethodGet)
	// Remote read answers in protobuf, snappy-compressed or streamed, so it
	// is registered ahead of the API subrouter and its gzip middleware.
	r.HandleFunc("/api/v1/read", h.instrumentFunc("/api/v1/read", h.testReady(h.remoteRead))).Methods(http.MethodPost)

	api := r.PathPrefix("/api/v1").Subrouter()
	api.Use(gzipMiddleware)
	h.registerAPI(api)
	r.Handle("/", http.RedirectHandler("/api/v1/status/buildinfo", http.StatusFound))
}

func (h *Handler) externalLabels() labels.Labels {
	if h.opts.ExternalLabels == nil {
		return labels.EmptyLabels()
	}
	return h.opts.ExternalLabels()
}

func (h *Handler) gatherer() prometheus.Gatherer {
	if h.opts.Gatherer != nil {
		return h.opts.Gatherer
	}
	return prometheus.DefaultGatherer
}

// Run serves on the listen address until ctx is done, then shuts down
// gracefully, giving in-flight requests a few seconds to finish.
func (h *Handler) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", h.opts.ListenAddress)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", h.opts.ListenAddress, err)
	}
	return h.Serve(ctx, ln)
}

// Serve is Run on an existing listener.
func (h *Handler) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(h.logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	h.logger.Info("listening", "address", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("http server shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	return nil
}

// requestID gives every request an id: the client's X-Request-Id when it is
// short and printable, a fresh random one otherwise. It is echoed in the
// response header and carried in the context into every log line.
func (h *Handler) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		ctx := logging.WithRequestID(r.Context(), id)
		start := time.Now()
		next.ServeHTTP(w, r.WithContext(ctx))
		h.logger.DebugContext(ctx, "http request", "method", r.Method, "path", r.URL.Path, "duration", time.Since(start))
	})
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms.
	return hex.EncodeToString(b[:])
}

func (h *Handler) instrumentFunc(name string, f http.HandlerFunc) http.HandlerFunc {
	return h.instrument(name, f).ServeHTTP
}

func (h *Handler) instrument(name string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		h.requests.WithLabelValues(name, strconv.Itoa(sw.code)).Inc()
		h.duration.WithLabelValues(name).Observe(time.Since(start).Seconds())
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// testReady answers 503 until storage is open and the WAL replayed.
func (h *Handler) testReady(f http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !h.ready.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "Service Unavailable")
			return
		}
		f(w, r)
	}
}

func (h *Handler) reload(w http.ResponseWriter, r *http.Request) {
	if !h.opts.EnableLifecycle || h.opts.Reload == nil {
		http.Error(w, "Lifecycle API is not enabled.", http.StatusForbidden)
		return
	}
	if err := h.opts.Reload(r.Context()); err != nil {
		http.Error(w, fmt.Sprintf("failed to reload config: %s", err), http.StatusInternalServerError)
	}
}

func (h *Handler) quit(w http.ResponseWriter, _ *http.Request) {
	if !h.opts.EnableLifecycle || h.opts.Quit == nil {
		http.Error(w, "Lifecycle API is not enabled.", http.StatusForbidden)
		return
	}
	fmt.Fprintln(w, "Requesting termination... Goodbye!")
	h.opts.Quit()
}
