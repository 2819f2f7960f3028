package web

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/argusmon/argus/scrape"
)

// TargetRetriever lists scrape targets by scrape pool; *scrape.Manager
// satisfies it.
type TargetRetriever interface {
	TargetsActive() map[string][]*scrape.Target
	TargetsDropped() map[string][]*scrape.Target
	TargetsDroppedCounts() map[string]int
}

type activeTarget struct {
	DiscoveredLabels   labels.Labels       `json:"discoveredLabels"`
	Labels             labels.Labels       `json:"labels"`
	ScrapePool         string              `json:"scrapePool"`
	ScrapeURL          string              `json:"scrapeUrl"`
	GlobalURL          string              `json:"globalUrl"`
	LastError          string              `json:"lastError"`
	LastScrape         time.Time           `json:"lastScrape"`
	LastScrapeDuration float64             `json:"lastScrapeDuration"`
	Health             scrape.TargetHealth `json:"health"`
	ScrapeInterval     string              `json:"scrapeInterval"`
	ScrapeTimeout      string              `json:"scrapeTimeout"`
}

type droppedTarget struct {
	DiscoveredLabels labels.Labels `json:"discoveredLabels"`
	ScrapePool       string        `json:"scrapePool"`
}

type targetDiscovery struct {
	ActiveTargets       []activeTarget  `json:"activeTargets"`
	DroppedTargets      []droppedTarget `json:"droppedTargets"`
	DroppedTargetCounts map[string]int  `json:"droppedTargetCounts"`
}

// noTargets stands in when the server has no scrape manager (tests, or
// before one is wired).
type noTargets struct{}

func (noTargets) TargetsActive() map[string][]*scrape.Target  { return nil }
func (noTargets) TargetsDropped() map[string][]*scrape.Target { return nil }
func (noTargets) TargetsDroppedCounts() map[string]int        { return nil }

func (h *Handler) targetRetriever() TargetRetriever {
	if h.opts.TargetRetriever == nil {
		return noTargets{}
	}
	return h.opts.TargetRetriever
}

func (h *Handler) targets(r *http.Request) ([]byte, *annotations, *apiError) {
	// Like Prometheus, these two come from the URL only, never a form body.
	q := r.URL.Query()
	pool := q.Get("scrapePool")
	state := strings.ToLower(q.Get("state"))
	showActive := state == "" || state == "any" || state == "active"
	showDropped := state == "" || state == "any" || state == "dropped"
	tr := h.targetRetriever()
	res := targetDiscovery{ActiveTargets: []activeTarget{}, DroppedTargets: []droppedTarget{}}

	if showActive {
		active := tr.TargetsActive()
		for _, name := range sortedPools(active) {
			if pool != "" && name != pool {
				continue
			}
			for _, t := range active[name] {
				res.ActiveTargets = append(res.ActiveTargets, h.activeTarget(name, t))
			}
		}
	}
	if showDropped {
		res.DroppedTargetCounts = tr.TargetsDroppedCounts()
		if res.DroppedTargetCounts == nil {
			res.DroppedTargetCounts = map[string]int{}
		}
		dropped := tr.TargetsDropped()
		for _, name := range sortedPools(dropped) {
			if pool != "" && name != pool {
				continue
			}
			for _, t := range dropped[name] {
				res.DroppedTargets = append(res.DroppedTargets, droppedTarget{DiscoveredLabels: t.DiscoveredLabels(), ScrapePool: name})
			}
		}
	}
	return marshalData(res)
}

func (h *Handler) activeTarget(pool string, t *scrape.Target) activeTarget {
	lastErr := ""
	if err := t.LastError(); err != nil {
		lastErr = err.Error()
	}
	scrapeURL, globalURL := "", ""
	if u := t.URL(); u != nil {
		scrapeURL = u.String()
		g, err := h.globalURL(u)
		if err != nil {
			// Prometheus reports the failure to derive the global URL in
			// lastError rather than failing the whole listing.
			lastErr = fmt.Errorf("%s: %w", lastErr, err).Error()
		}
		globalURL = g.String()
	}
	return activeTarget{
		DiscoveredLabels:   t.DiscoveredLabels(),
		Labels:             t.Labels(),
		ScrapePool:         pool,
		ScrapeURL:          scrapeURL,
		GlobalURL:          globalURL,
		LastError:          lastErr,
		LastScrape:         t.LastScrape(),
		LastScrapeDuration: t.LastScrapeDuration().Seconds(),
		Health:             t.Health(),
		ScrapeInterval:     model.Duration(t.Interval()).String(),
		ScrapeTimeout:      model.Duration(t.Timeout()).String(),
	}
}

func sortedPools(m map[string][]*scrape.Target) []string {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// localhostNames are the hosts that mean "this machine", which nobody else
// can reach the target at.
var localhostNames = []string{"127.0.0.1", "localhost", "::1"}

// globalURL rewrites a target URL on localhost into one reachable from
// elsewhere, from the external URL, as Prometheus does: Argus scraping
// itself becomes the external URL's scheme and host; another local port
// keeps its port with the external host name.
func (h *Handler) globalURL(u *url.URL) (*url.URL, error) {
	host, port, err := splitHostPort(u.Host)
	if err != nil {
		return u, err
	}
	if !slices.Contains(localhostNames, host) || h.opts.ExternalURL == nil {
		return u, nil
	}
	_, ownPort, err := net.SplitHostPort(h.opts.ListenAddress)
	if err != nil {
		return u, err
	}
	if port == ownPort {
		u.Scheme = h.opts.ExternalURL.Scheme
		u.Host = h.opts.ExternalURL.Host
		return u, nil
	}
	extHost, _, err := splitHostPort(h.opts.ExternalURL.Host)
	if err != nil {
		return u, err
	}
	u.Host = extHost
	if port != "" {
		u.Host = net.JoinHostPort(extHost, port)
	}
	return u, nil
}

// splitHostPort is net.SplitHostPort that also accepts a host without a
// port, returning it without IPv6 brackets.
func splitHostPort(hostport string) (host, port string, err error) {
	host, port, err = net.SplitHostPort(hostport)
	if err != nil && strings.HasSuffix(err.Error(), "missing port in address") {
		if h, _, err2 := net.SplitHostPort(hostport + ":80"); err2 == nil {
			return h, "", nil
		}
	}
	return host, port, err
}

func (h *Handler) scrapePools(*http.Request) ([]byte, *annotations, *apiError) {
	names := sortedPools(h.targetRetriever().TargetsActive())
	return marshalData(struct {
		ScrapePools []string `json:"scrapePools"`
	}{names})
}
