package discovery

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/version"

	"github.com/argusmon/argus/config"
)

// urlLabel carries the http_sd endpoint a target came from.
const urlLabel = model.MetaLabelPrefix + "url"

// jsonContentType is what Prometheus accepts from an http_sd endpoint.
var jsonContentType = regexp.MustCompile(`^(?i:application/json(;\s*charset=("utf-8"|utf-8))?)$`)

// HTTPOptions configure an HTTP provider.
type HTTPOptions struct {
	// Logger receives refresh failures; nil discards them.
	Logger *slog.Logger
	// HTTPClientOptions are passed to config.NewClientFromConfig.
	HTTPClientOptions []commoncfg.HTTPClientOption
	// Failures counts failed refreshes.
	Failures prometheus.Counter
	// ClientName names the HTTP client (for its metrics and logs).
	ClientName string
}

// HTTP provides the target groups an endpoint returns as JSON, fetched every
// refresh_interval. Only a 200 response with a JSON content type is used; on
// any failure the previous groups stay.
type HTTP struct {
	url       string
	client    *http.Client
	refresh   time.Duration
	logger    *slog.Logger
	failures  prometheus.Counter
	userAgent string

	lastLen int // groups in the last good response; confined to Run.
}

// NewHTTP returns a provider for one http_sd_configs entry.
func NewHTTP(cfg *config.HTTPSDConfig, o HTTPOptions) (*HTTP, error) {
	name := o.ClientName
	if name == "" {
		name = "http_sd"
	}
	client, err := commoncfg.NewClientFromConfig(cfg.HTTPClientConfig, name, o.HTTPClientOptions...)
	if err != nil {
		return nil, fmt.Errorf("creating HTTP client: %w", err)
	}
	refresh := time.Duration(cfg.RefreshInterval)
	if refresh <= 0 {
		refresh = time.Duration(config.DefaultHTTPSDRefreshInterval)
	}
	v := version.Version
	if v == "" {
		v = "unknown"
	}
	return &HTTP{
		url:       cfg.URL,
		client:    client,
		refresh:   refresh,
		logger:    loggerOrDiscard(o.Logger).With("url", cfg.URL),
		failures:  counterOrNew(o.Failures),
		userAgent: "Argus/" + v,
	}, nil
}

// Run fetches the groups now and every refresh interval.
func (h *HTTP) Run(ctx context.Context, up chan<- []*Group) {
	defer h.client.CloseIdleConnections()
	t := time.NewTicker(h.refresh)
	defer t.Stop()
	for {
		groups, err := h.fetch(ctx)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			h.failures.Inc()
			h.logger.Error("http_sd refresh failed, keeping the previous targets", "err", err)
		default:
			if !send(ctx, up, groups) {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// fetch performs one refresh. It is bounded by the refresh interval so that
// a hanging endpoint cannot stall discovery forever.
func (h *HTTP) fetch(ctx context.Context) ([]*Group, error) {
	ctx, cancel := context.WithTimeout(ctx, h.refresh)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url, http.NoBody)
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("User-Agent", h.userAgent)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Prometheus-Refresh-Interval-Seconds", strconv.FormatFloat(h.refresh.Seconds(), 'f', -1, 64))
	resp, err := h.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("server returned HTTP status %s", resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); !jsonContentType.MatchString(strings.TrimSpace(ct)) {
		return nil, fmt.Errorf("unsupported content type %q", ct)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading body: %w", err)
	}
	groups, err := parseGroups(body, false)
	if err != nil {
		return nil, fmt.Errorf("parsing response: %w", err)
	}
	for i, g := range groups {
		g.Source = h.source(i)
		g.Labels[urlLabel] = model.LabelValue(h.url)
	}
	// Groups past the new end are gone.
	n := len(groups)
	for i := n; i < h.lastLen; i++ {
		groups = append(groups, &Group{Source: h.source(i)})
	}
	h.lastLen = n
	return groups, nil
}

func (h *HTTP) source(i int) string { return fmt.Sprintf("%s:%d", h.url, i) }
