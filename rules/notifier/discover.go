package notifier

import "github.com/argusmon/argus/scrape/discovery"

// applyDiscovery hands the discovery manager the discovery configs of the
// current sets, one job per set. Sets with only static_configs are left
// out: their Alertmanagers are known from the config alone. The caller
// holds m.mu, which serialises this with takeDiscovered so that groups of
// a replaced config never reach the set that replaced it.
func (m *Manager) applyDiscovery() {
	jobs := map[string]discovery.Config{}
	for _, s := range m.sets {
		if s.discovers() {
			jobs[s.name] = s.discoveryConfig()
		}
	}
	// Sets were checked by newAMSet, so an error here is unexpected; the
	// sets concerned keep their previous (or static) Alertmanagers.
	if err := m.disc.ApplyConfig(jobs); err != nil {
		m.logger.Error("starting Alertmanager discovery failed", "err", err)
	}
}

// takeDiscovered rebuilds the Alertmanagers of the sets whose discovered
// groups changed.
func (m *Manager) takeDiscovered() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.disc == nil {
		return
	}
	batch := m.disc.Take()
	for _, s := range m.sets {
		if groups, ok := batch[s.name]; ok {
			s.setGroups(groups)
			s.logger.Debug("discovered Alertmanagers changed", "count", len(s.active()))
		}
	}
}
