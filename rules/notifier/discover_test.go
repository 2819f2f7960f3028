package notifier

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/argusmon/argus/config"
	"github.com/argusmon/argus/scrape/discovery"
)

// fastDiscovery makes file_sd notice changes within milliseconds.
var fastDiscovery = Options{
	RetryInterval:     50 * time.Millisecond,
	Discovery:         discovery.ProviderOptions{FilePollInterval: 10 * time.Millisecond},
	DiscoveryDebounce: 10 * time.Millisecond,
}

// writeTargets writes a file_sd JSON file of groups, each a list of
// addresses plus labels.
func writeTargets(t *testing.T, file string, groups ...string) {
	t.Helper()
	body := "[" + strings.Join(groups, ",") + "]"
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	// Rename so the poller never reads a half-written file.
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
}

func group(labels string, hosts ...string) string {
	targets := make([]string, 0, len(hosts))
	for _, h := range hosts {
		targets = append(targets, fmt.Sprintf("%q", h))
	}
	return fmt.Sprintf(`{"targets": [%s], "labels": {%s}}`, strings.Join(targets, ","), labels)
}

func fileSDSet(file string) *config.AlertmanagerConfig {
	return &config.AlertmanagerConfig{
		APIVersion:    "v2",
		Timeout:       model.Duration(2 * time.Second),
		FileSDConfigs: []*config.FileSDConfig{{Files: []string{file}, RefreshInterval: model.Duration(50 * time.Millisecond)}},
	}
}

func pushURL(r *receiver) string { return "http://" + r.host() + "/api/v2/alerts" }

func waitForAlertmanagers(t *testing.T, m *Manager, want ...string) {
	t.Helper()
	slices.Sort(want)
	eventually(t, fmt.Sprintf("Alertmanagers %v", want), func() bool {
		return slices.Equal(urlStrings(m.Alertmanagers()), want)
	})
}

func TestFileSDAlertmanagersFollowTheFile(t *testing.T) {
	first, second := newReceiver(t), newReceiver(t)
	file := filepath.Join(t.TempDir(), "am.json")
	writeTargets(t, file, group("", first.host()))

	m := startManager(t, fastDiscovery, configWith(fileSDSet(file)))
	waitForAlertmanagers(t, m, pushURL(first))
	m.Send(firing("One"))
	eventually(t, "first receiver gets the alert", func() bool { return len(first.alerts()) == 1 })

	writeTargets(t, file, group("", second.host()))
	waitForAlertmanagers(t, m, pushURL(second))
	m.Send(firing("Two"))
	eventually(t, "second receiver gets the alert", func() bool { return len(second.alerts()) == 1 })
	if got := second.alerts()[0].Labels["alertname"]; got != "Two" {
		t.Errorf("second receiver got %q, want Two", got)
	}
	// Give a misdirected send a moment to show up.
	time.Sleep(50 * time.Millisecond)
	if n := len(first.alerts()); n != 1 {
		t.Errorf("first receiver got %d alerts after it left the file, want 1", n)
	}

	writeTargets(t, file)
	waitForAlertmanagers(t, m)
}

func TestDiscoveredTargetsAreRelabelled(t *testing.T) {
	keep, drop := newReceiver(t), newReceiver(t)
	tests := []struct {
		name        string
		relabel     string
		groups      []string
		wantActive  []string
		wantDropped []string
	}{
		{
			name:        "group labels drive relabel_configs",
			relabel:     "- source_labels: [dc]\n  regex: a\n  action: keep\n",
			groups:      []string{group(`"dc": "a"`, keep.host()), group(`"dc": "b"`, drop.host())},
			wantActive:  []string{pushURL(keep)},
			wantDropped: []string{pushURL(drop)},
		},
		{
			name:       "group labels may set the push path",
			groups:     []string{group(`"__alerts_path__": "/am/api/v2/alerts"`, keep.host())},
			wantActive: []string{"http://" + keep.host() + "/am/api/v2/alerts"},
		},
		{
			name:       "file path meta label is visible to relabelling",
			relabel:    "- source_labels: [__meta_filepath]\n  regex: .*am.json\n  action: keep\n",
			groups:     []string{group("", keep.host())},
			wantActive: []string{pushURL(keep)},
		},
		{
			name:       "targets relabelled to one URL are one Alertmanager",
			relabel:    fmt.Sprintf("- target_label: __address__\n  replacement: %q\n", keep.host()),
			groups:     []string{group("", keep.host(), drop.host())},
			wantActive: []string{pushURL(keep)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "am.json")
			writeTargets(t, file, tc.groups...)
			set := fileSDSet(file)
			if tc.relabel != "" {
				set.RelabelConfigs = mustRelabel(t, tc.relabel)
			}
			m := startManager(t, fastDiscovery, configWith(set))
			waitForAlertmanagers(t, m, tc.wantActive...)
			if got := urlStrings(m.DroppedAlertmanagers()); !slices.Equal(got, tc.wantDropped) {
				t.Errorf("dropped = %v, want %v", got, tc.wantDropped)
			}
		})
	}
}

func TestApplyConfigKeepsDiscoveredAlertmanagers(t *testing.T) {
	r := newReceiver(t)
	file := filepath.Join(t.TempDir(), "am.json")
	writeTargets(t, file, group(`"dc": "a"`, r.host()))
	m := startManager(t, fastDiscovery, configWith(fileSDSet(file)))
	waitForAlertmanagers(t, m, pushURL(r))

	// Same discovery, new relabel_configs: applied at once to what was
	// discovered, without waiting for the file to change.
	set := fileSDSet(file)
	set.RelabelConfigs = mustRelabel(t, "- source_labels: [dc]\n  regex: a\n  action: drop\n")
	if err := m.ApplyConfig(configWith(set)); err != nil {
		t.Fatal(err)
	}
	if got := urlStrings(m.DroppedAlertmanagers()); !slices.Equal(got, []string{pushURL(r)}) {
		t.Errorf("dropped right after reload = %v, want %v", got, []string{pushURL(r)})
	}

	// Discovery replaced by static_configs: the file no longer matters.
	if err := m.ApplyConfig(configWith(amConfig(r))); err != nil {
		t.Fatal(err)
	}
	writeTargets(t, file, group("", "elsewhere.example:9093"))
	time.Sleep(100 * time.Millisecond)
	waitForAlertmanagers(t, m, pushURL(r))
}

func TestBadDiscoveryConfigIsRefused(t *testing.T) {
	m := New(Options{})
	set := &config.AlertmanagerConfig{APIVersion: "v2", FileSDConfigs: []*config.FileSDConfig{nil}}
	if err := m.ApplyConfig(configWith(set)); err == nil {
		t.Fatal("ApplyConfig accepted an empty file_sd_configs entry")
	}
}
