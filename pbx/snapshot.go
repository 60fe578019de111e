package pbx

import (
	"fmt"

	"github.com/centralino/centralino/config"
	"github.com/centralino/centralino/dialplan"
)

// snapshot is a configuration in force with its tenants' compiled plans.
// It is immutable: a reload builds a new one, and a call keeps the one it
// started with.
type snapshot struct {
	cfg   *config.Config
	plans map[string]*dialplan.Plan // by tenant id
}

func compileSnapshot(cfg *config.Config) (*snapshot, error) {
	snap := &snapshot{cfg: cfg, plans: make(map[string]*dialplan.Plan, len(cfg.Tenants))}
	d := dialplan.Defaults{RingTimeout: cfg.SIP.RingTimeout}
	for i := range cfg.Tenants {
		t := &cfg.Tenants[i]
		p, err := dialplan.Compile(t, d)
		if err != nil {
			return nil, fmt.Errorf("tenant %s: %w", t.ID, err)
		}
		snap.plans[t.ID] = p
	}
	return snap, nil
}

func (s *Server) config() *config.Config { return s.snap.Load().cfg }

// setConfig compiles cfg and puts it in force for new calls.
func (s *Server) setConfig(cfg *config.Config) error {
	snap, err := compileSnapshot(cfg)
	if err != nil {
		return err
	}
	s.snap.Store(snap)
	return nil
}

// state is the live state a decision for tenant reads.
func (s *Server) state(tenant string) dialplan.State {
	return dialplan.State{Statuses: s.statuses.forTenant(tenant), Busy: s.calendars.forTenant(tenant)}
}
