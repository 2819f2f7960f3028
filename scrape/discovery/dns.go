package discovery

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/argusmon/argus/config"
)

// The meta labels dns_sd attaches, as in Prometheus.
const (
	dnsNameLabel      = model.MetaLabelPrefix + "dns_name"
	dnsSRVTargetLabel = model.MetaLabelPrefix + "dns_srv_record_target"
	dnsSRVPortLabel   = model.MetaLabelPrefix + "dns_srv_record_port"
	dnsMXTargetLabel  = model.MetaLabelPrefix + "dns_mx_record_target"
	dnsNSTargetLabel  = model.MetaLabelPrefix + "dns_ns_record_target"
)

// Resolver is the part of *net.Resolver dns_sd uses; tests pass a fake.
type Resolver interface {
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupNS(ctx context.Context, name string) ([]*net.NS, error)
}

// DNSOptions configure a DNS provider.
type DNSOptions struct {
	// Logger receives lookup failures; nil discards them.
	Logger *slog.Logger
	// Resolver answers the lookups; nil means net.DefaultResolver.
	Resolver Resolver
	// Failures counts failed lookups.
	Failures prometheus.Counter
}

// DNS provides one group per configured name (its Source), looked up every
// refresh_interval. A name whose lookup fails keeps its previous targets.
type DNS struct {
	names    []string
	qtype    string
	port     int
	refresh  time.Duration
	resolver Resolver
	logger   *slog.Logger
	failures prometheus.Counter
}

// NewDNS returns a provider for one dns_sd_configs entry.
func NewDNS(cfg *config.DNSSDConfig, o DNSOptions) (*DNS, error) {
	qtype := strings.ToUpper(cfg.Type)
	if qtype == "" {
		qtype = "SRV"
	}
	switch qtype {
	case "SRV", "A", "AAAA", "MX", "NS":
	default:
		return nil, fmt.Errorf("unsupported DNS record type %q", cfg.Type)
	}
	if qtype != "SRV" && (cfg.Port <= 0 || cfg.Port > 65535) {
		return nil, fmt.Errorf("record type %s needs a port between 1 and 65535, got %d", qtype, cfg.Port)
	}
	refresh := time.Duration(cfg.RefreshInterval)
	if refresh <= 0 {
		refresh = time.Duration(config.DefaultDNSSDRefreshInterval)
	}
	var r Resolver = net.DefaultResolver
	if o.Resolver != nil {
		r = o.Resolver
	}
	return &DNS{
		names:    append([]string(nil), cfg.Names...),
		qtype:    qtype,
		port:     cfg.Port,
		refresh:  refresh,
		resolver: r,
		logger:   loggerOrDiscard(o.Logger),
		failures: counterOrNew(o.Failures),
	}, nil
}

// Run looks the names up now and every refresh interval.
func (d *DNS) Run(ctx context.Context, up chan<- []*Group) {
	t := time.NewTicker(d.refresh)
	defer t.Stop()
	first := true
	for {
		groups := d.refreshAll(ctx)
		if ctx.Err() != nil {
			return
		}
		// The first batch goes out even if empty: it tells the manager
		// the provider has had its say.
		if (first || len(groups) > 0) && !send(ctx, up, groups) {
			return
		}
		first = false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (d *DNS) refreshAll(ctx context.Context) []*Group {
	groups := make([]*Group, 0, len(d.names))
	for _, name := range d.names {
		lctx, cancel := context.WithTimeout(ctx, d.refresh)
		targets, err := d.lookup(lctx, name)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			d.failures.Inc()
			d.logger.Error("DNS lookup failed, keeping the previous targets", "name", name, "type", d.qtype, "err", err)
			continue
		}
		groups = append(groups, &Group{Source: name, Targets: targets})
	}
	return groups
}

// lookup resolves one name into targets.
func (d *DNS) lookup(ctx context.Context, name string) ([]model.LabelSet, error) {
	target := func(host string, port int, extra model.LabelSet) model.LabelSet {
		ls := model.LabelSet{
			model.AddressLabel: model.LabelValue(net.JoinHostPort(host, strconv.Itoa(port))),
			dnsNameLabel:       model.LabelValue(name),
		}
		for k, v := range extra {
			ls[k] = v
		}
		return ls
	}
	var out []model.LabelSet
	switch d.qtype {
	case "SRV":
		_, srvs, err := d.resolver.LookupSRV(ctx, "", "", name)
		if err != nil {
			return nil, err
		}
		for _, s := range srvs {
			out = append(out, target(strings.TrimRight(s.Target, "."), int(s.Port), model.LabelSet{
				dnsSRVTargetLabel: model.LabelValue(s.Target),
				dnsSRVPortLabel:   model.LabelValue(strconv.Itoa(int(s.Port))),
			}))
		}
	case "A", "AAAA":
		network := "ip4"
		if d.qtype == "AAAA" {
			network = "ip6"
		}
		addrs, err := d.resolver.LookupNetIP(ctx, network, name)
		if err != nil {
			return nil, err
		}
		for _, a := range addrs {
			out = append(out, target(a.Unmap().String(), d.port, nil))
		}
	case "MX":
		mxs, err := d.resolver.LookupMX(ctx, name)
		if err != nil {
			return nil, err
		}
		for _, mx := range mxs {
			out = append(out, target(strings.TrimRight(mx.Host, "."), d.port, model.LabelSet{dnsMXTargetLabel: model.LabelValue(mx.Host)}))
		}
	case "NS":
		nss, err := d.resolver.LookupNS(ctx, name)
		if err != nil {
			return nil, err
		}
		for _, ns := range nss {
			out = append(out, target(strings.TrimRight(ns.Host, "."), d.port, model.LabelSet{dnsNSTargetLabel: model.LabelValue(ns.Host)}))
		}
	}
	return out, nil
}
