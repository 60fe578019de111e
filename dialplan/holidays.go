package dialplan

import "time"

// Holiday is one national holiday of a year.
type Holiday struct {
	Month time.Month
	Day   int
	Name  string // "Italian name (English name)"
}

// Names of the national holidays, as the trace and `explain` print them.
const (
	nameEaster       = "Pasqua (Easter Sunday)"
	nameEasterMonday = "Lunedì dell'Angelo (Easter Monday)"
	nameSanFrancesco = "San Francesco d'Assisi (St Francis of Assisi)"
)

// fixedHolidays are the national holidays on the same date every year;
// San Francesco (4 October) only counts from sanFrancescoFrom on.
var fixedHolidays = [...]Holiday{
	{time.January, 1, "Capodanno (New Year's Day)"},
	{time.January, 6, "Epifania (Epiphany)"},
	{time.April, 25, "Festa della Liberazione (Liberation Day)"},
	{time.May, 1, "Festa del Lavoro (Labour Day)"},
	{time.June, 2, "Festa della Repubblica (Republic Day)"},
	{time.August, 15, "Ferragosto (Assumption Day)"},
	{time.October, 4, nameSanFrancesco},
	{time.November, 1, "Ognissanti (All Saints' Day)"},
	{time.December, 8, "Immacolata Concezione (Immaculate Conception)"},
	{time.December, 25, "Natale (Christmas Day)"},
	{time.December, 26, "Santo Stefano (St Stephen's Day)"},
}

// sanFrancescoFrom is the first year 4 October is a national holiday
// again (it had been abolished in 1977).
const sanFrancescoFrom = 2026

// Easter returns the date of Easter Sunday in the Gregorian calendar
// (the anonymous algorithm, as given by Meeus).
func Easter(year int) (time.Month, int) {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	n := h + l - 7*m + 114
	return time.Month(n / 31), n%31 + 1
}

// easterMonday is the day after Easter, which is never later than 26 April.
func easterMonday(year int) (time.Month, int) {
	m, d := Easter(year)
	if m == time.March && d == 31 {
		return time.April, 1
	}
	return m, d + 1
}

// ItalianHolidays returns the national holidays of a year, in date order.
// When two fall on the same day (25 April on Easter Monday), the
// fixed-date one comes first.
func ItalianHolidays(year int) []Holiday {
	out := make([]Holiday, 0, len(fixedHolidays)+2)
	em, ed := Easter(year)
	mm, md := easterMonday(year)
	movable := [2]Holiday{{em, ed, nameEaster}, {mm, md, nameEasterMonday}}
	j := 0
	for _, h := range fixedHolidays {
		if h.Month == time.October && h.Day == 4 && year < sanFrancescoFrom {
			continue
		}
		for j < len(movable) && before(movable[j], h) {
			out = append(out, movable[j])
			j++
		}
		out = append(out, h)
	}
	return append(out, movable[j:]...)
}

func before(a, b Holiday) bool {
	return a.Month < b.Month || a.Month == b.Month && a.Day < b.Day
}

// nationalHoliday names the national holiday on a date, or returns "". It
// agrees with ItalianHolidays without allocating: Decide calls it for every
// call, and computing Easter costs a few integer divisions.
func nationalHoliday(year int, month time.Month, day int) string {
	for _, h := range fixedHolidays {
		if h.Month == month && h.Day == day {
			if h.Name == nameSanFrancesco && year < sanFrancescoFrom {
				break
			}
			return h.Name
		}
	}
	if month != time.March && month != time.April {
		return ""
	}
	if m, d := Easter(year); m == month && d == day {
		return nameEaster
	}
	if m, d := easterMonday(year); m == month && d == day {
		return nameEasterMonday
	}
	return ""
}
