package calendar

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/teambition/rrule-go"
)

// Limits on recurrence rules. rrule-go walks every period from DTSTART,
// so these keep the walk short; real meetings never come near them.
const (
	maxInterval = 1000
	// maxCount caps COUNT: the 100 000th occurrence of a daily meeting is
	// 270 years away.
	maxCount = 100000
	// maxTimesPerDay refuses rules such as BYMINUTE=0,1,…,59 that would turn
	// one event into thousands of busy periods.
	maxTimesPerDay = 24
	// maxOccurrences bounds what one event yields in one Busy call.
	maxOccurrences = 5000
)

// rrule-go stops at year 9999; a probe from 9600 covers a whole 400-year
// Gregorian cycle, in which every pattern of dates and weekdays occurs.
var (
	probeFrom = time.Date(9600, 1, 1, 0, 0, 0, 0, time.UTC)
	endOfTime = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// rule is a parsed RRULE, ready to be expanded from any DTSTART zone.
type rule struct {
	// opt holds FREQ, INTERVAL, WKST and the BY* parts, with the defaults
	// rrule-go would derive from DTSTART written out, so that DTSTART can be
	// moved forward without changing the rule. Its Dtstart, Until and Count
	// are zero. Shared by concurrent Busy calls: read-only.
	opt rrule.ROption

	until    time.Time // UNTIL: a wall clock read in DTSTART's zone, or an instant when untilUTC
	untilUTC bool
	last     time.Time // wall clock of the COUNT-th occurrence; zero without COUNT
	never    bool      // the rule yields nothing (e.g. BYMONTH=2;BYMONTHDAY=30)
}

// parseRule parses an RRULE value for an event starting at start. It
// returns a nil rule, and no error, for valid rules it does not expand:
// those more frequent than daily, which no calendar application offers and
// which rrule-go can loop on forever (FREQ=HOURLY;INTERVAL=24;BYHOUR=5).
//
// UNTIL and COUNT are taken out before rrule-go sees the rule: rrule-go
// reads a floating or date UNTIL in UTC, not in DTSTART's zone, and COUNT
// would force every expansion to walk from the very first occurrence.
func parseRule(value string, start dateTime) (*rule, error) {
	var parts []string
	var untilValue, countValue string
	for _, p := range strings.Split(strings.ToUpper(strings.TrimSpace(value)), ";") {
		switch {
		case p == "":
			// "FREQ=WEEKLY;" is common.
		case strings.HasPrefix(p, "UNTIL="):
			untilValue = p[len("UNTIL="):]
		case strings.HasPrefix(p, "COUNT="):
			countValue = p[len("COUNT="):]
		default:
			parts = append(parts, p)
		}
	}
	opt, err := rrule.StrToROption(strings.Join(parts, ";"))
	if err != nil {
		return nil, fmt.Errorf("%q: %w", value, err)
	}
	if opt.Interval > maxInterval {
		return nil, fmt.Errorf("%q: INTERVAL above %d", value, maxInterval)
	}
	// rrule-go indexes past its tables (and panics) on these; RFC 5545 has
	// no BYEASTER, and a month has at most five of each weekday.
	if len(opt.Byeaster) > 0 {
		return nil, fmt.Errorf("%q: BYEASTER is not supported", value)
	}
	if opt.Freq == rrule.MONTHLY || opt.Freq == rrule.YEARLY && len(opt.Bymonth) > 0 {
		for _, wd := range opt.Byweekday {
			if wd.N() > 5 || wd.N() < -5 {
				return nil, fmt.Errorf("%q: BYDAY %s: a month has at most 5 of each weekday", value, wd)
			}
		}
	}
	// Validate the BY* bounds now; expansions then cannot fail.
	probe := *opt
	probe.Dtstart = start.wall
	if _, err := rrule.NewRRule(probe); err != nil {
		return nil, fmt.Errorf("%q: %w", value, err)
	}
	r := &rule{opt: *opt}
	if untilValue != "" {
		u, err := parseDateTime(untilValue, false, nil)
		if err != nil {
			return nil, fmt.Errorf("%q: UNTIL: %w", value, err)
		}
		r.until, r.untilUTC = u.wall, u.kind == kindUTC
		if u.kind == kindDate {
			// A date UNTIL includes that whole day.
			r.until = r.until.Add(24*time.Hour - time.Second)
		}
	}
	count := 0
	if countValue != "" {
		count, err = strconv.Atoi(countValue)
		if err != nil || count < 1 {
			return nil, fmt.Errorf("%q: COUNT must be a positive number", value)
		}
		count = min(count, maxCount)
	}
	if r.opt.Freq > rrule.DAILY {
		return nil, nil
	}
	r.fillDefaults(start.wall)
	if len(r.opt.Byhour)*len(r.opt.Byminute)*len(r.opt.Bysecond) > maxTimesPerDay {
		return nil, nil
	}
	if !r.possible(start.wall) {
		r.never = true
		return r, nil
	}
	if count > 0 {
		r.last = r.countLast(start.wall, count)
	}
	return r, nil
}

// fillDefaults writes out the parts rrule-go derives from DTSTART (see
// buildRRule in rrule-go), from the written wall clock: a DTSTART in a DST
// gap, which Go moves forward, keeps its written hour on other days.
func (r *rule) fillDefaults(wall time.Time) {
	o := &r.opt
	if len(o.Byweekno) == 0 && len(o.Byyearday) == 0 && len(o.Bymonthday) == 0 &&
		len(o.Byweekday) == 0 && len(o.Byeaster) == 0 {
		switch o.Freq {
		case rrule.YEARLY:
			if len(o.Bymonth) == 0 {
				o.Bymonth = []int{int(wall.Month())}
			}
			o.Bymonthday = []int{wall.Day()}
		case rrule.MONTHLY:
			o.Bymonthday = []int{wall.Day()}
		case rrule.WEEKLY:
			o.Byweekday = []rrule.Weekday{weekdays[wall.Weekday()]}
		}
	}
	if len(o.Byhour) == 0 {
		o.Byhour = []int{wall.Hour()}
	}
	if len(o.Byminute) == 0 {
		o.Byminute = []int{wall.Minute()}
	}
	if len(o.Bysecond) == 0 {
		o.Bysecond = []int{wall.Second()}
	}
}

var weekdays = [...]rrule.Weekday{rrule.SU, rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA}

// possible reports whether the rule has any occurrence. rrule-go looks for
// the next match until year 9999, which for a rule that never matches is
// millions of empty days on every expansion.
func (r *rule) possible(wall time.Time) bool {
	opt := r.opt
	opt.Dtstart = fastForward(opt.Freq, opt.Interval, wall, probeFrom)
	opt.Until = endOfTime
	found := false
	iterate(opt, func(time.Time) bool {
		found = true
		return false
	})
	return found
}

// countLast returns the wall clock of the count-th occurrence (or of the
// last one, if fewer). Occurrences follow the wall clock, so counting in UTC
// gives the same one as counting in any zone.
func (r *rule) countLast(wall time.Time, count int) time.Time {
	opt := r.opt
	opt.Dtstart, opt.Count, opt.Until = wall, count, endOfTime
	last := wall
	iterate(opt, func(t time.Time) bool {
		last = t
		return true
	})
	return last
}

// expand appends to dst the occurrences that start in [lower, to), at most
// maxOccurrences, in order, for a series whose DTSTART is start (in the
// series' zone).
func (r *rule) expand(dst []time.Time, start, lower, to time.Time) []time.Time {
	if r.never {
		return dst
	}
	zone := start.Location()
	until := to
	if !r.until.IsZero() {
		u := r.until
		if !r.untilUTC {
			u = atWall(u, zone)
		}
		until = minTime(until, u)
	}
	if !r.last.IsZero() {
		until = minTime(until, atWall(r.last, zone))
	}
	if until.Before(start) {
		return dst
	}
	opt := r.opt
	opt.Dtstart = fastForward(opt.Freq, opt.Interval, start, lower)
	opt.Until = until
	var prev time.Time
	n := 0
	iterate(opt, func(t time.Time) bool {
		if !t.Before(to) {
			return false
		}
		if !t.Before(lower) && !t.Equal(prev) {
			dst = append(dst, t)
			prev = t
			n++
		}
		return n < maxOccurrences
	})
	return dst
}

// iterate runs rrule-go on opt, passing each occurrence to yield until it
// returns false. It builds a fresh RRule each time, as rrule-go writes to
// an RRule while iterating it. rrule-go can index past its tables on rules
// it validated itself; such a panic, which touches no state of ours, ends
// the iteration instead of the PBX.
func iterate(opt rrule.ROption, yield func(time.Time) bool) {
	defer func() { _ = recover() }()
	rr, err := rrule.NewRRule(opt)
	if err != nil {
		return
	}
	next := rr.Iterator()
	for t, ok := next(); ok && yield(t); t, ok = next() {
	}
}

// fastForward moves a series' start forward by whole intervals, to the
// beginning of the period (day, week, month, year) before lower, so that
// rrule-go, which walks from DTSTART, does not walk years of past meetings.
// Moving by whole intervals keeps the rule's alignment; the defaults
// rrule-go takes from DTSTART are already written out by fillDefaults.
//
// Monthly and yearly periods are restarted on their first day, where
// rrule-go sees the whole period (BYSETPOS counts in it). A weekly period
// is seen from DTSTART's weekday only, so a week can lose instances or,
// with BYSETPOS, count differently: it is moved to a week wholly before
// lower's. The times of day dropped on the first day are before lower,
// which is two days before any window.
func fastForward(freq rrule.Frequency, interval int, start, lower time.Time) time.Time {
	interval = max(interval, 1)
	loc := start.Location()
	lw := lower.In(loc)
	if !lw.After(start) {
		return start
	}
	y, m, d := start.Date()
	h, mi, s := start.Clock()
	switch freq {
	case rrule.DAILY:
		if k := civilDays(start, lw) / interval; k > 0 {
			return time.Date(y, m, d+k*interval, h, mi, s, 0, loc)
		}
	case rrule.WEEKLY:
		period := 7 * interval
		if k := civilDays(start, lw)/period - 1; k > 0 {
			return time.Date(y, m, d+k*period, h, mi, s, 0, loc)
		}
	case rrule.MONTHLY:
		months := (lw.Year()-y)*12 + int(lw.Month()) - int(m)
		if k := months / interval; k > 0 {
			return time.Date(y, m+time.Month(k*interval), 1, h, mi, s, 0, loc)
		}
	case rrule.YEARLY:
		if k := (lw.Year() - y) / interval; k > 0 {
			return time.Date(y+k*interval, 1, 1, h, mi, s, 0, loc)
		}
	}
	return start
}

// civilDays counts the calendar days from a's date to b's date, each in its
// own zone.
func civilDays(a, b time.Time) int {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	// Unix seconds, not Sub: a time.Duration saturates after 292 years.
	da := time.Date(ay, am, ad, 0, 0, 0, 0, time.UTC).Unix()
	db := time.Date(by, bm, bd, 0, 0, 0, 0, time.UTC).Unix()
	return int((db - da) / 86400)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
