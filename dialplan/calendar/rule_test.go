package calendar

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teambition/rrule-go"
)

func mustRule(t testing.TB, value string, start dateTime) *rule {
	t.Helper()
	r, err := parseRule(value, start)
	if err != nil {
		t.Fatalf("parseRule(%q): %v", value, err)
	}
	if r == nil {
		t.Fatalf("parseRule(%q) = nil, want a rule", value)
	}
	return r
}

// TestFastForwardMatchesFullWalk compares expansions, which skip ahead and
// have the defaults taken from DTSTART written out, with rrule-go walking
// the rule as written from DTSTART, for windows years after DTSTART.
func TestFastForwardMatchesFullWalk(t *testing.T) {
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	rules := []string{
		"FREQ=DAILY",
		"FREQ=DAILY;INTERVAL=3",
		"FREQ=DAILY;BYMONTH=3,10",
		"FREQ=WEEKLY",
		"FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR;WKST=SU",
		"FREQ=WEEKLY;INTERVAL=3;BYDAY=SU,SA",
		"FREQ=MONTHLY",
		"FREQ=MONTHLY;BYDAY=-1FR",
		"FREQ=MONTHLY;INTERVAL=5;BYDAY=2TU",
		"FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
		"FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=8,17",
		"FREQ=YEARLY",
		"FREQ=YEARLY;INTERVAL=2",
		"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",
		"FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO",
		"FREQ=YEARLY;BYYEARDAY=100,-1",
	}
	starts := []time.Time{
		time.Date(2012, 1, 31, 9, 30, 0, 0, time.UTC),
		time.Date(2013, 10, 27, 2, 30, 0, 0, time.UTC), // a DST change day in Rome
		time.Date(2016, 2, 29, 0, 0, 0, 0, time.UTC),
	}
	for _, value := range rules {
		for _, wall := range starts {
			r := mustRule(t, value, dateTime{wall: wall, kind: kindZoned, zone: rome})
			start := atWall(wall, rome)
			var windows []time.Time
			for from := time.Date(2024, 12, 20, 0, 0, 0, 0, rome); from.Year() < 2027; from = from.AddDate(0, 0, 47) {
				windows = append(windows, from)
			}
			for month := range 14 { // period boundaries, where a wrong move shows first
				windows = append(windows, time.Date(2025, time.Month(1+month), 1, 0, 0, 0, 0, rome))
				windows = append(windows, time.Date(2025, time.Month(1+month), 3, 9, 30, 0, 0, rome))
			}
			for _, from := range windows {
				to := from.AddDate(0, 0, 40)
				full := walk(t, value, start, from, to)
				fast := r.expand(nil, start, from, to)
				if !slices.EqualFunc(full, fast, time.Time.Equal) {
					t.Errorf("%s from %v, window %v: full walk %v, fast-forward %v", value, wall, from, full, fast)
				}
			}
		}
	}
}

// walk returns the occurrences in [from, to) of the rule as written,
// walking from start with rrule-go alone.
func walk(t *testing.T, value string, start, from, to time.Time) []time.Time {
	t.Helper()
	opt, err := rrule.StrToROption(value)
	if err != nil {
		t.Fatal(err)
	}
	opt.Dtstart = start
	rr, err := rrule.NewRRule(*opt)
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(rr.Between(from, to, true), func(t time.Time) bool { return !t.Before(to) })
}

func TestParseRuleNotExpanded(t *testing.T) {
	start := dateTime{wall: time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC), kind: kindUTC}
	for _, value := range []string{
		"FREQ=HOURLY",
		"FREQ=MINUTELY;INTERVAL=15",
		"FREQ=SECONDLY",
		"FREQ=DAILY;BYHOUR=8,9,10,11,12;BYMINUTE=0,10,20,30,40,50", // 30 times a day
	} {
		r, err := parseRule(value, start)
		if err != nil || r != nil {
			t.Errorf("parseRule(%q) = %v, %v; want nil, nil", value, r, err)
		}
	}
}

func TestParseRuleNever(t *testing.T) {
	start := dateTime{wall: time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC), kind: kindUTC}
	tests := []struct {
		value string
		never bool
	}{
		{"FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30", true},
		{"FREQ=MONTHLY;BYDAY=MO;BYSETPOS=6", true},
		{"FREQ=YEARLY;BYMONTH=4;BYMONTHDAY=31", true},
		{"FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO", false}, // once in 28 years
		{"FREQ=WEEKLY;BYMONTH=2;BYMONTHDAY=29", false},
		{"FREQ=DAILY", false},
	}
	for _, tt := range tests {
		if r := mustRule(t, tt.value, start); r.never != tt.never {
			t.Errorf("parseRule(%q).never = %t, want %t", tt.value, r.never, tt.never)
		}
	}
}

