package calendar

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centralino/centralino/dialplan"
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load zone: %v", err)
	}
	return loc
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func mustParse(t testing.TB, data []byte) *Calendar {
	t.Helper()
	c, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return c
}

// day returns midnight of an ISO date in loc.
func day(t testing.TB, iso string, loc *time.Location) time.Time {
	t.Helper()
	d, err := time.ParseInLocation("2006-01-02", iso, loc)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// render shows busy periods one a line, times with their UTC offset so
// DST is visible: "03-31 09:00+02 03-31 10:00+02 Summary".
func render(bs []dialplan.Busy) []string {
	out := []string{}
	for _, b := range bs {
		out = append(out, fmt.Sprintf("%s %s %s", b.Start.Format("01-02 15:04-07"), b.End.Format("01-02 15:04-07"), b.Summary))
	}
	return out
}

func diffLines(want, got []string) string {
	return fmt.Sprintf("\nwant:\n  %s\ngot:\n  %s", strings.Join(want, "\n  "), strings.Join(got, "\n  "))
}

func TestBusyTestdata(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		zone     string
		from, to string // dates in zone, to exclusive
		want     []string
	}{
		{
			name: "google week with UTC, all-day, transparent and escaped text", file: "google.ics", zone: "Europe/Rome",
			from: "2025-03-10", to: "2025-03-17",
			want: []string{
				"03-10 09:00+01 03-10 10:00+01 Riunione di reparto",
				"03-11 13:00+01 03-11 14:30+01 Pranzo, cliente Bianchi; poi visita",
				"03-12 14:00+01 03-12 15:00+01 Call con Londra",
				"03-12 18:00+01 03-12 19:30+01 Corso di inglese",
				"03-14 00:00+01 03-15 00:00+01 Ferie",
			},
		},
		{
			name: "google EXDATE", file: "google.ics", zone: "Europe/Rome",
			from: "2025-03-17", to: "2025-03-24",
			want: []string{"03-19 18:00+01 03-19 19:30+01 Corso di inglese"},
		},
		{
			name: "google moved instance, UNTIL in UTC reached exactly", file: "google.ics", zone: "Europe/Rome",
			from: "2025-03-24", to: "2025-03-31",
			want: []string{
				"03-25 14:00+01 03-25 15:00+01 Riunione di reparto (spostata)",
				"03-26 18:00+01 03-26 19:30+01 Corso di inglese",
			},
		},
		{
			name: "google after DST and after UNTIL", file: "google.ics", zone: "Europe/Rome",
			from: "2025-03-31", to: "2025-04-07",
			want: []string{"03-31 09:00+02 03-31 10:00+02 Riunione di reparto"},
		},
		{
			name: "google cancelled instance", file: "google.ics", zone: "Europe/Rome",
			from: "2025-04-07", to: "2025-04-15",
			want: []string{"04-14 09:00+02 04-14 10:00+02 Riunione di reparto"},
		},
		{
			name: "outlook Windows zones, free, multi-day, unknown TZID", file: "outlook.ics", zone: "Europe/Rome",
			from: "2025-03-10", to: "2025-03-17",
			want: []string{
				"03-10 09:00+01 03-10 09:15+01 Stand-up",
				"03-10 14:30+01 03-10 15:30+01 Webinar (ora di Roma)",
				"03-11 09:00+01 03-11 09:15+01 Stand-up",
				"03-11 12:00+01 03-11 13:00+01 Revisione contratto",
				"03-12 09:00+01 03-12 09:15+01 Stand-up",
				"03-12 10:00+01 03-12 11:00+01 Fornitore Parigi",
				"03-12 16:00+01 03-12 17:00+01 Filiale di Londra",
				"03-13 00:00+01 03-15 00:00+01 Trasferta Milano",
				"03-13 08:00+01 03-13 09:00+01 Partner Budapest",
				"03-13 09:00+01 03-13 09:15+01 Stand-up",
				"03-14 09:00+01 03-14 09:15+01 Stand-up",
			},
		},
		{
			name: "outlook EXDATE list and UNTIL", file: "outlook.ics", zone: "Europe/Rome",
			from: "2025-03-17", to: "2025-03-31",
			want: []string{
				"03-17 09:00+01 03-17 09:15+01 Stand-up",
				"03-20 09:00+01 03-20 09:15+01 Stand-up",
				"03-21 09:00+01 03-21 09:15+01 Stand-up",
			},
		},
		{
			name: "outlook unknown TZID read in the tenant's zone", file: "outlook.ics", zone: "UTC",
			from: "2025-03-11", to: "2025-03-12",
			want: []string{
				"03-11 08:00+00 03-11 08:15+00 Stand-up",
				"03-11 12:00+00 03-11 13:00+00 Revisione contratto",
			},
		},
		{
			name: "apple floating, DURATION, RDATE, PERIOD, date only, instant, VTODO", file: "apple.ics", zone: "Europe/Rome",
			from: "2025-03-10", to: "2025-03-17",
			want: []string{
				"03-10 17:00+01 03-10 18:00+01 Palestra",
				"03-11 15:00+01 03-11 16:30+01 Dentista",
				"03-12 00:00+01 03-13 00:00+01 Giornata di formazione",
				"03-12 17:00+01 03-12 18:00+01 Palestra",
				"03-14 17:00+01 03-14 18:00+01 Palestra",
				"03-15 10:00+01 03-15 11:30+01 Palestra",
			},
		},
		{
			name: "apple floating and date in another tenant zone", file: "apple.ics", zone: "America/New_York",
			from: "2025-03-11", to: "2025-03-13",
			want: []string{
				"03-11 15:00-04 03-11 16:30-04 Dentista",
				"03-12 00:00-04 03-13 00:00-04 Giornata di formazione",
				"03-12 12:00-04 03-12 13:00-04 Palestra",
			},
		},
		{
			name: "nextcloud X-LIC-LOCATION, mozilla TZID, monthly BYDAY, COUNT, cancelled", file: "nextcloud.ics", zone: "Europe/Rome",
			from: "2025-03-10", to: "2025-03-17",
			want: []string{
				"03-10 08:00+01 03-10 08:45+01 Fisioterapia",
				"03-11 08:00+01 03-11 08:45+01 Fisioterapia",
				"03-11 10:00+01 03-11 12:00+01 Consiglio direttivo",
				"03-12 08:00+01 03-12 08:45+01 Fisioterapia",
				"03-13 08:00+01 03-13 08:45+01 Fisioterapia",
				"03-14 08:00+01 03-14 08:45+01 Fisioterapia",
			},
		},
		{
			name: "nextcloud INTERVAL, multi-day and recurring all-day", file: "nextcloud.ics", zone: "Europe/Rome",
			from: "2025-03-17", to: "2025-03-24",
			want: []string{
				"03-18 16:00+01 03-18 17:00+01 Corso di aggiornamento",
				"03-20 00:00+01 03-24 00:00+01 Congresso a Bologna",
				"03-20 16:00+01 03-20 17:00+01 Corso di aggiornamento",
				"03-21 00:00+01 03-22 00:00+01 Smart working",
			},
		},
		{
			name: "DST: wall clock kept, gap, 23-hour day, series from 2010-2020", file: "dst.ics", zone: "Europe/Rome",
			from: "2025-03-24", to: "2025-04-01",
			want: []string{
				"03-24 09:00+01 03-24 10:00+01 Riunione settimanale",
				"03-28 02:30+01 03-28 03:00+01 Backup",
				"03-29 02:30+01 03-29 03:00+01 Backup",
				"03-30 00:00+01 03-31 00:00+02 Domenica",
				"03-30 03:30+02 03-30 04:00+02 Backup", // 02:30 does not exist: RFC 5545 reads it with the offset before the gap
				"03-31 00:00+02 04-01 00:00+02 Anniversario",
				"03-31 02:30+02 03-31 03:00+02 Backup",
				"03-31 09:00+02 03-31 10:00+02 Riunione settimanale",
				"03-31 10:00+02 03-31 11:00+02 Chiusura mese",
			},
		},
		{
			name: "DST in New York: Rome's meeting moves, floating ones do not", file: "dst.ics", zone: "America/New_York",
			from: "2025-03-28", to: "2025-03-29",
			want: []string{
				"03-28 02:30-04 03-28 03:00-04 Backup",
			},
		},
		{
			name: "New York between the two DST changes", file: "dst.ics", zone: "America/New_York",
			from: "2025-03-24", to: "2025-03-25",
			want: []string{
				"03-24 04:00-04 03-24 05:00-04 Riunione settimanale",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := mustZone(t, tt.zone)
			c := mustParse(t, readTestdata(t, tt.file))
			got := render(c.Busy(day(t, tt.from, loc), day(t, tt.to, loc), loc))
			if !slices.Equal(got, tt.want) {
				t.Errorf("Busy(%s, %s):%s", tt.from, tt.to, diffLines(tt.want, got))
			}
		})
	}
}

