package dialplan

import (
	"fmt"
	"strings"

	"github.com/centralino/centralino/config"
)

// minutesPerDay is also the value of "24:00", allowed as the end of a range
// so that a day can be open until midnight without crossing it.
const minutesPerDay = 24 * 60

// parseRange parses "HH:MM-HH:MM". An end not after the start crosses
// midnight; "24:00" is accepted as an end only.
func parseRange(s string) (config.TimeRange, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok {
		return config.TimeRange{}, fmt.Errorf("time range %q: want HH:MM-HH:MM", s)
	}
	start, err := parseClock(strings.TrimSpace(from))
	if err != nil || start == minutesPerDay {
		return config.TimeRange{}, fmt.Errorf("time range %q: start: want HH:MM from 00:00 to 23:59", s)
	}
	end, err := parseClock(strings.TrimSpace(to))
	if err != nil {
		return config.TimeRange{}, fmt.Errorf("time range %q: end: want HH:MM from 00:00 to 24:00", s)
	}
	return config.TimeRange{Start: start, End: end}, nil
}

// parseClock parses "HH:MM" (or "H:MM") into minutes after midnight, up to
// "24:00".
func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 {
		return 0, fmt.Errorf("clock %q: want HH:MM", s)
	}
	hh, ok1 := digits(h)
	mm, ok2 := digits(m)
	if !ok1 || !ok2 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, fmt.Errorf("clock %q: want HH:MM", s)
	}
	return hh*60 + mm, nil
}

// formatClock is the inverse of parseClock.
func formatClock(min int) string {
	return fmt.Sprintf("%02d:%02d", min/60, min%60)
}

func formatRange(r config.TimeRange) string {
	return formatClock(r.Start) + "-" + formatClock(r.End)
}

// date is a calendar day as year*10000 + month*100 + day, so that dates
// compare as integers.
type date int

func makeDate(y int, m int, d int) date { return date(y*10000 + m*100 + d) }

func (d date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", int(d)/10000, int(d)/100%100, int(d)%100)
}

// parseDate parses "YYYY-MM-DD", checking that the day exists.
func parseDate(s string) (date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	y, ok := digits(s[:4])
	if !ok {
		return 0, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	m, d, err := monthDay(s[5:])
	if err != nil || d > daysIn(y, m) {
		return 0, fmt.Errorf("date %q: not a day of the calendar", s)
	}
	return makeDate(y, m, d), nil
}

// parseMonthDay parses "MM-DD" for a yearly date; 02-29 is allowed and
// only happens in leap years.
func parseMonthDay(s string) (month, day int, err error) {
	m, d, err := monthDay(s)
	if err != nil || d > daysIn(2024, m) {
		return 0, 0, fmt.Errorf("date %q: want MM-DD", s)
	}
	return m, d, nil
}

func monthDay(s string) (month, day int, err error) {
	if len(s) != 5 || s[2] != '-' {
		return 0, 0, fmt.Errorf("date %q: want MM-DD", s)
	}
	m, ok1 := digits(s[:2])
	d, ok2 := digits(s[3:])
	if !ok1 || !ok2 || m < 1 || m > 12 || d < 1 {
		return 0, 0, fmt.Errorf("date %q: want MM-DD", s)
	}
	return m, d, nil
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// digits parses a short run of ASCII digits; strconv.Atoi would accept
// signs.
func digits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// dayMask is a set of weekdays, bit time.Weekday (0 = Sunday).
type dayMask uint8

const (
	maskWeekdays dayMask = 0b0111110
	maskWeekend  dayMask = 0b1000001
)

// parseDays parses a `days` list: mon..sun, weekdays, weekend.
func parseDays(days []string) (dayMask, error) {
	var mask dayMask
	for _, d := range days {
		switch strings.ToLower(strings.TrimSpace(d)) {
		case "sun":
			mask |= 1 << 0
		case "mon":
			mask |= 1 << 1
		case "tue":
			mask |= 1 << 2
		case "wed":
			mask |= 1 << 3
		case "thu":
			mask |= 1 << 4
		case "fri":
			mask |= 1 << 5
		case "sat":
			mask |= 1 << 6
		case "weekdays":
			mask |= maskWeekdays
		case "weekend":
			mask |= maskWeekend
		default:
			return 0, fmt.Errorf("day %q: want mon, tue, wed, thu, fri, sat, sun, weekdays or weekend", d)
		}
	}
	return mask, nil
}

// hoursDays returns the weekly ranges of h: Days when loading filled it,
// else parsed from the YAML keys, so that a Tenant built in code (tests,
// the demo) works too. A day's own key overrides the shorthands.
func hoursDays(h config.Hours) ([7][]config.TimeRange, error) {
	for _, d := range h.Days {
		if len(d) > 0 {
			return h.Days, nil
		}
	}
	var days [7][]config.TimeRange
	keys := [7]struct {
		name string
		own  []string
	}{{"sun", h.Sun}, {"mon", h.Mon}, {"tue", h.Tue}, {"wed", h.Wed}, {"thu", h.Thu}, {"fri", h.Fri}, {"sat", h.Sat}}
	for wd, k := range keys {
		src, name := k.own, k.name
		if src == nil {
			if maskWeekend&(1<<wd) != 0 {
				src, name = h.Weekend, "weekend"
			} else {
				src, name = h.Weekdays, "weekdays"
			}
		}
		for i, s := range src {
			r, err := parseRange(s)
			if err != nil {
				return days, fmt.Errorf("hours.%s[%d]: %w", name, i, err)
			}
			days[wd] = append(days[wd], r)
		}
	}
	return days, nil
}
