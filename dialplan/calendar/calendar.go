package calendar

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/centralino/centralino/dialplan"
	"github.com/emersion/go-ical"
)

// Calendar is a parsed iCalendar object, immutable, safe for concurrent use.
type Calendar struct {
	events []*event // in file order; overrides are events too
}

// Parse reads an iCalendar object (RFC 5545), as exported or served by
// Google Calendar, Outlook/Exchange, Apple Calendar or Nextcloud, with CRLF
// or LF line ends, folded lines and an optional BOM. Errors name the line
// ("line 12: DTSTART: …"). A malformed line, an unclosed component, or an
// event whose DTSTART, DTEND, DURATION, RRULE, RDATE, EXDATE or
// RECURRENCE-ID cannot be read fails the whole parse: a calendar read in
// part would let calls ring through meetings unnoticed. Time zones are
// applied by Busy, so one parse serves any tenant's zone.
func Parse(data []byte) (*Calendar, error) {
	text, lines, err := scan(data)
	if err != nil {
		return nil, err
	}
	z := newZones()
	var comps []*ical.Component
	dec := ical.NewDecoder(bytes.NewReader(text))
	for {
		cal, err := dec.Decode()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// scan has checked what go-ical checks; this is a safety net.
			return nil, fmt.Errorf("parse: %w", err)
		}
		for _, child := range cal.Children {
			switch child.Name {
			case ical.CompTimezone:
				tzid, lic := child.Props.Get(ical.PropTimezoneID), child.Props.Get("X-LIC-LOCATION")
				if tzid != nil && lic != nil {
					z.licLocation[strings.TrimSpace(tzid.Value)] = lic.Value
				}
			case ical.CompEvent:
				comps = append(comps, child)
			}
		}
	}
	if len(comps) != len(lines.events) {
		return nil, fmt.Errorf("parse: found %d events, go-ical read %d", len(lines.events), len(comps))
	}

	c := &Calendar{}
	series := map[string][]*event{} // UID → events that overrides may replace instances of
	for i, comp := range comps {
		e, err := parseEvent(comp, lines.events[i], z)
		if err != nil {
			return nil, err
		}
		if e == nil {
			continue
		}
		c.events = append(c.events, e)
		if e.recurrenceID == nil && e.uid != "" {
			series[e.uid] = append(series[e.uid], e)
		}
	}
	for _, e := range c.events {
		if e.recurrenceID == nil {
			continue
		}
		for _, s := range series[e.uid] {
			s.overridden = append(s.overridden, *e.recurrenceID)
		}
	}
	return c, nil
}

// Busy returns the busy periods overlapping [from, to), sorted by start,
// then end. Overlapping periods are kept apart, each with its summary.
// loc is the tenant's zone: used for floating times, all-day events and
// unknown TZIDs; nil means UTC. Returned times are in loc.
//
// One event yields at most 5000 periods per call.
func (c *Calendar) Busy(from, to time.Time, loc *time.Location) []dialplan.Busy {
	if loc == nil {
		loc = time.UTC
	}
	if !from.Before(to) {
		return nil
	}
	var out []dialplan.Busy
	for _, e := range c.events {
		if !e.busy || !e.lo.Before(to) || !e.hi.After(from) {
			continue
		}
		out = e.instances(out, from, to, loc)
	}
	for i := range out {
		out[i].Start, out[i].End = out[i].Start.In(loc), out[i].End.In(loc)
	}
	slices.SortStableFunc(out, func(a, b dialplan.Busy) int {
		if n := a.Start.Compare(b.Start); n != 0 {
			return n
		}
		return a.End.Compare(b.End)
	})
	return out
}