// variants returns the same calendar with LF, CRLF, a BOM, and every line
// folded every 20 bytes.
func variants(data []byte) map[string][]byte {
	lf := bytes.ReplaceAll(bytes.TrimPrefix(data, []byte(utf8BOM)), []byte("\r\n"), []byte("\n"))
	var folded bytes.Buffer
	for _, line := range strings.Split(string(lf), "\n") {
		for len(line) > 20 {
			folded.WriteString(line[:20] + "\r\n ")
			line = line[20:]
		}
		folded.WriteString(line + "\r\n")
	}
	return map[string][]byte{
		"LF":     lf,
		"CRLF":   bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n")),
		"BOM":    append([]byte(utf8BOM), lf...),
		"folded": folded.Bytes(),
	}
}

func TestParseLineEndingsBOMAndFolding(t *testing.T) {
	rome := mustZone(t, "Europe/Rome")
	from, to := day(t, "2025-03-01", rome), day(t, "2025-05-01", rome)
	for _, file := range []string{"google.ics", "outlook.ics", "apple.ics", "nextcloud.ics", "dst.ics"} {
		base := render(mustParse(t, readTestdata(t, file)).Busy(from, to, rome))
		if len(base) == 0 {
			t.Fatalf("%s: no busy periods in the window", file)
		}
		for name, data := range variants(readTestdata(t, file)) {
			c, err := Parse(data)
			if err != nil {
				t.Errorf("%s %s: Parse: %v", file, name, err)
				continue
			}
			if got := render(c.Busy(from, to, rome)); !slices.Equal(got, base) {
				t.Errorf("%s %s:%s", file, name, diffLines(base, got))
			}
		}
	}
}

