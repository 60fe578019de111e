package calendar

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/centralino/centralino/dialplan"
	"github.com/emersion/go-ical"
)

// zoneSlack exceeds any distance between a wall clock and the instant it
// denotes (UTC offsets span -12 h to +14 h), so bounds computed on wall
// clocks hold in every zone.
const zoneSlack = 26 * time.Hour

// event is a VEVENT: a series (with RRULE or RDATE), a single event, or an
// override of one instance of a series (with RECURRENCE-ID).
type event struct {
	uid     string
	summary string
	busy    bool // false for TRANSP:TRANSPARENT, STATUS:CANCELLED, Outlook's "free"

	start  dateTime
	end    dateTime // DTEND, when hasEnd
	hasEnd bool
	dur    duration // DURATION, when hasDur
	hasDur bool

	recurrenceID *dateTime // set on overrides
	rule         *rule
	rdates       []rdate
	exdates      []dateTime
	overridden   []dateTime // RECURRENCE-IDs of this series' overrides, which replace those instances

	// lo and hi bound, in any zone, when the event can be busy, so Busy
	// skips old and future events without expanding them.
	lo, hi time.Time
}

// rdate is one RDATE value: an extra start, or a PERIOD with its own end.
type rdate struct {
	start  dateTime
	end    dateTime // PERIOD start/end, when hasEnd
	hasEnd bool
	dur    duration // PERIOD start/duration, when hasDur
	hasDur bool
}

// parseEvent reads a VEVENT. It returns nil, without error, for an event
// with no DTSTART, which has no time to be busy at.
func parseEvent(comp *ical.Component, lines eventLines, z *zones) (*event, error) {
	fail := func(name string, i int, err error) error {
		return fmt.Errorf("line %d: %s: %w", lines.line(name, i), name, err)
	}
	p := comp.Props
	startProp := p.Get(ical.PropDateTimeStart)
	if startProp == nil {
		return nil, nil
	}
	e := &event{busy: true}
	if uid := p.Get(ical.PropUID); uid != nil {
		e.uid = strings.TrimSpace(uid.Value)
	}
	if s := p.Get(ical.PropSummary); s != nil {
		e.summary = strings.TrimSpace(unescapeText(s.Value))
	}
	if propIs(p, ical.PropStatus, "CANCELLED") || propIs(p, ical.PropTransparency, "TRANSPARENT") ||
		propIs(p, "X-MICROSOFT-CDO-BUSYSTATUS", "FREE") {
		e.busy = false
	}

	var err error
	if e.start, err = z.dateTime(startProp); err != nil {
		return nil, fail(ical.PropDateTimeStart, 0, err)
	}
	if q := p.Get(ical.PropDateTimeEnd); q != nil {
		if e.end, err = z.dateTime(q); err != nil {
			return nil, fail(ical.PropDateTimeEnd, 0, err)
		}
		e.hasEnd = true
	} else if q := p.Get(ical.PropDuration); q != nil {
		if e.dur, err = parseDuration(q.Value); err != nil {
			return nil, fail(ical.PropDuration, 0, err)
		}
		e.hasDur = true
	}

	if q := p.Get(ical.PropRecurrenceID); q != nil {
		rid, err := z.dateTime(q)
		if err != nil {
			return nil, fail(ical.PropRecurrenceID, 0, err)
		}
		// An override is one instance; RANGE=THISANDFUTURE is not supported.
		e.recurrenceID = &rid
	} else {
		if q := p.Get(ical.PropRecurrenceRule); q != nil {
			if e.rule, err = parseRule(q.Value, e.start); err != nil {
				return nil, fail(ical.PropRecurrenceRule, 0, err)
			}
		}
		for i, q := range p.Values(ical.PropRecurrenceDates) {
			rds, err := z.rdates(&q)
			if err != nil {
				return nil, fail(ical.PropRecurrenceDates, i, err)
			}
			e.rdates = append(e.rdates, rds...)
		}
		for i, q := range p.Values(ical.PropExceptionDates) {
			xs, err := z.dateTimes(&q)
			if err != nil {
				return nil, fail(ical.PropExceptionDates, i, err)
			}
			e.exdates = append(e.exdates, xs...)
		}
	}
	e.lo, e.hi = e.bounds()
	return e, nil
}

// propIs reports whether property name has the given value, ignoring case.
func propIs(p ical.Props, name, value string) bool {
	q := p.Get(name)
	return q != nil && strings.EqualFold(strings.TrimSpace(q.Value), value)
}

// dateTime reads a DATE or DATE-TIME property with a single value.
func (z *zones) dateTime(p *ical.Prop) (dateTime, error) {
	dateOnly, zone := z.valueParams(p)
	return parseDateTime(p.Value, dateOnly, zone)
}

