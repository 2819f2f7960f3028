package main

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/alecthomas/units"
	"github.com/prometheus/common/model"

	"github.com/argusmon/argus/web"
)

// serverFlags are the server's command-line settings, under Prometheus's names.
type serverFlags struct {
	configFile string

	tsdbPath      string
	retentionTime model.Duration
	retentionSize units.Base2Bytes

	listenAddress             string
	externalURL               string
	enableLifecycle           bool
	enableAdminAPI            bool
	enableRemoteWriteReceiver bool
	corsOrigin                string

	remoteReadSampleLimit      int
	remoteReadConcurrencyLimit int
	remoteReadMaxBytesInFrame  int

	lookbackDelta  model.Duration
	queryTimeout   model.Duration
	maxConcurrency int
	maxSamples     int

	resendDelay        model.Duration
	notificationQueue  int
	forOutageTolerance model.Duration
	forGracePeriod     model.Duration

	logLevel  string
	logFormat string

	features []string

	// app is kept to list every flag's value for /api/v1/status/flags.
	app *kingpin.Application
}

func (f *serverFlags) register(app *kingpin.Application) {
	f.app = app
	app.Flag("config.file", "Argus/Prometheus configuration file path. Without it, Argus runs an embedded configuration that scrapes itself.").
		StringVar(&f.configFile)

	app.Flag("storage.tsdb.path", "Base path for metrics storage.").Default("data/").StringVar(&f.tsdbPath)
	app.Flag("storage.tsdb.retention.time", "How long to retain samples in storage. If neither this flag nor \"storage.tsdb.retention.size\" is set, the retention time defaults to 15d. Overridden by storage.tsdb.retention.time in the config file.").
		SetValue(&f.retentionTime)
	app.Flag("storage.tsdb.retention.size", "Maximum number of bytes that can be stored for blocks (units: B, KB, MB, GB, TB, PB, EB). 0 means no limit.").
		Default("0").BytesVar(&f.retentionSize)

	app.Flag("web.listen-address", "Address to listen on for UI, API, and telemetry.").Default("0.0.0.0:9090").StringVar(&f.listenAddress)
	app.Flag("web.external-url", "The URL under which Argus is externally reachable (for example, if served via a reverse proxy).").
		StringVar(&f.externalURL)
	app.Flag("web.enable-lifecycle", "Enable shutdown and reload via HTTP request.").BoolVar(&f.enableLifecycle)
	app.Flag("web.enable-admin-api", "Enable API endpoints for admin control actions.").BoolVar(&f.enableAdminAPI)
	app.Flag("web.enable-remote-write-receiver", "Enable API endpoint accepting remote write requests.").BoolVar(&f.enableRemoteWriteReceiver)
	app.Flag("web.cors.origin", `Regex for CORS origin. It is fully anchored. Example: 'https?://(domain1|domain2)\.com'`).
		Default(".*").StringVar(&f.corsOrigin)

	app.Flag("storage.remote.read-sample-limit", "Maximum overall number of samples to return via the remote read interface, in a single query. 0 means no limit. This limit is ignored for streamed response types.").
		Default("50000000").IntVar(&f.remoteReadSampleLimit)
	app.Flag("storage.remote.read-concurrent-limit", "Maximum number of concurrent remote read calls. 0 means no limit.").
		Default("10").IntVar(&f.remoteReadConcurrencyLimit)
	app.Flag("storage.remote.read-max-bytes-in-frame", "Maximum number of bytes in a single frame for streaming remote read response types before marshalling. Note that client might have limit on frame size as well. 1MB as recommended by protobuf by default.").
		Default("1048576").IntVar(&f.remoteReadMaxBytesInFrame)

	app.Flag("query.lookback-delta", "The maximum lookback duration for retrieving metrics during expression evaluations and federation.").
		Default("5m").SetValue(&f.lookbackDelta)
	app.Flag("query.timeout", "Maximum time a query may take before being aborted.").Default("2m").SetValue(&f.queryTimeout)
	app.Flag("query.max-concurrency", "Maximum number of queries executed concurrently.").Default("20").IntVar(&f.maxConcurrency)
	app.Flag("query.max-samples", "Maximum number of samples a single query can load into memory. Note that queries will fail if they try to load more samples than this into memory, so this also limits the number of samples a query can return.").
		Default("50000000").IntVar(&f.maxSamples)

	app.Flag("rules.alert.resend-delay", "Minimum amount of time to wait before resending an alert to Alertmanager.").
		Default("1m").SetValue(&f.resendDelay)
	app.Flag("alertmanager.notification-queue-capacity", "The capacity of the queue for pending Alertmanager notifications.").
		Default("10000").IntVar(&f.notificationQueue)
	app.Flag("rules.alert.for-outage-tolerance", "Max time to tolerate outage for restoring \"for\" state of alert.").
		Default("1h").SetValue(&f.forOutageTolerance)
	app.Flag("rules.alert.for-grace-period", "Minimum duration between alert and restored \"for\" state. This is maintained only for alerts with configured \"for\" time greater than grace period.").
		Default("10m").SetValue(&f.forGracePeriod)

	app.Flag("log.level", "Only log messages with the given severity or above. One of: [debug, info, warn, error]").
		Default("info").EnumVar(&f.logLevel, "debug", "info", "warn", "error")
	app.Flag("log.format", "Output format of log messages. One of: [logfmt, json]").
		Default("logfmt").EnumVar(&f.logFormat, "logfmt", "json")

	app.Flag("enable-feature", "Comma separated feature names to enable. Valid options: promql-experimental-functions, promql-delayed-name-removal, promql-extended-range-selectors, promql-binop-fill-modifiers, promql-per-step-stats, xor2-encoding.").
		StringsVar(&f.features)
}

