package pbx

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/centralino/centralino/config"
	"github.com/centralino/centralino/dialplan"
	"github.com/centralino/centralino/dialplan/calendar"
)

const (
	// calendarRefresh is how often calendars are read again: a meeting
	// added five minutes ago is seen.
	calendarRefresh = 5 * time.Minute
	// calendarWindow is how far ahead busy periods are expanded for calls;
	// it spans two refreshes with a wide margin.
	calendarWindow  = 48 * time.Hour
	calendarMaxSize = 16 << 20
)

// CalendarInfo is what the API says about a person's calendar.
type CalendarInfo struct {
	Tenant string    `json:"tenant"`
	Person string    `json:"person"`
	Source string    `json:"source"`
	Loaded time.Time `json:"loaded"`
	Busy   int       `json:"busy_periods"` // in the next 48 h
	Error  string    `json:"error"`
}

// calendarBoard reads the people's calendars (files or http(s) feeds) and
// keeps their busy periods ready for decisions.
type calendarBoard struct {
	log    *slog.Logger
	now    func() time.Time
	client *http.Client

	mu   sync.RWMutex
	cals map[string]map[string]*calendar.Calendar // tenant → person → parsed (kept for explain at any time)
	busy map[string]map[string][]dialplan.Busy    // tenant → person → busy in the window; replaced, never modified
	info map[string]CalendarInfo                  // tenant NUL person
}

func newCalendarBoard(log *slog.Logger, now func() time.Time) *calendarBoard {
	return &calendarBoard{
		log: log, now: now, client: &http.Client{Timeout: 15 * time.Second},
		cals: map[string]map[string]*calendar.Calendar{}, busy: map[string]map[string][]dialplan.Busy{}, info: map[string]CalendarInfo{},
	}
}

// forTenant returns the tenant's busy periods (read-only).
func (b *calendarBoard) forTenant(tenant string) map[string][]dialplan.Busy {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.busy[tenant]
}

// busyAround expands the tenant's calendars around t, for explaining a
// decision at any moment.
func (b *calendarBoard) busyAround(tenant string, t time.Time, loc *time.Location) map[string][]dialplan.Busy {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := map[string][]dialplan.Busy{}
	for person, cal := range b.cals[tenant] {
		out[person] = cal.Busy(t.Add(-24*time.Hour), t.Add(24*time.Hour), loc)
	}
	return out
}

func (b *calendarBoard) list() []CalendarInfo {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]CalendarInfo, 0, len(b.info))
	for _, i := range b.info {
		out = append(out, i)
	}
	return out
}

// run refreshes every calendar at start, every calendarRefresh, and when
// kick fires (a reload). It is owned by the server and ends with ctx.
func (b *calendarBoard) run(ctx context.Context, cfg func() *config.Config, kick <-chan struct{}) {
	t := time.NewTicker(calendarRefresh)
	defer t.Stop()
	for {
		b.refresh(ctx, cfg())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-kick:
		}
	}
}

// refresh loads every configured calendar; one that fails keeps its last
// good contents (a feed that is down must not make everyone available).
func (b *calendarBoard) refresh(ctx context.Context, cfg *config.Config) {
	now := b.now()
	cals := map[string]map[string]*calendar.Calendar{}
	busy := map[string]map[string][]dialplan.Busy{}
	info := map[string]CalendarInfo{}
	b.mu.RLock()
	old, oldInfo := b.cals, b.info
	b.mu.RUnlock()
	for i := range cfg.Tenants {
		t := &cfg.Tenants[i]
		for _, p := range t.People {
			if p.Calendar == "" {
				continue
			}
			key := t.ID + "\x00" + p.ID
			src := calendarSource(cfg, t, p.Calendar)
			in := CalendarInfo{Tenant: t.ID, Person: p.ID, Source: redactURL(p.Calendar)}
			cal, err := b.load(ctx, src)
			if err != nil {
				in.Error = err.Error()
				b.log.Warn("calendar not loaded; keeping the last good one", "tenant", t.ID, "person", p.ID, "source", redactURL(p.Calendar), "error", err)
				cal = old[t.ID][p.ID]
				in.Loaded = oldInfo[key].Loaded
			} else {
				in.Loaded = now
			}
			if cal == nil {
				info[key] = in
				continue
			}
			if cals[t.ID] == nil {
				cals[t.ID], busy[t.ID] = map[string]*calendar.Calendar{}, map[string][]dialplan.Busy{}
			}
			cals[t.ID][p.ID] = cal
			busy[t.ID][p.ID] = cal.Busy(now.Add(-time.Hour), now.Add(calendarWindow), t.Location)
			in.Busy = len(busy[t.ID][p.ID])
			info[key] = in
		}
	}
	b.mu.Lock()
	b.cals, b.busy, b.info = cals, busy, info
	b.mu.Unlock()
}

// calendarSource resolves a relative calendar path against the tenant's
// file (or the main file for inline tenants).
func calendarSource(cfg *config.Config, t *config.Tenant, src string) string {
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") || filepath.IsAbs(src) {
		return src
	}
	base := t.File
	if base == "" {
		base = cfg.Source
	}
	if base == "" || base == config.DemoSource {
		return src
	}
	return filepath.Join(filepath.Dir(base), src)
}

func (b *calendarBoard) load(ctx context.Context, src string) (*calendar.Calendar, error) {
	var data []byte
	var err error
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		data, err = b.fetch(ctx, src)
	} else {
		data, err = readLimited(src)
	}
	if err != nil {
		return nil, err
	}
	return calendar.Parse(data)
}

func (b *calendarBoard) fetch(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/calendar")
	res, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", redactURL(url), res.Status)
	}
	return io.ReadAll(io.LimitReader(res.Body, calendarMaxSize))
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, calendarMaxSize))
}

// redactURL drops the query and user info: calendar feed URLs often carry
// a secret token.
func redactURL(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		u = u[:i]
	}
	if i := strings.Index(u, "@"); i >= 0 {
		if j := strings.Index(u, "://"); j >= 0 && j < i {
			u = u[:j+3] + "…" + u[i:]
		}
	}
	return u
}
