package dialplan

import (
	"testing"
	"time"

	"github.com/centralino/centralino/config"
)

func TestEffectiveStatus(t *testing.T) {
	p := compileT(t, office())
	day := func(hhmm string) time.Time { return at(t, "2026-04-08 "+hhmm) }
	hearing := []Busy{
		{Start: day("07:00"), End: day("08:00"), Summary: "Colazione"},
		{Start: day("09:00"), End: day("13:00"), Summary: "Udienza"},
		{Start: day("16:00"), End: day("17:00")},
	}
	tests := []struct {
		name      string
		st        State
		now       string
		wantState string
		wantWhy   string
	}{
		{name: "nothing set", now: "10:00", wantState: config.StatusAvailable, wantWhy: "default"},
		{name: "manual without expiry",
			st:  State{Statuses: map[string]Status{"rossi": {State: config.StatusDND}}},
			now: "10:00", wantState: config.StatusDND, wantWhy: "manual"},
		{name: "manual until, before it",
			st:  State{Statuses: map[string]Status{"rossi": {State: config.StatusMeeting, Until: day("15:00"), Note: "in riunione fino alle 15"}}},
			now: "14:59", wantState: config.StatusMeeting, wantWhy: "manual until 15:00 (in riunione fino alle 15)"},
		{name: "manual until expires and reverts",
			st:  State{Statuses: map[string]Status{"rossi": {State: config.StatusMeeting, Until: day("15:00")}}},
			now: "15:00", wantState: config.StatusAvailable, wantWhy: "default"},
		{name: "manual until another day shows the date",
			st:  State{Statuses: map[string]Status{"rossi": {State: config.StatusAway, Until: at(t, "2026-04-09 09:00")}}},
			now: "18:00", wantState: config.StatusAway, wantWhy: "manual until 2026-04-09 09:00"},
		{name: "calendar busy makes meeting",
			st:  State{Busy: map[string][]Busy{"rossi": hearing}},
			now: "10:30", wantState: config.StatusMeeting, wantWhy: "calendar: Udienza 09:00-13:00"},
		{name: "calendar start is inclusive",
			st:  State{Busy: map[string][]Busy{"rossi": hearing}},
			now: "09:00", wantState: config.StatusMeeting, wantWhy: "calendar: Udienza 09:00-13:00"},
		{name: "calendar end is exclusive",
			st:  State{Busy: map[string][]Busy{"rossi": hearing}},
			now: "13:00", wantState: config.StatusAvailable, wantWhy: "default"},
		{name: "calendar event without summary",
			st:  State{Busy: map[string][]Busy{"rossi": hearing}},
			now: "16:30", wantState: config.StatusMeeting, wantWhy: "calendar: busy 16:00-17:00"},
		{name: "calendar of someone else",
			st:  State{Busy: map[string][]Busy{"bianchi": hearing}},
			now: "10:30", wantState: config.StatusAvailable, wantWhy: "default"},
		{name: "manual available until overrides the calendar",
			st: State{Statuses: map[string]Status{"rossi": {State: config.StatusAvailable, Until: day("18:00")}},
				Busy: map[string][]Busy{"rossi": hearing}},
			now: "10:30", wantState: config.StatusAvailable, wantWhy: "manual until 18:00"},
		{name: "manual available without until does not override",
			st: State{Statuses: map[string]Status{"rossi": {State: config.StatusAvailable}},
				Busy: map[string][]Busy{"rossi": hearing}},
			now: "10:30", wantState: config.StatusMeeting, wantWhy: "calendar: Udienza 09:00-13:00"},
		{name: "expired available override gives way to the calendar",
			st: State{Statuses: map[string]Status{"rossi": {State: config.StatusAvailable, Until: day("10:00")}},
				Busy: map[string][]Busy{"rossi": hearing}},
			now: "10:30", wantState: config.StatusMeeting, wantWhy: "calendar: Udienza 09:00-13:00"},
		{name: "manual dnd beats the calendar",
			st: State{Statuses: map[string]Status{"rossi": {State: config.StatusDND}},
				Busy: map[string][]Busy{"rossi": hearing}},
			now: "10:30", wantState: config.StatusDND, wantWhy: "manual"},
		{name: "expired manual falls back to the calendar",
			st: State{Statuses: map[string]Status{"rossi": {State: config.StatusAway, Until: day("10:00")}},
				Busy: map[string][]Busy{"rossi": hearing}},
			now: "10:30", wantState: config.StatusMeeting, wantWhy: "calendar: Udienza 09:00-13:00"},
		{name: "a long period started earlier still counts",
			st: State{Busy: map[string][]Busy{"rossi": {
				{Start: at(t, "2026-04-07 00:00"), End: at(t, "2026-04-10 00:00"), Summary: "Convegno"},
				{Start: day("09:00"), End: day("09:30"), Summary: "Telefonata"},
			}}},
			now: "10:30", wantState: config.StatusMeeting, wantWhy: "calendar: Convegno 2026-04-07 00:00-2026-04-10 00:00"},
	}
	for _, tt := range tests {
		state, why := p.EffectiveStatus("rossi", tt.st, day(tt.now))
		if state != tt.wantState || why != tt.wantWhy {
			t.Errorf("%s: EffectiveStatus = %q, %q; want %q, %q", tt.name, state, why, tt.wantState, tt.wantWhy)
		}
	}

	if state, _ := p.EffectiveStatus("verdi", State{}, day("10:00")); state != "" {
		t.Errorf("unknown person: state %q, want \"\"", state)
	}
}

func TestBusyAt(t *testing.T) {
	base := time.Date(2026, 4, 8, 0, 0, 0, 0, time.UTC)
	h := func(n int) time.Time { return base.Add(time.Duration(n) * time.Hour) }
	periods := []Busy{{Start: h(1), End: h(2)}, {Start: h(3), End: h(10)}, {Start: h(4), End: h(5)}, {Start: h(6), End: h(7)}}
	for _, tt := range []struct {
		hour      int
		wantStart int // -1: free
	}{
		{0, -1}, {1, 1}, {2, -1}, {3, 3}, {4, 4}, {5, 3}, {6, 6}, {8, 3}, {10, -1}, {11, -1},
	} {
		b, ok := busyAt(periods, h(tt.hour))
		got := -1
		if ok {
			got = int(b.Start.Sub(base).Hours())
		}
		if got != tt.wantStart {
			t.Errorf("busyAt(%d:00) starts at %d, want %d", tt.hour, got, tt.wantStart)
		}
	}
	if _, ok := busyAt(nil, base); ok {
		t.Error("busyAt(nil) found a period")
	}
}