func TestParseRuleUntilAndCount(t *testing.T) {
	wall := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		value    string
		until    string
		untilUTC bool
		last     string
	}{
		{value: "FREQ=DAILY;UNTIL=20250312T080000Z", until: "2025-03-12 08:00:00", untilUTC: true},
		{value: "FREQ=DAILY;UNTIL=20250312T090000", until: "2025-03-12 09:00:00"},
		{value: "FREQ=DAILY;UNTIL=20250312", until: "2025-03-12 23:59:59"},
		{value: "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=5", last: "2025-03-24 09:00:00"},
		{value: "FREQ=DAILY;COUNT=1", last: "2025-03-10 09:00:00"},
		{value: "FREQ=YEARLY;COUNT=2000000", last: "9999-03-10 09:00:00"}, // rrule-go ends at 9999
	}
	for _, tt := range tests {
		r := mustRule(t, tt.value, dateTime{wall: wall, kind: kindFloating})
		format := func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.Format(time.DateTime)
		}
		if got := format(r.until); got != tt.until || r.untilUTC != tt.untilUTC {
			t.Errorf("parseRule(%q) until = %q (UTC %t), want %q (UTC %t)", tt.value, got, r.untilUTC, tt.until, tt.untilUTC)
		}
		if got := format(r.last); got != tt.last {
			t.Errorf("parseRule(%q) last = %q, want %q", tt.value, got, tt.last)
		}
	}
}

func TestParseRuleErrors(t *testing.T) {
	start := dateTime{wall: time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC), kind: kindUTC}
	tests := []struct{ value, err string }{
		{"", `"": wrong format`},
		{"FREQ=DAILY;FOO=1", `"FREQ=DAILY;FOO=1": unknown RRULE property: FOO`},
		{"FREQ=DAILY;INTERVAL=-1", `"FREQ=DAILY;INTERVAL=-1": interval must be greater than 0`},
		{"FREQ=DAILY;INTERVAL=1001", `"FREQ=DAILY;INTERVAL=1001": INTERVAL above 1000`},
		{"FREQ=YEARLY;BYEASTER=400", `"FREQ=YEARLY;BYEASTER=400": BYEASTER is not supported`},
		{"FREQ=MONTHLY;BYDAY=-53MO", `"FREQ=MONTHLY;BYDAY=-53MO": BYDAY -53MO: a month has at most 5 of each weekday`},
		{"FREQ=YEARLY;BYMONTH=12;BYDAY=53MO", `"FREQ=YEARLY;BYMONTH=12;BYDAY=53MO": BYDAY +53MO: a month has at most 5 of each weekday`},
		{"FREQ=DAILY;COUNT=-3", `"FREQ=DAILY;COUNT=-3": COUNT must be a positive number`},
		{"FREQ=DAILY;COUNT=x", `"FREQ=DAILY;COUNT=x": COUNT must be a positive number`},
		{"FREQ=DAILY;UNTIL=2025", `"FREQ=DAILY;UNTIL=2025": UNTIL: invalid date-time "2025"`},
	}
	for _, tt := range tests {
		r, err := parseRule(tt.value, start)
		if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
			t.Errorf("parseRule(%q) = %v, %v; want error %q…", tt.value, r, err, tt.err)
		}
	}
}

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{
		"FREQ=WEEKLY;BYDAY=MO,WE;UNTIL=20250401T000000Z",
		"FREQ=MONTHLY;BYDAY=-1FR;COUNT=10",
		"FREQ=YEARLY;BYWEEKNO=53;BYDAY=SU",
		"FREQ=YEARLY;BYWEEKNO=-53,1;WKST=SU",
		"FREQ=YEARLY;BYMONTH=12;BYDAY=5MO,-5SU",
		"FREQ=MONTHLY;BYMONTHDAY=31,-31;BYSETPOS=1,-1",
		"FREQ=YEARLY;BYYEARDAY=366,-366",
		"FREQ=DAILY;INTERVAL=1000;UNTIL=99991231",
	} {
		f.Add(s, int64(2025), int64(3), int64(10), int64(9))
	}
	f.Add("FREQ=YEARLY;BYWEEKNO=1", int64(1), int64(1), int64(1), int64(0))
	f.Add("FREQ=WEEKLY", int64(9999), int64(12), int64(31), int64(23))
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, value string, year, month, day, hour int64) {
		wall := time.Date(int(1+abs64(year)%9999), time.Month(1+abs64(month)%12), int(1+abs64(day)%31), int(abs64(hour)%24), 0, 0, 0, time.UTC)
		r, err := parseRule(value, dateTime{wall: wall, kind: kindZoned, zone: rome})
		if err != nil || r == nil {
			return
		}
		start := atWall(wall, rome)
		// rrule-go alone is the oracle where it reads the rule as we do: no
		// UNTIL or COUNT, a DTSTART outside a DST gap, a rule that matches.
		_, oracleErr := rrule.StrToROption(value)
		oracle := oracleErr == nil && !r.never && start.Hour() == wall.Hour() &&
			!strings.Contains(strings.ToUpper(value), "UNTIL") && !strings.Contains(strings.ToUpper(value), "COUNT")
		for _, from := range []time.Time{start, start.AddDate(0, 0, 400)} {
			to := from.Add(48 * time.Hour)
			got := r.expand(nil, start, from.Add(-48*time.Hour), to)
			got = slices.DeleteFunc(got, func(s time.Time) bool { return s.Before(from) })
			for i, s := range got {
				if i > 0 && !s.After(got[i-1]) {
					t.Fatalf("%s: occurrences not increasing: %v", value, got)
				}
			}
			if oracle {
				if want := walk(t, value, start, from, to); !slices.EqualFunc(got, want, time.Time.Equal) {
					t.Fatalf("%s from %v, window %v: rrule-go %v, expand %v", value, start, from, want, got)
				}
			}
		}
	})
}

func abs64(n int64) int64 {
	if n < 0 {
		return -(n + 1)
	}
	return n
}
