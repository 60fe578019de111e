package dialplan

import (
	"strings"
	"testing"
	"time"

	"github.com/centralino/centralino/config"
)

// An 08:30 rule and 08:30 opening on the days the clocks change in Rome:
// the instants are given in UTC to show the offset moving under them.
func TestDSTDays(t *testing.T) {
	tn := office()
	tn.Hours.Sun = []string{"08:30-12:00"}
	tn.Rules = []config.Rule{{Name: "early", When: config.Conditions{Time: "08:30-09:00"},
		Do: []config.Action{{Ring: &config.RingAction{People: []string{"rossi"}}}, {Hangup: &config.HangupAction{}}}}}
	p := compileT(t, tn)
	tests := []struct {
		utc       string
		wantLocal string
		wantRule  string
		inHours   bool
	}{
		{"2026-03-28T07:30:00Z", "Sat 08:30 CET", "early", false},
		{"2026-03-28T06:30:00Z", "Sat 07:30 CET", RuleDefault, false},
		{"2026-03-29T06:30:00Z", "Sun 08:30 CEST", "early", true}, // last Sunday of March
		{"2026-03-29T06:29:00Z", "Sun 08:29 CEST", RuleDefault, false},
		{"2026-03-29T07:00:00Z", "Sun 09:00 CEST", RuleDefault, true},
		{"2026-10-24T06:30:00Z", "Sat 08:30 CEST", "early", false},
		{"2026-10-25T07:30:00Z", "Sun 08:30 CET", "early", true}, // last Sunday of October
		{"2026-10-25T06:30:00Z", "Sun 07:30 CET", RuleDefault, false},
		{"2025-03-30T06:30:00Z", "Sun 08:30 CEST", "early", true},
		{"2025-10-26T07:30:00Z", "Sun 08:30 CET", "early", true},
		{"2025-10-26T07:29:00Z", "Sun 08:29 CET", RuleDefault, false},
	}
	for _, tt := range tests {
		now, err := time.Parse(time.RFC3339, tt.utc)
		if err != nil {
			t.Fatal(err)
		}
		d := p.Decide(Call{Caller: "+390298765432"}, State{}, now)
		if got := d.Day.Local.Format("Mon 15:04 MST"); got != tt.wantLocal {
			t.Errorf("%s: local %q, want %q", tt.utc, got, tt.wantLocal)
		}
		if d.Rule != tt.wantRule || d.Day.InHours != tt.inHours {
			t.Errorf("%s: rule %q in hours %v, want %q %v", tt.utc, d.Rule, d.Day.InHours, tt.wantRule, tt.inHours)
		}
	}
}

func TestHoursAcrossMidnight(t *testing.T) {
	p := compileT(t, office()) // Fri 09:00-13:00 and 22:00-06:00
	tests := []struct {
		now           string
		inHours, open bool
	}{
		{"2026-04-10 09:00", true, true},
		{"2026-04-10 13:30", false, false},
		{"2026-04-10 21:59", false, false},
		{"2026-04-10 22:00", true, true},
		{"2026-04-10 23:59", true, true},
		{"2026-04-11 00:00", true, true}, // Saturday, but the range started on Friday
		{"2026-04-11 03:00", true, true},
		{"2026-04-11 05:59", true, true},
		{"2026-04-11 06:00", false, false},
		{"2026-04-11 10:00", false, false},
		{"2026-04-09 03:00", false, false}, // Wednesday's ranges do not cross
		// The night of Friday 24 April runs into Liberation Day: in hours,
		// but the holiday is that of the calendar date.
		{"2026-04-25 03:00", true, false},
	}
	for _, tt := range tests {
		day := p.DayInfo(at(t, tt.now))
		if day.InHours != tt.inHours || day.Open != tt.open {
			t.Errorf("%s: in hours %v open %v, want %v %v", tt.now, day.InHours, day.Open, tt.inHours, tt.open)
		}
	}

	// Sunday night into Monday wraps the week; 00:00-00:00 is all day.
	tn := office()
	tn.Hours = config.Hours{Sun: []string{"23:00-01:00"}, Wed: []string{"00:00-00:00"}}
	p = compileT(t, tn)
	for _, tt := range []struct {
		now     string
		inHours bool
	}{
		{"2026-04-12 23:30", true},
		{"2026-04-13 00:30", true},
		{"2026-04-13 01:00", false},
		{"2026-04-08 00:00", true},
		{"2026-04-08 23:59", true},
		{"2026-04-09 00:00", false}, // Wednesday's all-day range ends at midnight
	} {
		if got := p.DayInfo(at(t, tt.now)).InHours; got != tt.inHours {
			t.Errorf("%s: in hours %v, want %v", tt.now, got, tt.inHours)
		}
	}
}

