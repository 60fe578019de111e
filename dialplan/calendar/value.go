package calendar

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// kind is how a DATE or DATE-TIME value is anchored in time.
type kind uint8

const (
	kindFloating kind = iota // local time with no zone, or an unknown TZID: read in the tenant's zone
	kindDate                 // a whole day, read in the tenant's zone
	kindUTC                  // ends in "Z"
	kindZoned                // TZID that names a known zone
)

// dateTime is a DATE or DATE-TIME value as written. The zone is applied
// late, in Busy, because floating times and dates depend on the tenant's zone.
type dateTime struct {
	wall time.Time      // the written fields, held in UTC as plain numbers
	kind kind           //
	zone *time.Location // kindZoned only
}

// location returns the zone the value is read in.
func (d dateTime) location(loc *time.Location) *time.Location {
	switch d.kind {
	case kindUTC:
		return time.UTC
	case kindZoned:
		return d.zone
	}
	return loc
}

// in returns the instant the value denotes when floating times and dates
// belong to loc.
func (d dateTime) in(loc *time.Location) time.Time {
	return atWall(d.wall, d.location(loc))
}

// atWall reads the fields of wall in loc. Times that fall in a DST gap move
// forward, as time.Date does.
func atWall(wall time.Time, loc *time.Location) time.Time {
	y, m, dd := wall.Date()
	h, mi, s := wall.Clock()
	return time.Date(y, m, dd, h, mi, s, 0, loc)
}

const (
	dateLayout     = "20060102"
	dateTimeLayout = "20060102T150405"
)

// parseDateTime parses one DATE or DATE-TIME value. dateOnly says that
// VALUE=DATE was given; without it, eight digits are also read as a date,
// as several producers omit the parameter. zone is the TZID's zone, nil when
// there is no TZID or it is unknown. Year 0 is refused: rrule-go never
// builds its tables for it (and panics), and no meeting was ever held then.
func parseDateTime(s string, dateOnly bool, zone *time.Location) (dateTime, error) {
	s = strings.TrimSpace(s)
	orig := s
	if dateOnly || len(s) == len(dateLayout) {
		if len(s) != len(dateLayout) || !allDigits(s) {
			return dateTime{}, fmt.Errorf("invalid date %q: want YYYYMMDD", s)
		}
		t, err := time.Parse(dateLayout, s)
		if err != nil || t.Year() < 1 {
			return dateTime{}, fmt.Errorf("invalid date %q", s)
		}
		return dateTime{wall: t, kind: kindDate}, nil
	}
	utc := false
	if n := len(s); n > 0 && (s[n-1] == 'Z' || s[n-1] == 'z') {
		utc = true
		s = s[:n-1]
	}
	if len(s) != len(dateTimeLayout) || (s[8] != 'T' && s[8] != 't') || !allDigits(s[:8]) || !allDigits(s[9:]) {
		return dateTime{}, fmt.Errorf("invalid date-time %q: want YYYYMMDDTHHMMSS, optionally with Z", orig)
	}
	t, err := time.Parse(dateTimeLayout, s[:8]+"T"+s[9:])
	if err != nil || t.Year() < 1 {
		return dateTime{}, fmt.Errorf("invalid date-time %q", orig)
	}
	switch {
	case utc:
		return dateTime{wall: t, kind: kindUTC}, nil
	case zone != nil:
		return dateTime{wall: t, kind: kindZoned, zone: zone}, nil
	}
	return dateTime{wall: t, kind: kindFloating}, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// duration is an RFC 5545 DURATION. Days and weeks are nominal (a day
// across a DST change lasts 23 or 25 hours), the rest is exact.
type duration struct {
	days  int
	exact time.Duration
}

// Bounds that keep arithmetic far from overflow; no meeting lasts this long.
const (
	maxDurationDays  = 36600         // about a century
	maxDurationExact = 877000 * 3600 // about a century, in seconds
)

var errBadDuration = errors.New("want a duration like PT1H30M, P1D or P2W")

// parseDuration parses a DURATION value ("PT1H30M", "P1D", "-PT15M",
// "P1W"). It accepts units in any order, as go-ical does, but each at most
// once.
func parseDuration(s string) (duration, error) {
	orig := s
	s = strings.ToUpper(strings.TrimSpace(s))
	neg := false
	switch {
	case strings.HasPrefix(s, "-"):
		neg, s = true, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	if !strings.HasPrefix(s, "P") {
		return duration{}, fmt.Errorf("invalid duration %q: %w", orig, errBadDuration)
	}
	s = s[1:]
	var d duration
	var seconds int64
	var seen uint8 // one bit per unit: each may appear once
	inTime := false
	for len(s) > 0 {
		if s[0] == 'T' {
			if inTime {
				return duration{}, fmt.Errorf("invalid duration %q: %w", orig, errBadDuration)
			}
			inTime, s = true, s[1:]
			continue
		}
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i == len(s) || i > 9 {
			return duration{}, fmt.Errorf("invalid duration %q: %w", orig, errBadDuration)
		}
		n := 0
		for _, c := range s[:i] {
			n = n*10 + int(c-'0')
		}
		unit := s[i]
		s = s[i+1:]
		var bit uint8
		switch {
		case !inTime && unit == 'W':
			bit, d.days = 1, d.days+7*n
		case !inTime && unit == 'D':
			bit, d.days = 2, d.days+n
		case inTime && unit == 'H':
			bit, seconds = 4, seconds+int64(n)*3600
		case inTime && unit == 'M':
			bit, seconds = 8, seconds+int64(n)*60
		case inTime && unit == 'S':
			bit, seconds = 16, seconds+int64(n)
		default:
			return duration{}, fmt.Errorf("invalid duration %q: %w", orig, errBadDuration)
		}
		if seen&bit != 0 {
			return duration{}, fmt.Errorf("invalid duration %q: unit %c repeated", orig, unit)
		}
		seen |= bit
		if d.days > maxDurationDays || seconds > maxDurationExact {
			return duration{}, fmt.Errorf("invalid duration %q: too long", orig)
		}
	}
	if seen == 0 {
		return duration{}, fmt.Errorf("invalid duration %q: %w", orig, errBadDuration)
	}
	d.exact = time.Duration(seconds) * time.Second
	if neg {
		d.days, d.exact = -d.days, -d.exact
	}
	return d, nil
}

// after returns the end of a span of d starting at t: days are added on
// the calendar of t's zone, so a one-day event ends at midnight even when
// that day has 23 hours.
func (d duration) after(t time.Time) time.Time {
	return addDays(t, d.days).Add(d.exact)
}

// addDays moves t by n calendar days, keeping its wall clock in its zone.
func addDays(t time.Time, n int) time.Time {
	if n == 0 {
		return t
	}
	y, m, dd := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, m, dd+n, h, mi, s, t.Nanosecond(), t.Location())
}

// unescapeText decodes a TEXT value. Unlike go-ical's Prop.Text it keeps
// unescaped commas (many producers do not escape them in SUMMARY) and
// tolerates unknown escapes, since a summary is only shown to people.
func unescapeText(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		if i == len(s) {
			break
		}
		switch s[i] {
		case 'n', 'N':
			b.WriteByte('\n')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