// dateTimes reads an EXDATE-like property: a comma-separated list.
// go-ical's Prop.DateTime fails on lists, which Outlook and Google write.
func (z *zones) dateTimes(p *ical.Prop) ([]dateTime, error) {
	dateOnly, zone := z.valueParams(p)
	var out []dateTime
	for _, v := range strings.Split(p.Value, ",") {
		d, err := parseDateTime(v, dateOnly, zone)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// rdates reads an RDATE: a list of dates, date-times or periods
// ("start/end", "start/duration").
func (z *zones) rdates(p *ical.Prop) ([]rdate, error) {
	dateOnly, zone := z.valueParams(p)
	var out []rdate
	for _, v := range strings.Split(p.Value, ",") {
		startValue, endValue, isPeriod := strings.Cut(v, "/")
		var r rdate
		var err error
		if r.start, err = parseDateTime(startValue, dateOnly && !isPeriod, zone); err != nil {
			return nil, err
		}
		if isPeriod {
			if e := strings.TrimSpace(endValue); strings.HasPrefix(e, "P") || strings.HasPrefix(e, "+P") || strings.HasPrefix(e, "-P") {
				r.dur, err = parseDuration(e)
				r.hasDur = true
			} else {
				r.end, err = parseDateTime(e, false, zone)
				r.hasEnd = true
			}
			if err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// valueParams reads VALUE=DATE and TZID. go-ical's Prop.DateTime would
// call time.LoadLocation on every value and fail on Outlook's Windows names.
func (z *zones) valueParams(p *ical.Prop) (dateOnly bool, zone *time.Location) {
	dateOnly = strings.EqualFold(p.Params.Get(ical.ParamValue), string(ical.ValueDate))
	if tzid := p.Params.Get(ical.PropTimezoneID); tzid != "" {
		zone = z.lookup(tzid)
	}
	return dateOnly, zone
}

// endAt returns the end of the instance starting at s, for a series whose
// first start, in the tenant's zone loc, is s0. An event with a DTEND lasts
// the same exact time each instance (RFC 5545 section 3.8.5.3), except
// all-day events, which last whole days; a DURATION adds nominal days.
func (e *event) endAt(s, s0 time.Time, loc *time.Location) time.Time {
	switch {
	case e.hasEnd && e.start.kind == kindDate && e.end.kind == kindDate:
		return addDays(s, civilDays(e.start.wall, e.end.wall))
	case e.hasEnd:
		return s.Add(e.end.in(loc).Sub(s0))
	case e.hasDur:
		return e.dur.after(s)
	case e.start.kind == kindDate:
		return addDays(s, 1)
	}
	return s // an instant: never busy
}

// instances appends the event's busy periods overlapping [from, to) in
// loc: DTSTART (RFC 5545 counts it as the first instance even when the
// rule would not produce it), the rule's occurrences and the RDATEs, less
// the EXDATEs and the instances its overrides replace.
func (e *event) instances(out []dialplan.Busy, from, to time.Time, loc *time.Location) []dialplan.Busy {
	zone := e.start.location(loc)
	s0 := e.start.in(loc)
	first := e.endAt(s0, s0, loc)
	// Instances starting before lower cannot reach from; the margin covers
	// days that DST makes 25 hours long.
	lower := from.Add(-max(first.Sub(s0), 0) - 48*time.Hour)

	add := func(s, end time.Time) {
		if s.Before(to) && end.After(from) && end.After(s) && !e.excluded(s, zone) {
			out = append(out, dialplan.Busy{Start: s, End: end, Summary: e.summary})
		}
	}
	add(s0, first)
	var starts []time.Time
	if e.rule != nil {
		starts = e.rule.expand(nil, s0, lower, to)
		for _, s := range starts {
			if !s.Equal(s0) {
				add(s, e.endAt(s, s0, loc))
			}
		}
	}
	var seen []time.Time // RDATEs added, as a value may repeat one before it
	for _, r := range e.rdates {
		s := r.start.in(zone)
		var end time.Time
		switch {
		case r.hasEnd:
			end = r.end.in(zone)
		case r.hasDur:
			end = r.dur.after(s)
		default:
			end = e.endAt(s, s0, loc)
		}
		if !s.Before(to) || !end.After(from) || s.Equal(s0) || containsTime(starts, s) || slices.ContainsFunc(seen, s.Equal) {
			continue
		}
		seen = append(seen, s)
		add(s, end)
	}
	return out
}

// excluded reports whether the instance starting at s is an EXDATE or is
// replaced by an override. Floating values are read in the series' zone;
// a DATE matches every instance on that day.
func (e *event) excluded(s time.Time, zone *time.Location) bool {
	match := func(x dateTime) bool {
		if x.kind == kindDate {
			y, m, d := s.In(zone).Date()
			xy, xm, xd := x.wall.Date()
			return y == xy && m == xm && d == xd
		}
		return x.in(zone).Equal(s)
	}
	return slices.ContainsFunc(e.exdates, match) || slices.ContainsFunc(e.overridden, match)
}

// containsTime reports whether sorted ts holds t.
func containsTime(ts []time.Time, t time.Time) bool {
	_, found := slices.BinarySearchFunc(ts, t, time.Time.Compare)
	return found
}

// bounds returns instants before and after which the event is never busy,
// whatever the tenant's zone.
func (e *event) bounds() (lo, hi time.Time) {
	longest := time.Duration(0)
	switch {
	case e.hasEnd:
		longest = max(e.end.wall.Sub(e.start.wall), 0)
	case e.hasDur:
		longest = max(time.Duration(e.dur.days)*24*time.Hour+e.dur.exact, 0)
	case e.start.kind == kindDate:
		longest = 24 * time.Hour
	}
	// A nominal day can last 25 hours, and DTSTART and DTEND may be
	// written in different zones. The cap keeps the sums from overflowing.
	longest = min(longest, 200*365*24*time.Hour)
	longest += longest/23 + zoneSlack

	lo, hi = e.start.wall, e.start.wall.Add(longest)
	if e.rule != nil && !e.rule.never {
		last := endOfTime
		if !e.rule.last.IsZero() {
			last = e.rule.last
		}
		if !e.rule.until.IsZero() {
			last = minTime(last, e.rule.until)
		}
		hi = maxTime(hi, last.Add(longest))
	}
	for _, r := range e.rdates {
		end := r.start.wall.Add(longest)
		switch {
		case r.hasEnd:
			end = r.end.wall
		case r.hasDur:
			end = r.start.wall.Add(time.Duration(r.dur.days)*25*time.Hour + r.dur.exact)
		}
		lo = minTime(lo, r.start.wall)
		hi = maxTime(hi, end)
	}
	return lo.Add(-zoneSlack), hi.Add(zoneSlack)
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
