package scrape

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"

	"github.com/argusmon/argus/config"
	"github.com/argusmon/argus/scrape/discovery"
)

// buildTargets turns target groups into active targets and targets dropped by
// relabeling. A target whose labels are unusable (no address, bad interval...)
// is neither: it is reported in failures and not scraped.
func buildTargets(cfg *config.ScrapeConfig, relabelCfgs []*relabel.Config, groups []*discovery.Group) (active, dropped []*Target, failures []error) {
	lb := labels.NewBuilder(labels.EmptyLabels())
	for _, g := range groups {
		if g == nil {
			continue
		}
		for i, tl := range g.Targets {
			discovered := discoveredLabels(lb, cfg, tl, g.Labels)
			t, err := relabelTarget(lb, cfg, relabelCfgs, discovered)
			switch {
			case err != nil:
				failures = append(failures, fmt.Errorf("target %d of %s: %w", i, g.Source, err))
			case t == nil:
				dropped = append(dropped, newDroppedTarget(discovered))
			default:
				active = append(active, t)
			}
		}
	}
	return active, dropped, failures
}

// discoveredLabels is the label set a target enters relabeling with: its own
// labels, then its group's, then the job's defaults for whatever is unset.
func discoveredLabels(lb *labels.Builder, cfg *config.ScrapeConfig, tl, gl model.LabelSet) labels.Labels {
	lb.Reset(labels.EmptyLabels())
	for n, v := range gl {
		lb.Set(string(n), string(v))
	}
	for n, v := range tl {
		lb.Set(string(n), string(v))
	}
	defaults := [...]labels.Label{
		{Name: model.JobLabel, Value: cfg.JobName},
		{Name: model.ScrapeIntervalLabel, Value: cfg.ScrapeInterval.String()},
		{Name: model.ScrapeTimeoutLabel, Value: cfg.ScrapeTimeout.String()},
		{Name: model.MetricsPathLabel, Value: cfg.MetricsPath},
		{Name: model.SchemeLabel, Value: cfg.Scheme},
	}
	for _, l := range defaults {
		if lb.Get(l.Name) == "" {
			lb.Set(l.Name, l.Value)
		}
	}
	for k, v := range cfg.Params {
		if name := model.ParamLabelPrefix + k; len(v) > 0 && lb.Get(name) == "" {
			lb.Set(name, v[0])
		}
	}
	return lb.Labels()
}

// relabelTarget applies target relabeling and checks the result. It returns
// nil, nil for a target the rules dropped.
func relabelTarget(lb *labels.Builder, cfg *config.ScrapeConfig, relabelCfgs []*relabel.Config, discovered labels.Labels) (*Target, error) {
	lb.Reset(discovered)
	if !relabel.ProcessBuilder(lb, relabelCfgs...) {
		return nil, nil
	}
	addr := lb.Get(model.AddressLabel)
	if addr == "" {
		return nil, errors.New("no address")
	}
	if strings.Contains(addr, "/") {
		return nil, fmt.Errorf("%q is not a valid hostname", addr)
	}
	interval, err := durationLabel(lb, model.ScrapeIntervalLabel)
	if err != nil {
		return nil, err
	}
	timeout, err := durationLabel(lb, model.ScrapeTimeoutLabel)
	if err != nil {
		return nil, err
	}
	if timeout > interval {
		return nil, fmt.Errorf("scrape timeout cannot be greater than scrape interval (%q > %q)",
			lb.Get(model.ScrapeTimeoutLabel), lb.Get(model.ScrapeIntervalLabel))
	}
	// Discovery metadata is for relabeling only; the other "__" labels stay
	// on the target because they shape its request.
	lb.Range(func(l labels.Label) {
		if strings.HasPrefix(l.Name, model.MetaLabelPrefix) {
			lb.Del(l.Name)
		}
	})
	if lb.Get(model.InstanceLabel) == "" {
		lb.Set(model.InstanceLabel, addr)
	}
	lset := lb.Labels()
	err = lset.Validate(func(l labels.Label) error {
		if !model.LabelValue(l.Value).IsValid() {
			return fmt.Errorf("invalid label value for %q: %q", l.Name, l.Value)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return newTarget(lset, discovered, cfg.Params, interval, timeout), nil
}

func durationLabel(lb *labels.Builder, name string) (time.Duration, error) {
	v := lb.Get(name)
	d, err := model.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("parsing %s %q: %w", name, v, err)
	}
	if d == 0 {
		return 0, fmt.Errorf("%s cannot be 0", name)
	}
	return time.Duration(d), nil
}