// cal wraps VEVENT lines in a VCALENDAR.
func cal(lines ...string) []byte {
	return []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + strings.Join(lines, "\r\n") + "\r\nEND:VCALENDAR\r\n")
}

func TestBusyRules(t *testing.T) {
	tests := []struct {
		name     string
		ics      []byte
		zone     string
		from, to string
		want     []string
	}{
		{
			name: "DTSTART off the rule is the first instance",
			ics: cal("BEGIN:VEVENT", "UID:a", "SUMMARY:x", "DTSTART;TZID=Europe/Rome:20250312T090000",
				"DTEND;TZID=Europe/Rome:20250312T100000", "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=2", "END:VEVENT"),
			zone: "Europe/Rome", from: "2025-03-10", to: "2025-04-01",
			want: []string{"03-12 09:00+01 03-12 10:00+01 x", "03-17 09:00+01 03-17 10:00+01 x", "03-24 09:00+01 03-24 10:00+01 x"},
		},
		{
			name: "floating UNTIL is read in DTSTART's zone, not UTC",
			ics: cal("BEGIN:VEVENT", "UID:a", "SUMMARY:x", "DTSTART;TZID=America/New_York:20250303T090000",
				"DTEND;TZID=America/New_York:20250303T093000", "RRULE:FREQ=DAILY;UNTIL=20250305T090000", "END:VEVENT"),
			zone: "America/New_York", from: "2025-03-04", to: "2025-03-10",
			want: []string{"03-04 09:00-05 03-04 09:30-05 x", "03-05 09:00-05 03-05 09:30-05 x"},
		},
		{
			name: "date UNTIL includes that day west of UTC",
			ics: cal("BEGIN:VEVENT", "UID:a", "SUMMARY:x", "DTSTART;VALUE=DATE:20250303",
				"RRULE:FREQ=WEEKLY;UNTIL=20250310", "END:VEVENT"),
			zone: "America/New_York", from: "2025-03-03", to: "2025-03-20",
			want: []string{"03-03 00:00-05 03-04 00:00-05 x", "03-10 00:00-04 03-11 00:00-04 x"},
		},
		{
			name: "a rule that never matches leaves DTSTART",
			ics: cal("BEGIN:VEVENT", "UID:a", "SUMMARY:x", "DTSTART:20250303T090000Z", "DURATION:PT1H",
				"RRULE:FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", "END:VEVENT"),
			zone: "UTC", from: "2025-03-01", to: "2025-04-01",
			want: []string{"03-03 09:00+00 03-03 10:00+00 x"},
		},
		{
			name: "hourly rules are not expanded",
			ics: cal("BEGIN:VEVENT", "UID:a", "SUMMARY:x", "DTSTART:20250303T090000Z", "DURATION:PT10M",
				"RRULE:FREQ=HOURLY;INTERVAL=24;BYHOUR=5", "END:VEVENT"),
			zone: "UTC", from: "2025-03-01", to: "2025-04-01",
			want: []string{"03-03 09:00+00 03-03 09:10+00 x"},
		},
		{
			name: "RDATE without RRULE, repeated values once",
			ics: cal("BEGIN:VEVENT", "UID:a", "SUMMARY:x", "DTSTART:20250303T090000Z", "DTEND:20250303T100000Z",
				"RDATE:20250304T090000Z,20250303T090000Z", "RDATE:20250304T090000Z", "END:VEVENT"),
			zone: "UTC", from: "2025-03-01", to: "2025-04-01",
			want: []string{"03-03 09:00+00 03-03 10:00+00 x", "03-04 09:00+00 03-04 10:00+00 x"},
		},
		{
			name: "EXDATE as a date removes that day's instance of a timed series",
			ics: cal("BEGIN:VEVENT", "UID:a", "SUMMARY:x", "DTSTART;TZID=Europe/Rome:20250303T090000",
				"DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=3", "EXDATE;VALUE=DATE:20250304", "END:VEVENT"),
			zone: "Europe/Rome", from: "2025-03-01", to: "2025-04-01",
			want: []string{"03-03 09:00+01 03-03 10:00+01 x", "03-05 09:00+01 03-05 10:00+01 x"},
		},
		{
			name: "EXDATE in UTC matches a zoned instance",
			ics: cal("BEGIN:VEVENT", "UID:a", "SUMMARY:x", "DTSTART;TZID=Europe/Rome:20250303T090000",
				"DURATION:PT1H", "RRULE:FREQ=DAILY;COUNT=3", "EXDATE:20250304T080000Z", "END:VEVENT"),
			zone: "Europe/Rome", from: "2025-03-01", to: "2025-04-01",
			want: []string{"03-03 09:00+01 03-03 10:00+01 x", "03-05 09:00+01 03-05 10:00+01 x"},
		},
		{
			name: "instance moved into the window from outside, and away from it",
			ics: cal("BEGIN:VEVENT", "UID:s", "SUMMARY:series", "DTSTART;TZID=Europe/Rome:20250303T090000",
				"DTEND;TZID=Europe/Rome:20250303T100000", "RRULE:FREQ=WEEKLY", "END:VEVENT",
				"BEGIN:VEVENT", "UID:s", "SUMMARY:from April", "RECURRENCE-ID;TZID=Europe/Rome:20250407T090000",
				"DTSTART;TZID=Europe/Rome:20250312T150000", "DTEND;TZID=Europe/Rome:20250312T160000", "END:VEVENT",
				"BEGIN:VEVENT", "UID:s", "SUMMARY:to May", "RECURRENCE-ID:20250310T080000Z",
				"DTSTART;TZID=Europe/Rome:20250505T090000", "DTEND;TZID=Europe/Rome:20250505T100000", "END:VEVENT"),
			zone: "Europe/Rome", from: "2025-03-10", to: "2025-03-17",
			want: []string{"03-12 15:00+01 03-12 16:00+01 from April"},
		},
		{
			name: "override without its series stands alone",
			ics: cal("BEGIN:VEVENT", "UID:orphan", "SUMMARY:x", "RECURRENCE-ID:20250310T080000Z",
				"DTSTART:20250311T080000Z", "DTEND:20250311T090000Z", "END:VEVENT"),
			zone: "UTC", from: "2025-03-10", to: "2025-03-17",
			want: []string{"03-11 08:00+00 03-11 09:00+00 x"},
		},
		{
			name: "transparent override frees its instance",
			ics: cal("BEGIN:VEVENT", "UID:s", "SUMMARY:x", "DTSTART:20250310T080000Z", "DTEND:20250310T090000Z",
				"RRULE:FREQ=DAILY;COUNT=2", "END:VEVENT",
				"BEGIN:VEVENT", "UID:s", "SUMMARY:x", "RECURRENCE-ID:20250310T080000Z", "TRANSP:TRANSPARENT",
				"DTSTART:20250310T080000Z", "DTEND:20250310T090000Z", "END:VEVENT"),
			zone: "UTC", from: "2025-03-10", to: "2025-03-17",
			want: []string{"03-11 08:00+00 03-11 09:00+00 x"},
		},
		{
			name: "P1D on the DST day ends at midnight, PT24H does not",
			ics: cal("BEGIN:VEVENT", "UID:a", "SUMMARY:nominal", "DTSTART;TZID=Europe/Rome:20250330T000000", "DURATION:P1D", "END:VEVENT",
				"BEGIN:VEVENT", "UID:b", "SUMMARY:exact", "DTSTART;TZID=Europe/Rome:20250330T000000", "DURATION:PT24H", "END:VEVENT"),
			zone: "Europe/Rome", from: "2025-03-30", to: "2025-03-31",
			want: []string{"03-30 00:00+01 03-31 00:00+02 nominal", "03-30 00:00+01 03-31 01:00+02 exact"},
		},
		{
			name: "instants, negative and zero lengths are never busy",
			ics: cal("BEGIN:VEVENT", "UID:a", "SUMMARY:instant", "DTSTART:20250310T080000Z", "END:VEVENT",
				"BEGIN:VEVENT", "UID:b", "SUMMARY:negative", "DTSTART:20250310T080000Z", "DURATION:-PT1H", "END:VEVENT",
				"BEGIN:VEVENT", "UID:c", "SUMMARY:backwards", "DTSTART:20250310T080000Z", "DTEND:20250310T070000Z", "END:VEVENT",
				"BEGIN:VEVENT", "UID:d", "SUMMARY:no start", "DTEND:20250310T090000Z", "END:VEVENT"),
			zone: "UTC", from: "2025-03-01", to: "2025-04-01",
			want: []string{},
		},
		{
			name: "window edges: ending at from and starting at to are out, running at from is in",
			ics: cal("BEGIN:VEVENT", "UID:a", "SUMMARY:ends at from", "DTSTART:20250309T230000Z", "DTEND:20250310T000000Z", "END:VEVENT",
				"BEGIN:VEVENT", "UID:b", "SUMMARY:starts at to", "DTSTART:20250311T000000Z", "DTEND:20250311T010000Z", "END:VEVENT",
				"BEGIN:VEVENT", "UID:c", "SUMMARY:running", "DTSTART:20250309T230000Z", "DTEND:20250310T000001Z", "END:VEVENT",
				"BEGIN:VEVENT", "UID:d", "SUMMARY:long series", "DTSTART;VALUE=DATE:20250101", "DTEND;VALUE=DATE:20250401",
				"RRULE:FREQ=YEARLY", "END:VEVENT"),
			zone: "UTC", from: "2025-03-10", to: "2025-03-11",
			want: []string{"01-01 00:00+00 04-01 00:00+00 long series", "03-09 23:00+00 03-10 00:00+00 running"},
		},
		{
			name: "overlapping events are kept apart",
			ics: cal("BEGIN:VEVENT", "UID:a", "SUMMARY:one", "DTSTART:20250310T080000Z", "DTEND:20250310T100000Z", "END:VEVENT",
				"BEGIN:VEVENT", "UID:b", "SUMMARY:two", "DTSTART:20250310T090000Z", "DTEND:20250310T093000Z", "END:VEVENT"),
			zone: "UTC", from: "2025-03-10", to: "2025-03-11",
			want: []string{"03-10 08:00+00 03-10 10:00+00 one", "03-10 09:00+00 03-10 09:30+00 two"},
		},
		{
			name: "lower-case names and values, trailing semicolon in RRULE",
			ics: cal("begin:vevent", "uid:a", "summary:x", "dtstart;tzid=Europe/Rome:20250310t090000", "duration:pt30m",
				"rrule:freq=daily;count=2;", "end:vevent"),
			zone: "Europe/Rome", from: "2025-03-10", to: "2025-03-17",
			want: []string{"03-10 09:00+01 03-10 09:30+01 x", "03-11 09:00+01 03-11 09:30+01 x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := mustZone(t, tt.zone)
			c := mustParse(t, tt.ics)
			got := render(c.Busy(day(t, tt.from, loc), day(t, tt.to, loc), loc))
			if !slices.Equal(got, tt.want) {
				t.Errorf("Busy(%s, %s):%s", tt.from, tt.to, diffLines(tt.want, got))
			}
		})
	}
}

