package calendar

import (
	"strings"
	"testing"
	"time"
)

func TestParseDateTime(t *testing.T) {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in       string
		dateOnly bool
		zone     *time.Location
		want     string // wall clock
		kind     kind
		err      string
	}{
		{in: "20250310T083000Z", want: "2025-03-10 08:30:00", kind: kindUTC},
		{in: "20250310T083000z", want: "2025-03-10 08:30:00", kind: kindUTC},
		{in: "20250310T083000Z", zone: rome, want: "2025-03-10 08:30:00", kind: kindUTC}, // Z wins over TZID
		{in: "20250310T083000", zone: rome, want: "2025-03-10 08:30:00", kind: kindZoned},
		{in: "20250310T083000", want: "2025-03-10 08:30:00", kind: kindFloating},
		{in: "20250310t083000", want: "2025-03-10 08:30:00", kind: kindFloating},
		{in: " 20250310T083000 ", want: "2025-03-10 08:30:00", kind: kindFloating},
		{in: "20250310", want: "2025-03-10 00:00:00", kind: kindDate},
		{in: "20250310", dateOnly: true, zone: rome, want: "2025-03-10 00:00:00", kind: kindDate},
		{in: "20240229", want: "2024-02-29 00:00:00", kind: kindDate},
		{in: "20250229", err: `invalid date "20250229"`},
		{in: "20250310T083000", dateOnly: true, err: `invalid date "20250310T083000"`},
		{in: "00000101", err: `invalid date "00000101"`},
		{in: "00000101T000000Z", err: `invalid date-time "00000101T000000Z"`},
		{in: "2025031", err: `invalid date-time "2025031"`},
		{in: "20250310T2400", err: `invalid date-time "20250310T2400"`},
		{in: "20250310T240000", err: `invalid date-time "20250310T240000"`},
		{in: "20250310X083000", err: `invalid date-time "20250310X083000"`},
		{in: "+0250310T083000", err: `invalid date-time "+0250310T083000"`},
		{in: "2025031OT083000", err: `invalid date-time "2025031OT083000"`},
		{in: "", err: `invalid date-time ""`},
	}
	for _, tt := range tests {
		got, err := parseDateTime(tt.in, tt.dateOnly, tt.zone)
		if tt.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
				t.Errorf("parseDateTime(%q) error = %v, want %q…", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseDateTime(%q): %v", tt.in, err)
			continue
		}
		if w := got.wall.Format(time.DateTime); w != tt.want || got.kind != tt.kind {
			t.Errorf("parseDateTime(%q) = %s kind %d, want %s kind %d", tt.in, w, got.kind, tt.want, tt.kind)
		}
		if (got.kind == kindZoned) != (got.zone != nil) {
			t.Errorf("parseDateTime(%q): kind %d with zone %v", tt.in, got.kind, got.zone)
		}
	}
}

