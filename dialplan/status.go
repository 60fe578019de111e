package dialplan

import (
	"sort"
	"time"

	"github.com/centralino/centralino/config"
)

// EffectiveStatus is a person's status at now, and why ("manual until
// 15:00", "calendar: Udienza 09:00-13:00", "default"):
//   - a manual status other than available that has not expired wins;
//   - a manual available with an Until still ahead overrides the calendar;
//   - else a calendar busy period containing now makes them meeting;
//   - else they are available.
//
// An unknown person has the state "".
func (p *Plan) EffectiveStatus(person string, st State, now time.Time) (state, why string) {
	if _, ok := p.people[person]; !ok {
		return "", "unknown person"
	}
	state, r := p.status(person, st, now)
	if r.from == fromDefault {
		return state, "default"
	}
	var buf [128]byte
	return state, string(p.appendReason(buf[:0], r, now))
}

// statusDetail is the trace's "meeting — calendar: Udienza 09:00-13:00",
// built with a single allocation.
func (p *Plan) statusDetail(person string, st State, now time.Time) (state, detail string) {
	state, r := p.status(person, st, now)
	if r.from == fromDefault {
		return state, "available — default"
	}
	var buf [160]byte
	b := append(buf[:0], state...)
	b = append(b, " — "...)
	return state, string(p.appendReason(b, r, now))
}

const (
	fromDefault = iota
	fromManual
	fromCalendar
)

// reason is where a status comes from, kept apart from its text so that
// the text is written once, where it is needed.
type reason struct {
	from   int
	manual Status
	busy   *Busy
}

func (p *Plan) status(person string, st State, now time.Time) (string, reason) {
	if s, ok := st.Statuses[person]; ok && s.State != "" {
		live := s.Until.IsZero() || s.Until.After(now)
		switch {
		case s.State != config.StatusAvailable && live,
			s.State == config.StatusAvailable && live && !s.Until.IsZero():
			return s.State, reason{from: fromManual, manual: s}
		}
	}
	if b, ok := busyAt(st.Busy[person], now); ok {
		return config.StatusMeeting, reason{from: fromCalendar, busy: b}
	}
	return config.StatusAvailable, reason{from: fromDefault}
}

func (p *Plan) appendReason(b []byte, r reason, now time.Time) []byte {
	switch r.from {
	case fromManual:
		b = append(b, "manual"...)
		if !r.manual.Until.IsZero() {
			b = append(b, " until "...)
			b = p.appendClock(b, r.manual.Until, now)
		}
		if r.manual.Note != "" {
			b = append(b, " ("...)
			b = append(b, r.manual.Note...)
			b = append(b, ')')
		}
	case fromCalendar:
		b = append(b, "calendar: "...)
		if r.busy.Summary == "" {
			b = append(b, "busy"...)
		} else {
			b = append(b, r.busy.Summary...)
		}
		b = append(b, ' ')
		b = p.appendClock(b, r.busy.Start, now)
		b = append(b, '-')
		b = p.appendClock(b, r.busy.End, now)
	default:
		b = append(b, "default"...)
	}
	return b
}

// appendClock writes t in the tenant's zone, with the date only when it is
// not the day of now.
func (p *Plan) appendClock(b []byte, t, now time.Time) []byte {
	lt := t.In(p.loc)
	y1, m1, d1 := lt.Date()
	if y2, m2, d2 := now.In(p.loc).Date(); y1 == y2 && m1 == m2 && d1 == d2 {
		return lt.AppendFormat(b, "15:04")
	}
	return lt.AppendFormat(b, "2006-01-02 15:04")
}

// busyAt finds a period containing now in periods sorted by Start. Binary
// search skips the periods that start later; the walk back stops at the
// first period that contains now, so its cost is the number of periods
// that started earlier and have ended (none, when the calendar merges
// overlapping periods and drops the past).
func busyAt(periods []Busy, now time.Time) (*Busy, bool) {
	i := sort.Search(len(periods), func(i int) bool { return periods[i].Start.After(now) })
	for j := i - 1; j >= 0; j-- {
		if periods[j].End.After(now) {
			return &periods[j], true
		}
	}
	return nil, false
}
