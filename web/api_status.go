package web

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/version"
)

// Self-metrics runtimeinfo reads, as Prometheus reads its own: the process
// already counts these, so the API needs no second bookkeeping.
const (
	metricWALCorruptions   = "argus_tsdb_wal_corruptions_total"
	metricReloadSuccessful = "argus_config_last_reload_successful"
	metricReloadTimestamp  = "argus_config_last_reload_success_timestamp_seconds"
)

// WALReplayStatus is the progress of the WAL replay at start-up, in WAL
// segment numbers.
type WALReplayStatus struct {
	Min     int `json:"min"`
	Max     int `json:"max"`
	Current int `json:"current"`
}

type runtimeInfo struct {
	StartTime           time.Time `json:"startTime"`
	CWD                 string    `json:"CWD"`
	Hostname            string    `json:"hostname"`
	ServerTime          time.Time `json:"serverTime"`
	ReloadConfigSuccess bool      `json:"reloadConfigSuccess"`
	LastConfigTime      time.Time `json:"lastConfigTime"`
	CorruptionCount     int64     `json:"corruptionCount"`
	GoroutineCount      int       `json:"goroutineCount"`
	GOMAXPROCS          int       `json:"GOMAXPROCS"`
	GOMEMLIMIT          int64     `json:"GOMEMLIMIT"`
	GOGC                string    `json:"GOGC"`
	GODEBUG             string    `json:"GODEBUG"`
	StorageRetention    string    `json:"storageRetention"`
}

type buildInfo struct {
	Version   string `json:"version"`
	Revision  string `json:"revision"`
	Branch    string `json:"branch"`
	BuildUser string `json:"buildUser"`
	BuildDate string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
}

func (h *Handler) statusConfig(*http.Request) ([]byte, *annotations, *apiError) {
	if h.opts.Config == nil {
		return nil, nil, &apiError{errorUnavailable, errors.New("no configuration loaded")}
	}
	cfg := h.opts.Config()
	if cfg == nil {
		return nil, nil, &apiError{errorUnavailable, errors.New("no configuration loaded")}
	}
	return marshalData(struct {
		YAML string `json:"yaml"`
	}{cfg.String()})
}

func (h *Handler) statusFlags(*http.Request) ([]byte, *annotations, *apiError) {
	flags := h.opts.Flags
	if flags == nil {
		flags = map[string]string{}
	}
	return marshalData(flags)
}

func (h *Handler) statusBuildInfo(*http.Request) ([]byte, *annotations, *apiError) {
	return marshalData(buildInfo{
		Version:   version.Version,
		Revision:  version.Revision,
		Branch:    version.Branch,
		BuildUser: version.BuildUser,
		BuildDate: version.BuildDate,
		GoVersion: version.GoVersion,
	})
}

func (h *Handler) statusRuntimeInfo(*http.Request) ([]byte, *annotations, *apiError) {
	hostname, _ := os.Hostname() // Empty when unknown; not worth failing the page.
	info := runtimeInfo{
		StartTime:        h.startTime,
		CWD:              h.cwd,
		Hostname:         hostname,
		ServerTime:       time.Now().UTC(),
		GoroutineCount:   runtime.NumGoroutine(),
		GOMAXPROCS:       runtime.GOMAXPROCS(0),
		GOMEMLIMIT:       debug.SetMemoryLimit(-1), // A negative limit only reads it.
		GOGC:             os.Getenv("GOGC"),
		GODEBUG:          os.Getenv("GODEBUG"),
		StorageRetention: storageRetention(h.opts),
	}
	mfs, err := h.gatherer().Gather()
	if err != nil {
		return nil, nil, &apiError{errorInternal, fmt.Errorf("error gathering runtime status: %w", err)}
	}
	for _, mf := range mfs {
		switch mf.GetName() {
		case metricWALCorruptions:
			info.CorruptionCount = int64(metricValue(mf))
		case metricReloadSuccessful:
			info.ReloadConfigSuccess = metricValue(mf) != 0
		case metricReloadTimestamp:
			info.LastConfigTime = time.Unix(int64(metricValue(mf)), 0).UTC()
		}
	}
	return marshalData(info)
}

// storageRetention describes the retention as Prometheus does: "15d",
// "512MiB" or "15d or 512MiB".
func storageRetention(o Options) string {
	s := ""
	if o.TSDBRetentionDuration != 0 {
		s = o.TSDBRetentionDuration.String()
	}
	if o.TSDBMaxBytes != 0 {
		if s != "" {
			s += " or "
		}
		s += o.TSDBMaxBytes.String()
	}
	return s
}

// metricValue reads the value of a single-series counter or gauge.
func metricValue(mf *dto.MetricFamily) float64 {
	if len(mf.GetMetric()) == 0 {
		return 0
	}
	m := mf.GetMetric()[0]
	if c := m.GetCounter(); c != nil {
		return c.GetValue()
	}
	return m.GetGauge().GetValue()
}

// walReplay answers while the WAL replays too (it is how a UI shows
// start-up progress), so it is not gated on readiness.
func (h *Handler) walReplay(*http.Request) ([]byte, *annotations, *apiError) {
	var st WALReplayStatus
	if h.opts.WALReplayStatus != nil {
		st = h.opts.WALReplayStatus()
	}
	return marshalData(st)
}
