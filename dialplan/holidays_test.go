package dialplan

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestEaster(t *testing.T) {
	tests := []struct {
		year  int
		month time.Month
		day   int
	}{
		{2025, time.April, 20},
		{2026, time.April, 5},
		{2027, time.March, 28},
		{2028, time.April, 16},
		{2029, time.April, 1},
		{2030, time.April, 21},
		{2008, time.March, 23},
		{2285, time.March, 22}, // earliest possible
		{2038, time.April, 25}, // latest possible
		{2011, time.April, 24}, // Easter Monday on Liberation Day
		{1900, time.April, 15},
		{2000, time.April, 23},
	}
	for _, tt := range tests {
		m, d := Easter(tt.year)
		if m != tt.month || d != tt.day {
			t.Errorf("Easter(%d) = %s %d, want %s %d", tt.year, m, d, tt.month, tt.day)
		}
	}
}

// holidays renders a year's holidays as "MM-DD name" lines.
func holidays(year int) []string {
	var out []string
	for _, h := range ItalianHolidays(year) {
		out = append(out, fmt.Sprintf("%02d-%02d %s", int(h.Month), h.Day, h.Name))
	}
	return out
}

func TestItalianHolidays2025To2030(t *testing.T) {
	tests := []struct {
		year                 int
		easter, easterMonday string
	}{
		{2025, "04-20", "04-21"},
		{2026, "04-05", "04-06"},
		{2027, "03-28", "03-29"},
		{2028, "04-16", "04-17"},
		{2029, "04-01", "04-02"},
		{2030, "04-21", "04-22"},
	}
	for _, tt := range tests {
		want := []string{
			"01-01 Capodanno (New Year's Day)",
			"01-06 Epifania (Epiphany)",
			tt.easter + " Pasqua (Easter Sunday)",
			tt.easterMonday + " Lunedì dell'Angelo (Easter Monday)",
			"04-25 Festa della Liberazione (Liberation Day)",
			"05-01 Festa del Lavoro (Labour Day)",
			"06-02 Festa della Repubblica (Republic Day)",
			"08-15 Ferragosto (Assumption Day)",
			"10-04 San Francesco d'Assisi (St Francis of Assisi)",
			"11-01 Ognissanti (All Saints' Day)",
			"12-08 Immacolata Concezione (Immaculate Conception)",
			"12-25 Natale (Christmas Day)",
			"12-26 Santo Stefano (St Stephen's Day)",
		}
		if tt.year < 2026 {
			want = slices.DeleteFunc(want, func(s string) bool { return s[:5] == "10-04" })
		}
		if got := holidays(tt.year); !slices.Equal(got, want) {
			t.Errorf("ItalianHolidays(%d):\n got %q\nwant %q", tt.year, got, want)
		}

		// Decide sees each of them as a closed holiday, even within hours.
		p := compileT(t, office())
		for _, h := range ItalianHolidays(tt.year) {
			now := time.Date(tt.year, h.Month, h.Day, 10, 0, 0, 0, rome)
			day := p.DayInfo(now)
			if day.Holiday != h.Name || day.Open {
				t.Errorf("DayInfo(%s) = holiday %q open %v, want %q closed", now.Format(time.DateOnly), day.Holiday, day.Open, h.Name)
			}
		}
	}
}

func TestSanFrancescoFrom2026(t *testing.T) {
	p := compileT(t, office())
	for _, tt := range []struct {
		year int
		want string
	}{
		{2024, ""},
		{2025, ""},
		{2026, "San Francesco d'Assisi (St Francis of Assisi)"},
		{2027, "San Francesco d'Assisi (St Francis of Assisi)"},
	} {
		if got := p.DayInfo(time.Date(tt.year, time.October, 4, 10, 0, 0, 0, rome)).Holiday; got != tt.want {
			t.Errorf("%d-10-04: holiday %q, want %q", tt.year, got, tt.want)
		}
	}
}

// The allocation-free lookup Decide uses must agree with the list.
func TestNationalHolidayAgreesWithList(t *testing.T) {
	for year := 1990; year <= 2100; year++ {
		want := map[string]string{}
		for _, h := range ItalianHolidays(year) {
			k := fmt.Sprintf("%02d-%02d", int(h.Month), h.Day)
			if _, ok := want[k]; !ok {
				want[k] = h.Name
			}
		}
		for d := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == year; d = d.AddDate(0, 0, 1) {
			k := d.Format("01-02")
			if got := nationalHoliday(year, d.Month(), d.Day()); got != want[k] {
				t.Fatalf("nationalHoliday(%s) = %q, want %q", d.Format(time.DateOnly), got, want[k])
			}
		}
	}
}

func TestItalianHolidaysTieOrder(t *testing.T) {
	// 2011: Easter Monday and Liberation Day are both 25 April.
	got := holidays(2011)
	i := slices.Index(got, "04-25 Festa della Liberazione (Liberation Day)")
	if i < 0 || i+1 >= len(got) || got[i+1] != "04-25 Lunedì dell'Angelo (Easter Monday)" {
		t.Errorf("ItalianHolidays(2011) = %q, want Liberation Day then Easter Monday on 04-25", got)
	}
}

func BenchmarkNationalHoliday(b *testing.B) {
	n := 0
	for i := 0; b.Loop(); i++ {
		if nationalHoliday(2026+i%10, time.April, 6) != "" {
			n++
		}
	}
	_ = n
}