func TestTimeConditionAcrossMidnight(t *testing.T) {
	tn := office()
	tn.Rules = []config.Rule{{Name: "night", When: config.Conditions{Time: "22:00-06:00"},
		Do: []config.Action{{Voicemail: &config.VoicemailAction{}}}}}
	p := compileT(t, tn)
	for _, tt := range []struct {
		now  string
		want string
	}{
		{"2026-04-08 22:00", "night"},
		{"2026-04-09 03:00", "night"}, // any day: a time condition is the time of day only
		{"2026-04-09 05:59", "night"},
		{"2026-04-09 06:00", RuleDefault},
		{"2026-04-09 21:59", RuleDefault},
	} {
		if got := p.Decide(Call{Caller: "+390298765432"}, State{}, at(t, tt.now)).Rule; got != tt.want {
			t.Errorf("%s: rule %q, want %q", tt.now, got, tt.want)
		}
	}
}

func TestHolidaysOfTenant(t *testing.T) {
	tn := office()
	tn.Holidays = config.Holidays{
		Patron: config.Holiday{Date: "06-29", Name: "Santi Pietro e Paolo (Saints Peter and Paul)"},
		Extra: []config.Holiday{
			{Date: "2026-12-24", Name: "Vigilia di Natale (Christmas Eve)"},
			{Date: "08-14"},
		},
	}
	p := compileT(t, tn)
	off := office()
	off.Holidays.National = ptr(false)
	noNational := compileT(t, off)
	tests := []struct {
		plan *Plan
		now  string
		want string
	}{
		{p, "2026-06-29 10:00", "Santi Pietro e Paolo (Saints Peter and Paul)"},
		{p, "2027-06-29 10:00", "Santi Pietro e Paolo (Saints Peter and Paul)"},
		{p, "2026-12-24 10:00", "Vigilia di Natale (Christmas Eve)"},
		{p, "2027-12-24 10:00", ""}, // a dated extra happens once
		{p, "2027-08-13 10:00", ""},
		{p, "2027-08-13 23:59", ""},
		{p, "2027-08-14 00:00", "Festività (holiday)"},
		{p, "2026-04-06 10:00", "Lunedì dell'Angelo (Easter Monday)"},
		{noNational, "2026-04-06 10:00", ""},
		{noNational, "2026-12-25 10:00", ""},
	}
	for _, tt := range tests {
		if got := tt.plan.DayInfo(at(t, tt.now)).Holiday; got != tt.want {
			t.Errorf("%s: holiday %q, want %q", tt.now, got, tt.want)
		}
	}
}

func TestClosures(t *testing.T) {
	p := compileT(t, office()) // Ferie 2026-08-10..21; Malattia 2026-11-13 only
	for _, tt := range []struct {
		now  string
		want string
	}{
		{"2026-08-09 23:59", ""},
		{"2026-08-10 00:00", "Ferie"},
		{"2026-08-12 10:00", "Ferie"},
		{"2026-08-21 23:59", "Ferie"},
		{"2026-08-22 00:00", ""},
		{"2026-11-13 10:00", "Malattia"}, // To left out: one day
		{"2026-11-16 10:00", ""},
	} {
		day := p.DayInfo(at(t, tt.now))
		got := ""
		if day.Closure != nil {
			got = day.Closure.Name
		}
		if got != tt.want || got != "" && day.Open {
			t.Errorf("%s: closure %q open %v, want %q and closed", tt.now, got, day.Open, tt.want)
		}
	}
}

func TestTenantTimeZone(t *testing.T) {
	tn := office()
	tn.TimeZone = "America/New_York"
	p := compileT(t, tn)
	// 15:30 in Rome is 09:30 in New York: open there.
	day := p.DayInfo(at(t, "2026-04-08 15:30"))
	if got := day.Local.Format("15:04"); got != "09:30" || !day.Open {
		t.Errorf("New York tenant at 15:30 Rome: local %s open %v, want 09:30 open", got, day.Open)
	}
	tn.Location = time.UTC // what loading filled wins over the name
	if got := compileT(t, tn).DayInfo(at(t, "2026-04-08 15:30")).Local.Format("15:04"); got != "13:30" {
		t.Errorf("Location UTC: local %s, want 13:30", got)
	}
}

func TestOpenDetail(t *testing.T) {
	p := compileT(t, office())
	for _, tt := range []struct{ now, want string }{
		{"2026-04-08 10:00", "✓ open: open — within Wed 09:00-13:00"},
		{"2026-04-11 03:00", "✓ open: open — within Fri 22:00-06:00"},
		{"2026-04-08 13:30", "✗ open: closed — outside opening hours (Wed 09:00-13:00, 14:00-18:00)"},
		{"2026-04-12 10:00", "✗ open: closed — no opening hours on Sunday"},
		{"2026-04-06 10:00", "✗ open: closed — Lunedì dell'Angelo (Easter Monday)"},
		{"2026-08-12 10:00", "✗ open: closed — Ferie (2026-08-10 to 2026-08-21)"},
	} {
		tr := traceText(p.Decide(Call{Caller: "+390298765432"}, State{}, at(t, tt.now)).Trace)
		if !strings.Contains(tr, tt.want+"\n") {
			t.Errorf("%s: trace lacks %q:\n%s", tt.now, tt.want, tr)
		}
	}
}
