package pbx

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/centralino/centralino/config"
	"github.com/centralino/centralino/dialplan"
	"github.com/centralino/centralino/pbx/store"
)

// statusBoard holds the people's manual statuses: stored in bbolt, served
// to every call's decision from memory. A change takes effect on the next
// call; calls in progress keep the state they were decided with.
type statusBoard struct {
	store store.Store

	mu sync.RWMutex
	// byTenant is replaced, never modified, so a decision can keep reading
	// the map it got without a lock.
	byTenant map[string]map[string]dialplan.Status
	records  map[string]store.Status // tenant NUL person → full record (by, since)
}

func newStatusBoard(st store.Store) *statusBoard {
	return &statusBoard{store: st, byTenant: map[string]map[string]dialplan.Status{}, records: map[string]store.Status{}}
}

func (b *statusBoard) load() error {
	list, err := b.store.Statuses()
	if err != nil {
		return fmt.Errorf("load statuses: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, st := range list {
		b.putLocked(st)
	}
	return nil
}

// putLocked installs st, copying the tenant's map rather than changing it
// under a decision that may be reading it. b.mu must be held.
func (b *statusBoard) putLocked(st store.Status) {
	next := make(map[string]dialplan.Status, len(b.byTenant[st.Tenant])+1)
	for k, v := range b.byTenant[st.Tenant] {
		next[k] = v
	}
	next[st.Person] = dialplan.Status{State: st.State, Until: st.Until, Note: st.Note, Since: st.Since}
	b.byTenant[st.Tenant] = next
	b.records[st.Tenant+"\x00"+st.Person] = st
}

// forTenant returns the statuses of a tenant's people (read-only).
func (b *statusBoard) forTenant(tenant string) map[string]dialplan.Status {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.byTenant[tenant]
}

// set validates and stores a status change.
func (b *statusBoard) set(st store.Status) error {
	if err := b.store.SetStatus(st); err != nil {
		return err
	}
	b.mu.Lock()
	b.putLocked(st)
	b.mu.Unlock()
	return nil
}

func (b *statusBoard) record(tenant, person string) (store.Status, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	st, ok := b.records[tenant+"\x00"+person]
	return st, ok
}

var errUnknownPerson = errors.New("unknown person")

// validStates are the statuses a person can be given.
var validStates = []string{config.StatusAvailable, config.StatusMeeting, config.StatusAway, config.StatusDND}

// parseUntil reads an --until value in the tenant's zone: "15:00" (today;
// an error once it has passed), "2026-12-24 15:00", RFC 3339, or a
// duration from now ("90m", "2h").
func parseUntil(v string, loc *time.Location, now time.Time) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if loc == nil {
		loc = time.Local
	}
	local := now.In(loc)
	if d, err := time.ParseDuration(v); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("until %q: the duration must be positive", v)
		}
		return now.Add(d), nil
	}
	if t, err := time.ParseInLocation("15:04", v, loc); err == nil {
		at := time.Date(local.Year(), local.Month(), local.Day(), t.Hour(), t.Minute(), 0, 0, loc)
		if !at.After(now) {
			return time.Time{}, fmt.Errorf("until %s: that time has already passed today (write a date, \"2026-12-24 15:00\", or a duration, \"2h\")", v)
		}
		return at, nil
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("until %q: write a time today (\"15:00\"), a date and time (\"2026-12-24 15:00\") or a duration (\"2h\")", v)
}
