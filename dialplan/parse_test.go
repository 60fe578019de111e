package dialplan

import (
	"strings"
	"testing"

	"github.com/centralino/centralino/config"
)

func TestParseRange(t *testing.T) {
	tests := []struct {
		in      string
		want    config.TimeRange
		wantErr bool
	}{
		{in: "09:00-13:00", want: config.TimeRange{Start: 540, End: 780}},
		{in: "9:00-13:30", want: config.TimeRange{Start: 540, End: 810}},
		{in: "22:00-06:00", want: config.TimeRange{Start: 1320, End: 360}}, // crosses midnight
		{in: "18:00-24:00", want: config.TimeRange{Start: 1080, End: 1440}},
		{in: "00:00-00:00", want: config.TimeRange{Start: 0, End: 0}}, // all day
		{in: " 08:30 - 09:00 ", want: config.TimeRange{Start: 510, End: 540}},
		{in: "24:00-06:00", wantErr: true},
		{in: "09:60-10:00", wantErr: true},
		{in: "25:00-26:00", wantErr: true},
		{in: "24:01-01:00", wantErr: true},
		{in: "0900-1300", wantErr: true},
		{in: "09:00", wantErr: true},
		{in: "+9:00-10:00", wantErr: true},
		{in: "09:0-10:00", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseRange(tt.in)
		if (err != nil) != tt.wantErr || err == nil && got != tt.want {
			t.Errorf("parseRange(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		in      string
		want    date
		wantErr bool
	}{
		{in: "2026-08-10", want: 20260810},
		{in: "2028-02-29", want: 20280229},
		{in: "2000-02-29", want: 20000229},
		{in: "2100-02-29", wantErr: true},
		{in: "2026-02-29", wantErr: true},
		{in: "2026-04-31", wantErr: true},
		{in: "2026-13-01", wantErr: true},
		{in: "2026-00-10", wantErr: true},
		{in: "2026-01-00", wantErr: true},
		{in: "2026-1-01", wantErr: true},
		{in: "26-01-01", wantErr: true},
		{in: "2026/01/01", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseDate(tt.in)
		if (err != nil) != tt.wantErr || err == nil && got != tt.want {
			t.Errorf("parseDate(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestParseMonthDay(t *testing.T) {
	tests := []struct {
		in         string
		month, day int
		wantErr    bool
	}{
		{in: "12-07", month: 12, day: 7},
		{in: "02-29", month: 2, day: 29},
		{in: "02-30", wantErr: true},
		{in: "06-31", wantErr: true},
		{in: "13-01", wantErr: true},
		{in: "1-01", wantErr: true},
		{in: "2026-12-07", wantErr: true},
	}
	for _, tt := range tests {
		m, d, err := parseMonthDay(tt.in)
		if (err != nil) != tt.wantErr || err == nil && (m != tt.month || d != tt.day) {
			t.Errorf("parseMonthDay(%q) = %d, %d, %v; want %d, %d, error %v", tt.in, m, d, err, tt.month, tt.day, tt.wantErr)
		}
	}
}

func TestParseDays(t *testing.T) {
	tests := []struct {
		in      []string
		want    dayMask
		wantErr bool
	}{
		{in: []string{"mon"}, want: 1 << 1},
		{in: []string{"weekdays"}, want: maskWeekdays},
		{in: []string{"weekend", "Mon"}, want: maskWeekend | 1<<1},
		{in: []string{"sun", "sat"}, want: maskWeekend},
		{in: []string{"lun"}, wantErr: true},
		{in: []string{""}, wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseDays(tt.in)
		if (err != nil) != tt.wantErr || err == nil && got != tt.want {
			t.Errorf("parseDays(%q) = %07b, %v; want %07b, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestHoursDays(t *testing.T) {
	h := config.Hours{
		Weekdays: []string{"09:00-13:00"},
		Weekend:  []string{"10:00-12:00"},
		Fri:      []string{"09:00-12:00"},
		Sun:      []string{}, // its own empty key closes Sunday
	}
	days, err := hoursDays(h)
	if err != nil {
		t.Fatal(err)
	}
	want := [7]string{"", "09:00-13:00", "09:00-13:00", "09:00-13:00", "09:00-13:00", "09:00-12:00", "10:00-12:00"}
	for wd, w := range want {
		var got []string
		for _, r := range days[wd] {
			got = append(got, formatRange(r))
		}
		if strings.Join(got, ",") != w {
			t.Errorf("day %d: got %q, want %q", wd, got, w)
		}
	}

	// Days filled by loading win over the keys.
	h.Days[3] = []config.TimeRange{{Start: 60, End: 120}}
	days, _ = hoursDays(h)
	if len(days[1]) != 0 || len(days[3]) != 1 {
		t.Errorf("hoursDays ignored the loaded Days: %v", days)
	}

	if _, err := hoursDays(config.Hours{Mon: []string{"9-13"}}); err == nil || !strings.Contains(err.Error(), "hours.mon[0]") {
		t.Errorf("bad range: got error %v, want one naming hours.mon[0]", err)
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"09:00-13:00", "22:00-06:00", "18:00-24:00", "9:5-1:00", "24:00-00:00", "-", "::-::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := parseRange(s)
		if err != nil {
			return
		}
		if r.Start < 0 || r.Start >= minutesPerDay || r.End < 0 || r.End > minutesPerDay {
			t.Fatalf("parseRange(%q) = %v: out of the day", s, r)
		}
		back, err := parseRange(formatRange(r))
		if err != nil || back != r {
			t.Fatalf("round trip of %q: %q gives %v, %v", s, formatRange(r), back, err)
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-08-10", "2028-02-29", "2026-02-29", "0000-01-01", "9999-12-31", "2026-1-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDate(s)
		if err != nil {
			return
		}
		if d.String() != s {
			t.Fatalf("parseDate(%q) = %v: does not round trip", s, d)
		}
	})
}

func FuzzParseMonthDay(f *testing.F) {
	for _, s := range []string{"12-07", "02-29", "00-00", "12-32", "1-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, d, err := parseMonthDay(s)
		if err != nil {
			return
		}
		if m < 1 || m > 12 || d < 1 || d > daysIn(2024, m) {
			t.Fatalf("parseMonthDay(%q) = %d, %d: not a day of the year", s, m, d)
		}
	})
}

func FuzzParseDays(f *testing.F) {
	f.Add("mon,weekend")
	f.Add("weekdays")
	f.Fuzz(func(t *testing.T, s string) {
		mask, err := parseDays(strings.Split(s, ","))
		if err == nil && mask>>7 != 0 {
			t.Fatalf("parseDays(%q) = %b: beyond the week", s, mask)
		}
	})
}