func TestBusyEmptyWindowAndNilZone(t *testing.T) {
	c := mustParse(t, cal("BEGIN:VEVENT", "UID:a", "SUMMARY:x", "DTSTART:20250310T080000", "DTEND:20250310T090000", "END:VEVENT"))
	at := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	if got := c.Busy(at.Add(24*time.Hour), at, time.UTC); got != nil {
		t.Errorf("Busy with to before from = %v, want nil", got)
	}
	got := c.Busy(at, at.Add(24*time.Hour), nil)
	if len(got) != 1 || !got[0].Start.Equal(at.Add(8*time.Hour)) || got[0].Start.Location() != time.UTC {
		t.Errorf("Busy with nil zone = %v, want one period at 08:00 UTC", got)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		ics  string
		want string // a prefix of the error
	}{
		{"empty", "", "not an iCalendar file: no BEGIN:VCALENDAR"},
		{"blank lines only", "\r\n\r\n", "not an iCalendar file: no BEGIN:VCALENDAR"},
		{"an HTML error page", "<!DOCTYPE html>\n<html><body>Not found</body></html>\n", `line 1: no ':' in "<!DOCTYPE html>"`},
		{"login page with a colon", "Location: https://example.com/login\n", `line 1: not an iCalendar file: expected BEGIN:VCALENDAR, got "Location: https://example.com/login"`},
		{"another component first", "BEGIN:VCARD\nEND:VCARD\n", "line 1: expected BEGIN:VCALENDAR, got BEGIN:VCARD"},
		{"truncated", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20250310T080000Z\n", "line 3: end of file, but BEGIN:VEVENT at line 2 is still open"},
		{"mismatched END", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VTODO\nEND:VCALENDAR\n", "line 3: END:VTODO, but BEGIN:VEVENT at line 2 is still open"},
		{"END without BEGIN", "END:VCALENDAR\n", "line 1: END:VCALENDAR without BEGIN"},
		{"BEGIN without name", "BEGIN:VCALENDAR\nBEGIN:\n", "line 2: BEGIN without a component name"},
		{"text after the calendar", "BEGIN:VCALENDAR\nEND:VCALENDAR\nX-TRAILER:1\n", "line 3: X-TRAILER after END:VCALENDAR"},
		{"fold at the start", " BEGIN:VCALENDAR\n", "line 1: folded line continues nothing"},
		{"fold after a blank line", "BEGIN:VCALENDAR\n\n more\nEND:VCALENDAR\n", "line 3: folded line continues nothing"},
		// go-ical's decoder panics (index out of range) on this line.
		{"parameter without colon", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;TZID=Europe/Rome\nEND:VEVENT\nEND:VCALENDAR\n", "line 3: DTSTART: no ':' after the parameters"},
		{"parameter without value", "BEGIN:VCALENDAR\nX-A;B:1\nEND:VCALENDAR\n", "line 2: X-A: malformed parameter"},
		{"empty property name", "BEGIN:VCALENDAR\n:1\nEND:VCALENDAR\n", "line 2: empty property name"},
		{"unterminated quote", "BEGIN:VCALENDAR\nX-A;CN=\"Rossi:1\nEND:VCALENDAR\n", "line 2: X-A: parameter CN: unterminated quoted value"},
		{"quote inside value", "BEGIN:VCALENDAR\nX-A;CN=Ro\"ssi\":1\nEND:VCALENDAR\n", "line 2: X-A: parameter CN: '\"' inside an unquoted value"},
		{"text after quoted value", "BEGIN:VCALENDAR\nX-A;CN=\"Rossi\"x:1\nEND:VCALENDAR\n", "line 2: X-A: parameter CN: unexpected 'x' after a quoted value"},
		{"parameter too long", "BEGIN:VCALENDAR\nX-A;CN=" + strings.Repeat("a", maxParamValue+1) + ":1\nEND:VCALENDAR\n", "line 2: X-A: parameter CN: value longer than 1024 bytes"},
		{"too deep", "BEGIN:VCALENDAR\n" + strings.Repeat("BEGIN:X\n", maxDepth), "line 17: components nested more than 16 deep"},
		{"bad DTSTART", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nDTSTART:2025-03-10 08:00\nEND:VEVENT\nEND:VCALENDAR\n", `line 4: DTSTART: invalid date-time "2025-03-10 08:00"`},
		{"bad date", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20250230\nEND:VEVENT\nEND:VCALENDAR\n", `line 3: DTSTART: invalid date "20250230"`},
		{"bad DTEND", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20250310T080000Z\nDTEND:20250310T250000Z\nEND:VEVENT\nEND:VCALENDAR\n", `line 4: DTEND: invalid date-time "20250310T250000Z"`},
		{"bad DURATION", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20250310T080000Z\nDURATION:1H\nEND:VEVENT\nEND:VCALENDAR\n", `line 4: DURATION: invalid duration "1H"`},
		{"bad RRULE", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20250310T080000Z\nRRULE:FREQ=SOMETIMES\nEND:VEVENT\nEND:VCALENDAR\n", `line 4: RRULE: "FREQ=SOMETIMES": undefined frequency: SOMETIMES`},
		{"RRULE out of bounds", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20250310T080000Z\nRRULE:FREQ=MONTHLY;BYMONTHDAY=32\nEND:VEVENT\nEND:VCALENDAR\n", `line 4: RRULE: "FREQ=MONTHLY;BYMONTHDAY=32": bymonthday must be between 1 and 31 or -1 and -31`},
		{"RRULE huge interval", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20250310T080000Z\nRRULE:FREQ=DAILY;INTERVAL=9223372036854775807\nEND:VEVENT\nEND:VCALENDAR\n", "line 4: RRULE: \"FREQ=DAILY;INTERVAL=9223372036854775807\": INTERVAL above 1000"},
		{"RRULE zero COUNT", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20250310T080000Z\nRRULE:FREQ=DAILY;COUNT=0\nEND:VEVENT\nEND:VCALENDAR\n", "line 4: RRULE: \"FREQ=DAILY;COUNT=0\": COUNT must be a positive number"},
		{"bad UNTIL", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20250310T080000Z\nRRULE:FREQ=DAILY;UNTIL=tomorrow\nEND:VEVENT\nEND:VCALENDAR\n", "line 4: RRULE: \"FREQ=DAILY;UNTIL=tomorrow\": UNTIL: invalid date \"TOMORROW\""},
		{"second EXDATE bad", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20250310T080000Z\nRRULE:FREQ=DAILY\nEXDATE:20250311T080000Z\nEXDATE:20250312T080000Z,x\nEND:VEVENT\nEND:VCALENDAR\n", `line 6: EXDATE: invalid date-time "x"`},
		{"bad RDATE period", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20250310T080000Z\nRDATE;VALUE=PERIOD:20250311T080000Z/PT\nEND:VEVENT\nEND:VCALENDAR\n", `line 4: RDATE: invalid duration "PT"`},
		{"bad RECURRENCE-ID", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20250310T080000Z\nRECURRENCE-ID:yesterday\nEND:VEVENT\nEND:VCALENDAR\n", `line 4: RECURRENCE-ID: invalid date-time "yesterday"`},
		{"line counted after folds", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDESCRIPTION:a\n b\n c\nDTSTART:x\nEND:VEVENT\nEND:VCALENDAR\n", `line 6: DTSTART: invalid date-time "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.ics))
			if err == nil {
				t.Fatalf("Parse = %v, want error %q", c, tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Parse error:\n got %q\nwant %q…", err, tt.want)
			}
		})
	}
}

func TestParseTooLarge(t *testing.T) {
	_, err := Parse(make([]byte, maxInputSize+1))
	if err == nil || !strings.Contains(err.Error(), "larger than 32 MB") {
		t.Errorf("Parse of %d bytes: err = %v, want too large", maxInputSize+1, err)
	}
}

func TestParseIgnoresOtherComponentsAndMultipleCalendars(t *testing.T) {
	data := "BEGIN:VCALENDAR\nBEGIN:VTODO\nDTSTART:20250310T080000Z\nDUE:20250310T090000Z\nEND:VTODO\n" +
		"BEGIN:VFREEBUSY\nFREEBUSY:20250310T080000Z/PT1H\nEND:VFREEBUSY\nEND:VCALENDAR\n" +
		"\n" +
		"BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:second\nDTSTART:20250310T100000Z\nDTEND:20250310T110000Z\nX-UNKNOWN;X-P=\"a:b\":c\nEND:VEVENT\nEND:VCALENDAR\n"
	c := mustParse(t, []byte(data))
	at := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	got := render(c.Busy(at, at.Add(24*time.Hour), time.UTC))
	want := []string{"03-10 10:00+00 03-10 11:00+00 second"}
	if !slices.Equal(got, want) {
		t.Errorf("Busy:%s", diffLines(want, got))
	}
}

// TestBusyConcurrent checks that calls share nothing mutable: rrule-go
// writes to an RRule while iterating it.
func TestBusyConcurrent(t *testing.T) {
	rome := mustZone(t, "Europe/Rome")
	c := mustParse(t, readTestdata(t, "google.ics"))
	start := day(t, "2025-03-01", rome)
	want := make([][]string, 8)
	for i := range want {
		from := start.AddDate(0, 0, 7*i)
		want[i] = render(c.Busy(from, from.AddDate(0, 0, 7), rome))
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*20)
	for i := range want {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from := start.AddDate(0, 0, 7*i)
			for range 20 {
				if got := render(c.Busy(from, from.AddDate(0, 0, 7), rome)); !slices.Equal(got, want[i]) {
					errs <- fmt.Sprintf("week %d:%s", i, diffLines(want[i], got))
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// unbounded returns a copy of c whose events have no lo–hi bounds, so Busy
// expands every one of them.
func unbounded(c *Calendar) *Calendar {
	u := &Calendar{}
	for _, e := range c.events {
		cp := *e
		cp.lo, cp.hi = time.Time{}, endOfTime.AddDate(1, 0, 0)
		u.events = append(u.events, &cp)
	}
	return u
}

// TestBoundsHideNothing checks that skipping events by their bounds never
// drops a busy period, in zones at both ends of the UTC offsets.
func TestBoundsHideNothing(t *testing.T) {
	zones := []*time.Location{time.UTC, mustZone(t, "Europe/Rome"), mustZone(t, "Pacific/Kiritimati"), mustZone(t, "Pacific/Pago_Pago")}
	for _, file := range []string{"google.ics", "outlook.ics", "apple.ics", "nextcloud.ics", "dst.ics"} {
		c := mustParse(t, readTestdata(t, file))
		u := unbounded(c)
		seen := 0
		for _, loc := range zones {
			for from := time.Date(2025, 2, 20, 0, 0, 0, 0, loc); from.Before(time.Date(2025, 5, 1, 0, 0, 0, 0, loc)); from = from.Add(13 * time.Hour) {
				to := from.Add(48 * time.Hour)
				want, got := render(u.Busy(from, to, loc)), render(c.Busy(from, to, loc))
				if !slices.Equal(got, want) {
					t.Errorf("%s in %s from %v:%s", file, loc, from, diffLines(want, got))
				}
				seen += len(got)
			}
		}
		if seen == 0 {
			t.Errorf("%s: no busy periods in any window", file)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"google.ics", "outlook.ics", "apple.ics", "nextcloud.ics", "dst.ics"} {
		f.Add(readTestdata(f, name))
	}
	f.Add(cal("BEGIN:VEVENT", "DTSTART;TZID=Europe/Rome:20250303T090000", "DURATION:PT1H",
		"RRULE:FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=-1;UNTIL=20260101", "EXDATE;VALUE=DATE:20250331", "END:VEVENT"))
	f.Add(cal("BEGIN:VEVENT", "DTSTART:99991231T230000Z", "DTEND:99991231T235959Z", "RRULE:FREQ=YEARLY;INTERVAL=1000", "END:VEVENT"))
	f.Add(cal("BEGIN:VEVENT", "DTSTART;VALUE=DATE:00000101", "RRULE:FREQ=WEEKLY;BYWEEKNO=-1;BYDAY=SU", "RDATE;VALUE=PERIOD:00010101T000000Z/P1W", "END:VEVENT"))
	f.Add([]byte("BEGIN:VCALENDAR\nX-A;B=\"c\",d;E=f:g\nEND:VCALENDAR\n"))
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		windows := []time.Time{time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)}
		for _, e := range c.events[:min(len(c.events), 3)] {
			windows = append(windows, e.start.wall.Add(-12*time.Hour))
		}
		for _, loc := range []*time.Location{time.UTC, rome} {
			for _, from := range windows {
				to := from.Add(48 * time.Hour)
				bs := c.Busy(from, to, loc)
				if got, want := render(bs), render(unbounded(c).Busy(from, to, loc)); !slices.Equal(got, want) {
					t.Fatalf("bounds hide periods from %v in %s:%s", from, loc, diffLines(want, got))
				}
				for i, b := range bs {
					if !b.End.After(b.Start) {
						t.Fatalf("period %d ends before it starts: %v", i, b)
					}
					if !b.Start.Before(to) || !b.End.After(from) {
						t.Fatalf("period %d %v–%v is outside the window %v–%v", i, b.Start, b.End, from, to)
					}
					if i > 0 && b.Start.Before(bs[i-1].Start) {
						t.Fatalf("periods %d and %d are not sorted", i-1, i)
					}
				}
			}
		}
	})
}

// benchCalendar builds a calendar of n events, like a busy professional's
// ten-year export: mostly past single meetings, and weekly, daily and
// monthly series, some ended, some with exceptions.
func benchCalendar(n int) []byte {
	var b strings.Builder
	b.WriteString("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n")
	base := time.Date(2016, 1, 4, 9, 0, 0, 0, time.UTC)
	for i := range n {
		start := base.Add(time.Duration(i) * 43 * time.Hour).Truncate(time.Hour)
		fmt.Fprintf(&b, "BEGIN:VEVENT\r\nUID:bench-%d@example.it\r\nSUMMARY:Evento %d\r\n", i, i)
		fmt.Fprintf(&b, "DTSTART;TZID=Europe/Rome:%s\r\nDTEND;TZID=Europe/Rome:%s\r\n",
			start.Format(dateTimeLayout), start.Add(time.Hour).Format(dateTimeLayout))
		switch i % 10 {
		case 0, 1:
			b.WriteString("RRULE:FREQ=WEEKLY;BYDAY=MO,WE\r\n")
			fmt.Fprintf(&b, "EXDATE;TZID=Europe/Rome:%s\r\n", start.AddDate(0, 0, 14).Format(dateTimeLayout))
		case 2:
			fmt.Fprintf(&b, "RRULE:FREQ=WEEKLY;UNTIL=%sZ\r\n", start.AddDate(1, 0, 0).Format(dateTimeLayout))
		case 3:
			b.WriteString("RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=200\r\n")
		case 4:
			b.WriteString("RRULE:FREQ=MONTHLY;BYDAY=2TU\r\n")
		}
		b.WriteString("END:VEVENT\r\n")
	}
	b.WriteString("END:VCALENDAR\r\n")
	return []byte(b.String())
}

func BenchmarkBusy(b *testing.B) {
	c := mustParse(b, benchCalendar(2000))
	rome := mustZone(b, "Europe/Rome")
	from := time.Date(2025, 6, 9, 0, 0, 0, 0, rome)
	if got := c.Busy(from, from.Add(48*time.Hour), rome); len(got) == 0 {
		b.Fatal("no busy periods in the window")
	}
	b.ReportAllocs()
	var sink []dialplan.Busy
	for b.Loop() {
		sink = c.Busy(from, from.Add(48*time.Hour), rome)
	}
	_ = sink
}

func BenchmarkParse(b *testing.B) {
	data := benchCalendar(2000)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