// features are the --enable-feature switches Argus knows.
type features struct {
	experimentalFunctions  bool
	delayedNameRemoval     bool
	extendedRangeSelectors bool
	binopFillModifiers     bool
	perStepStats           bool
	// xor2Encoding makes XOR2 the float chunk encoding when the config
	// file's storage.tsdb.chunk_encoding.floats is empty.
	xor2Encoding bool
}

// parseFeatures reads --enable-feature values (repeatable, comma
// separated). Unknown names are returned for a warning, not an error, as
// Prometheus does, so a command line from a newer Prometheus still starts.
func parseFeatures(values []string) (features, []string) {
	var fs features
	var unknown []string
	for _, v := range values {
		for _, name := range strings.Split(v, ",") {
			switch name = strings.TrimSpace(name); name {
			case "promql-experimental-functions":
				fs.experimentalFunctions = true
			case "promql-delayed-name-removal":
				fs.delayedNameRemoval = true
			case "promql-extended-range-selectors":
				fs.extendedRangeSelectors = true
			case "promql-binop-fill-modifiers":
				fs.binopFillModifiers = true
			case "promql-per-step-stats":
				fs.perStepStats = true
			case "xor2-encoding":
				fs.xor2Encoding = true
			case "":
			default:
				unknown = append(unknown, name)
			}
		}
	}
	return fs, unknown
}

// parseExternalURL returns the URL Argus is reachable at, deriving it from the
// listen address when the flag is empty, as Prometheus does.
func parseExternalURL(flag, listenAddress string) (*url.URL, error) {
	if flag == "" {
		host, port, ok := strings.Cut(listenAddress, ":")
		if !ok || host == "" || host == "0.0.0.0" {
			host = "localhost"
		}
		flag = fmt.Sprintf("http://%s:%s/", host, port)
	}
	u, err := url.Parse(flag)
	if err != nil {
		return nil, fmt.Errorf("parse --web.external-url %q: %w", flag, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("--web.external-url %q: scheme must be http or https", flag)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

// values maps every flag's name to its current value, as Prometheus's
// /api/v1/status/flags shows them.
func (f *serverFlags) values() map[string]string {
	out := map[string]string{}
	if f.app == nil {
		return out
	}
	for _, fl := range f.app.Model().Flags {
		out[fl.Name] = fl.Value.String()
	}
	return out
}

func (f *serverFlags) validate() error {
	if f.maxConcurrency < 1 {
		return fmt.Errorf("--query.max-concurrency must be at least 1, got %d", f.maxConcurrency)
	}
	if f.maxSamples < 1 {
		return fmt.Errorf("--query.max-samples must be at least 1, got %d", f.maxSamples)
	}
	if time.Duration(f.lookbackDelta) <= 0 {
		return fmt.Errorf("--query.lookback-delta must be positive, got %s", f.lookbackDelta)
	}
	if time.Duration(f.queryTimeout) <= 0 {
		return fmt.Errorf("--query.timeout must be positive, got %s", f.queryTimeout)
	}
	if _, err := web.CompileCORSOrigin(f.corsOrigin); err != nil {
		return fmt.Errorf("--web.cors.origin %q: %w", f.corsOrigin, err)
	}
	return nil
}
