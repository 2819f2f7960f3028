package scrape

import (
	"fmt"
	"hash/fnv"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// TargetHealth is the health of a target as of its last scrape.
type TargetHealth string

// The values TargetHealth takes, spelled as /api/v1/targets reports them.
const (
	HealthUnknown TargetHealth = "unknown"
	HealthGood    TargetHealth = "up"
	HealthBad     TargetHealth = "down"
)

// Target is one endpoint a scrape pool scrapes, or, for a target dropped by
// relabeling, the label set it was discovered with. Its identity (labels, URL)
// never changes; its scrape status does, under mu.
type Target struct {
	// labels is the relabeled set including the internal "__" labels that
	// shape the request (__address__, __scheme__, __param_x...).
	labels     labels.Labels
	public     labels.Labels // labels without the "__" ones: what samples get.
	discovered labels.Labels // labels before relabeling.
	url        *url.URL
	interval   time.Duration
	timeout    time.Duration

	mu                 sync.RWMutex
	health             TargetHealth
	lastError          error
	lastScrape         time.Time
	lastScrapeDuration time.Duration
	metadata           map[string]Metadata // see Metadata.
}

// newTarget builds an active target from its relabeled labels. params are the
// job's params, which __param_<name> labels override.
func newTarget(lset, discovered labels.Labels, params url.Values, interval, timeout time.Duration) *Target {
	t := &Target{
		labels:     lset,
		discovered: discovered,
		interval:   interval,
		timeout:    timeout,
		health:     HealthUnknown,
	}
	lb := labels.NewBuilder(labels.EmptyLabels())
	lset.Range(func(l labels.Label) {
		if !strings.HasPrefix(l.Name, model.ReservedLabelPrefix) {
			lb.Set(l.Name, l.Value)
		}
	})
	t.public = lb.Labels()
	t.url = targetURL(lset, params)
	return t
}

// newDroppedTarget records a target that target relabeling dropped; only its
// discovered labels are meaningful.
func newDroppedTarget(discovered labels.Labels) *Target {
	return &Target{discovered: discovered, health: HealthUnknown}
}

func targetURL(lset labels.Labels, params url.Values) *url.URL {
	q := make(url.Values, len(params))
	for k, v := range params {
		q[k] = append([]string(nil), v...)
	}
	lset.Range(func(l labels.Label) {
		name, ok := strings.CutPrefix(l.Name, model.ParamLabelPrefix)
		if !ok {
			return
		}
		// A __param_ label replaces the first value of a repeated parameter
		// and keeps the others, as Prometheus does.
		if len(q[name]) > 0 {
			q[name][0] = l.Value
		} else {
			q[name] = []string{l.Value}
		}
	})
	return &url.URL{
		Scheme:   lset.Get(model.SchemeLabel),
		Host:     lset.Get(model.AddressLabel),
		Path:     lset.Get(model.MetricsPathLabel),
		RawQuery: q.Encode(),
	}
}

// Labels returns the target's labels without the internal "__" ones: the
// labels every scraped sample and report series of the target carries.
func (t *Target) Labels() labels.Labels { return t.public }

// DiscoveredLabels returns the labels the target had before target relabeling.
func (t *Target) DiscoveredLabels() labels.Labels { return t.discovered }

// URL returns a copy of the URL the target is scraped at (nil for a dropped
// target).
func (t *Target) URL() *url.URL {
	if t.url == nil {
		return nil
	}
	u := *t.url
	return &u
}

// String returns the scrape URL, or the discovered labels of a dropped target.
func (t *Target) String() string {
	if t.url == nil {
		return t.discovered.String()
	}
	return t.url.String()
}

// Interval returns the target's scrape interval (from __scrape_interval__).
func (t *Target) Interval() time.Duration { return t.interval }

// Timeout returns the target's scrape timeout (from __scrape_timeout__).
func (t *Target) Timeout() time.Duration { return t.timeout }

// Health returns the health as of the last scrape.
func (t *Target) Health() TargetHealth {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.health
}

// LastError returns the error of the last scrape, nil if it succeeded.
func (t *Target) LastError() error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.lastError
}

// LastScrape returns the timestamp of the last scrape (zero before the first).
func (t *Target) LastScrape() time.Time {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.lastScrape
}

// LastScrapeDuration returns how long the last scrape took.
func (t *Target) LastScrapeDuration() time.Duration {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.lastScrapeDuration
}

func (t *Target) report(start time.Time, dur time.Duration, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err == nil {
		t.health = HealthGood
	} else {
		t.health = HealthBad
	}
	t.lastError = err
	t.lastScrape = start
	t.lastScrapeDuration = dur
}

// hash identifies the target within its pool: two targets with the same
// labels and URL are the same target and share one loop.
func (t *Target) hash() uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%016d", t.labels.Hash())
	h.Write([]byte(t.url.String()))
	return h.Sum64()
}

// offset returns how long to wait from now until the target's first scrape.
// Scrapes of a target happen at wall-clock instants congruent to
// (hash^seed) mod interval, so load is spread over the interval and a
// restarted server keeps each target's phase.
func (t *Target) offset(now time.Time, interval time.Duration, seed uint64) time.Duration {
	iv := int64(interval)
	untilBoundary := iv - now.UnixNano()%iv
	phase := int64((t.hash() ^ seed) % uint64(iv))
	next := untilBoundary + phase
	if next > iv {
		next -= iv
	}
	return time.Duration(next)
}
