package discovery

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"testing"

	"github.com/prometheus/common/model"

	"github.com/argusmon/argus/config"
)

// fakeResolver answers from maps keyed by name; a missing name fails.
type fakeResolver struct {
	srv map[string][]*net.SRV
	ip  map[string][]netip.Addr
}

var errNoSuchHost = errors.New("no such host")

func (r fakeResolver) LookupSRV(_ context.Context, _, _, name string) (string, []*net.SRV, error) {
	if v, ok := r.srv[name]; ok {
		return name, v, nil
	}
	return "", nil, errNoSuchHost
}

func (r fakeResolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	v, ok := r.ip[network+"/"+host]
	if !ok {
		return nil, errNoSuchHost
	}
	return v, nil
}

func (fakeResolver) LookupMX(context.Context, string) ([]*net.MX, error) { return nil, errNoSuchHost }
func (fakeResolver) LookupNS(context.Context, string) ([]*net.NS, error) { return nil, errNoSuchHost }

func TestDNSProvider(t *testing.T) {
	res := fakeResolver{
		srv: map[string][]*net.SRV{"_m._tcp.example.org": {{Target: "n1.example.org.", Port: 9100}, {Target: "n2.example.org.", Port: 9101}}},
		ip: map[string][]netip.Addr{
			"ip4/a.example.org": {netip.MustParseAddr("10.0.0.1")},
			"ip6/a.example.org": {netip.MustParseAddr("2001:db8::1")},
		},
	}
	cases := []struct {
		name      string
		cfg       config.DNSSDConfig
		want      map[string][]string
		wantMeta  map[string]string // labels of the first target
		wantError bool
	}{
		{name: "SRV", cfg: config.DNSSDConfig{Names: []string{"_m._tcp.example.org"}, Type: "SRV"},
			want:     map[string][]string{"_m._tcp.example.org": {"n1.example.org:9100", "n2.example.org:9101"}},
			wantMeta: map[string]string{dnsNameLabel: "_m._tcp.example.org", dnsSRVTargetLabel: "n1.example.org.", dnsSRVPortLabel: "9100"}},
		{name: "A with port", cfg: config.DNSSDConfig{Names: []string{"a.example.org"}, Type: "A", Port: 80},
			want:     map[string][]string{"a.example.org": {"10.0.0.1:80"}},
			wantMeta: map[string]string{dnsNameLabel: "a.example.org"}},
		{name: "AAAA with port", cfg: config.DNSSDConfig{Names: []string{"a.example.org"}, Type: "AAAA", Port: 80},
			want: map[string][]string{"a.example.org": {"[2001:db8::1]:80"}}},
		{name: "failing name keeps its targets: no group sent for it", cfg: config.DNSSDConfig{Names: []string{"a.example.org", "gone.example.org"}, Type: "A", Port: 80},
			want: map[string][]string{"a.example.org": {"10.0.0.1:80"}}},
		{name: "A needs a port", cfg: config.DNSSDConfig{Names: []string{"a.example.org"}, Type: "A"}, wantError: true},
	}
	for _, tc := range cases {
		d, err := NewDNS(&tc.cfg, DNSOptions{Resolver: res})
		if tc.wantError {
			if err == nil {
				t.Fatalf("%s: no error", tc.name)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		groups := d.refreshAll(context.Background())
		if diff := compareSummary(summary(groups), tc.want); diff != "" {
			t.Fatalf("%s: %s", tc.name, diff)
		}
		for k, v := range tc.wantMeta {
			if got := string(groups[0].Targets[0][model.LabelName(k)]); got != v {
				t.Fatalf("%s: %s = %q, want %q", tc.name, k, got, v)
			}
		}
	}
}