func TestDateTimeIn(t *testing.T) {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	wall := time.Date(2025, 3, 30, 2, 30, 0, 0, time.UTC)
	tests := []struct {
		d    dateTime
		loc  *time.Location
		want string
	}{
		{dateTime{wall: wall, kind: kindUTC}, rome, "2025-03-30T02:30:00Z"},
		{dateTime{wall: wall, kind: kindZoned, zone: ny}, rome, "2025-03-30T02:30:00-04:00"},
		{dateTime{wall: wall, kind: kindFloating}, ny, "2025-03-30T02:30:00-04:00"},
		// In Rome's DST gap: the offset before the change, as RFC 5545 says.
		{dateTime{wall: wall, kind: kindFloating}, rome, "2025-03-30T03:30:00+02:00"},
		{dateTime{wall: wall.Truncate(24 * time.Hour), kind: kindDate}, rome, "2025-03-30T00:00:00+01:00"},
	}
	for _, tt := range tests {
		if got := tt.d.in(tt.loc).Format(time.RFC3339); got != tt.want {
			t.Errorf("%v (kind %d) in %s = %s, want %s", tt.d.wall, tt.d.kind, tt.loc, got, tt.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in    string
		days  int
		exact time.Duration
		err   string
	}{
		{in: "PT1H", exact: time.Hour},
		{in: "PT1H30M", exact: 90 * time.Minute},
		{in: "PT90M", exact: 90 * time.Minute},
		{in: "PT0S"},
		{in: "P1D", days: 1},
		{in: "P2W", days: 14},
		{in: "P1DT12H", days: 1, exact: 12 * time.Hour},
		{in: "P0DT0H10M0S", exact: 10 * time.Minute}, // Google's alarms
		{in: "-PT15M", exact: -15 * time.Minute},
		{in: "+P1D", days: 1},
		{in: "pt45m", exact: 45 * time.Minute},
		{in: "P1W2D", days: 9}, // not RFC 5545, but written by some
		{in: "P36600D", days: 36600},
		{in: "", err: `invalid duration ""`},
		{in: "P", err: `invalid duration "P"`},
		{in: "PT", err: `invalid duration "PT"`},
		{in: "1H", err: `invalid duration "1H"`},
		{in: "PT1", err: `invalid duration "PT1"`},
		{in: "P1H", err: `invalid duration "P1H"`},
		{in: "PT1D", err: `invalid duration "PT1D"`},
		{in: "PTT1H", err: `invalid duration "PTT1H"`},
		{in: "PT1H1H", err: `invalid duration "PT1H1H": unit H repeated`},
		{in: "P36601D", err: `invalid duration "P36601D": too long`},
		{in: "PT999999999H", err: `invalid duration "PT999999999H": too long`},
		{in: "PT1000000000H", err: `invalid duration "PT1000000000H"`},
		{in: "P-1D", err: `invalid duration "P-1D"`},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if tt.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
				t.Errorf("parseDuration(%q) error = %v, want %q…", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseDuration(%q): %v", tt.in, err)
			continue
		}
		if got.days != tt.days || got.exact != tt.exact {
			t.Errorf("parseDuration(%q) = %d days %v, want %d days %v", tt.in, got.days, got.exact, tt.days, tt.exact)
		}
	}
}

func TestUnescapeText(t *testing.T) {
	tests := []struct{ in, want string }{
		{`Pranzo\, cliente`, "Pranzo, cliente"},
		{`Pranzo, cliente`, "Pranzo, cliente"}, // unescaped comma kept: go-ical's Text would cut here
		{`a\;b\\c\nd\Ne`, "a;b\\c\nd\ne"},
		{`a\:b`, "a:b"},
		{`trailing\`, "trailing"},
		{``, ``},
	}
	for _, tt := range tests {
		if got := unescapeText(tt.in); got != tt.want {
			t.Errorf("unescapeText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzParseDateTime(f *testing.F) {
	for _, s := range []string{"20250310T083000Z", "20250310T083000", "20250310", "00000101", "99991231T235959Z", "2025031OT083000", ""} {
		f.Add(s, false)
	}
	f.Add("20250310", true)
	f.Fuzz(func(t *testing.T, s string, dateOnly bool) {
		d, err := parseDateTime(s, dateOnly, nil)
		if err != nil {
			return
		}
		// What parses is written back the same, but for case and spaces.
		layout := dateTimeLayout
		switch d.kind {
		case kindDate:
			layout = dateLayout
		case kindUTC:
			layout += "Z"
		}
		if got, want := d.wall.Format(layout), strings.ToUpper(strings.TrimSpace(s)); got != want {
			t.Errorf("parseDateTime(%q) = %s, written back as %q", s, d.wall, got)
		}
		if d.wall.Year() < 1 || d.wall.Year() > 9999 {
			t.Errorf("parseDateTime(%q): year %d", s, d.wall.Year())
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"PT1H30M", "P1D", "P2W", "-PT15M", "P1DT12H", "P0DT0H10M0S", "PT", "P36601D", "PT999999999H"} {
		f.Add(s)
	}
	at := time.Date(2025, 3, 30, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDuration(s)
		if err != nil {
			return
		}
		if abs(d.days) > maxDurationDays || abs(int(d.exact/time.Second)) > maxDurationExact {
			t.Fatalf("parseDuration(%q) = %d days %v: beyond the limits", s, d.days, d.exact)
		}
		if (d.days < 0 || d.exact < 0) && !strings.HasPrefix(strings.TrimSpace(s), "-") {
			t.Fatalf("parseDuration(%q) = %d days %v: negative without '-'", s, d.days, d.exact)
		}
		if end := d.after(at); d.days >= 0 && d.exact >= 0 && end.Before(at) {
			t.Fatalf("parseDuration(%q): %v after %v is %v", s, d, at, end)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
