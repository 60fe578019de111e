package pbx

import (
	"github.com/centralino/centralino/config"
)

// Reload re-reads the configuration files now (SIGHUP). Without a
// config.Live (a configuration given in memory) there is nothing to read.
func (s *Server) Reload() config.ReloadReport {
	if s.live == nil {
		return config.ReloadReport{}
	}
	rep := s.live.Reload()
	s.applyReload(rep)
	return rep
}

// applyReload puts the configuration now in force into effect for new
// calls and reports what was rejected. Calls in progress keep theirs.
func (s *Server) applyReload(rep config.ReloadReport) {
	for _, f := range rep.Errors {
		s.metrics.reloadErrors.Inc()
		s.log.Error("configuration file rejected; its last good version stays in force", "file", f.File, "error", f.Err)
	}
	for _, r := range rep.Restart {
		s.log.Warn("configuration change needs a restart; the running value stays", "setting", r)
	}
	cfg := s.live.Current()
	if cfg == s.config() {
		return
	}
	if err := s.setConfig(cfg); err != nil {
		s.metrics.reloadErrors.Inc()
		s.log.Error("reloaded configuration cannot be compiled; keeping the previous one", "error", err)
		return
	}
	s.metrics.reloads.Inc()
	s.log.Info("configuration reloaded", "loaded", rep.Loaded, "removed", rep.Removed, "tenants", len(cfg.Tenants))
	for _, kick := range []chan struct{}{s.calendarKick, s.ttsKick} {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	// Operators may serve other tenants now: offer the waiting calls again.
	s.desk.poke()
}
