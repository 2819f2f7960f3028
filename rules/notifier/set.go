package notifier

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"sync"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/config"
	"github.com/argusmon/argus/scrape/discovery"
)

const (
	// alertsPathLabel holds the push path during target relabelling, as
	// in Prometheus.
	alertsPathLabel  = "__alerts_path__"
	defaultTimeout   = 10 * time.Second
	defaultScheme    = "http"
	supportedVersion = "v2"
)

// amSet is the Alertmanagers of one alertmanagers entry of the config,
// with the queue of alerts that none of them has accepted yet.
type amSet struct {
	name     string
	cfg      *config.AlertmanagerConfig
	client   *http.Client
	timeout  time.Duration
	pushPath string
	q        *queue
	logger   *slog.Logger

	// mu guards the Alertmanagers, which discovery replaces while the
	// send loop uses them.
	mu      sync.RWMutex
	groups  []*discovery.Group // what urls and dropped were built from.
	urls    []*url.URL
	dropped []*url.URL

	// cancel and done control the set's send loop while it runs.
	cancel context.CancelFunc
	done   chan struct{}
}

// newAMSet builds the set from its config: the HTTP client and, from
// static_configs after relabel_configs, the first push URLs. Discovered
// Alertmanagers are added by setGroups once discovery reports.
func newAMSet(name string, cfg *config.AlertmanagerConfig, capacity int, logger *slog.Logger) (*amSet, error) {
	if v := cmpOr(cfg.APIVersion, supportedVersion); v != supportedVersion {
		return nil, fmt.Errorf("alertmanager set %s: unsupported api_version %q, only %q is supported", name, v, supportedVersion)
	}
	client, err := commoncfg.NewClientFromConfig(cfg.HTTPClientConfig, "alertmanager")
	if err != nil {
		return nil, fmt.Errorf("alertmanager set %s: building HTTP client: %w", name, err)
	}
	s := &amSet{
		name:     name,
		cfg:      cfg,
		client:   client,
		timeout:  time.Duration(cfg.Timeout),
		pushPath: path.Join("/", cfg.PathPrefix, "/api/"+supportedVersion+"/alerts"),
		q:        newQueue(capacity),
		logger:   logger.With("alertmanager_set", name),
	}
	if s.timeout <= 0 {
		s.timeout = defaultTimeout
	}
	if err := checkDiscovery(s.discoveryConfig()); err != nil {
		return nil, fmt.Errorf("alertmanager set %s: %w", name, err)
	}
	groups := discovery.StaticGroups(cfg.StaticConfigs)
	urls, dropped, errs := s.targetsOf(groups)
	if len(errs) > 0 {
		// Static addresses are the operator's: refuse the config.
		return nil, fmt.Errorf("alertmanager set %s: %w", name, errs[0])
	}
	s.groups, s.urls, s.dropped = groups, urls, dropped
	return s, nil
}

func targetURL(l labels.Labels) *url.URL {
	return &url.URL{
		Scheme: l.Get(model.SchemeLabel),
		Host:   l.Get(model.AddressLabel),
		Path:   l.Get(alertsPathLabel),
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// sendBatch posts the alerts to every Alertmanager of the set at once and
// reports whether at least one accepted them: the Alertmanagers of a set
// are expected to be one cluster, sharing what any of them receives.
func (s *amSet) sendBatch(ctx context.Context, alerts []*apiAlert, m *metrics, userAgent string) bool {
	body, err := json.Marshal(alerts)
	if err != nil {
		// Labels and times always marshal; this would be a bug.
		s.logger.Error("encoding alerts failed", "err", err)
		return false
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	accepted := false
	for _, u := range s.active() {
		wg.Go(func() {
			err := s.post(ctx, u.String(), body, userAgent)
			m.sent.WithLabelValues(u.String()).Add(float64(len(alerts)))
			if err != nil {
				m.errors.WithLabelValues(u.String()).Add(float64(len(alerts)))
				if ctx.Err() == nil {
					s.logger.Warn("sending alerts to Alertmanager failed", "alertmanager", u.String(), "count", len(alerts), "err", err)
				}
				return
			}
			mu.Lock()
			accepted = true
			mu.Unlock()
		})
	}
	wg.Wait()
	return accepted
}

func (s *amSet) post(ctx context.Context, target string, body []byte, userAgent string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building request to %s: %w", target, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("posting to %s: %w", target, err)
	}
	defer resp.Body.Close()
	// Drain so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("posting to %s: unexpected status %s", target, resp.Status)
	}
	return nil
}

// run sends the queued alerts in batches until ctx ends. A batch no
// Alertmanager accepted stays queued and is tried again after retry.
func (s *amSet) run(ctx context.Context, maxBatch int, retry time.Duration, m *metrics, userAgent string) {
	defer close(s.done)
	for {
		batch, last := s.q.peek(maxBatch)
		if len(batch) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-s.q.ready:
			}
			continue
		}
		if s.sendBatch(ctx, batch, m, userAgent) {
			s.q.ack(last)
			continue
		}
		t := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// drain sends the queued alerts once, batch by batch, giving up at the
// first batch no Alertmanager accepts: at shutdown there is no later.
func (s *amSet) drain(ctx context.Context, maxBatch int, m *metrics, userAgent string) {
	for {
		batch, last := s.q.peek(maxBatch)
		if len(batch) == 0 {
			return
		}
		if !s.sendBatch(ctx, batch, m, userAgent) {
			s.logger.Warn("alerts left unsent at shutdown", "count", s.q.len())
			return
		}
		s.q.ack(last)
	}
}
