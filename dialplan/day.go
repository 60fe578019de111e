package dialplan

import (
	"time"

	"github.com/centralino/centralino/config"
)

// day is DayInfo plus what the trace says about it.
type day struct {
	DayInfo
	minute     int // minutes after local midnight, wall clock
	weekday    time.Weekday
	openDetail string
	closure    *closure
}

// DayInfo reports what now is in the tenant's zone: open or not, and the
// holiday or closure in force.
func (p *Plan) DayInfo(now time.Time) DayInfo {
	return p.day(now).DayInfo
}

func (p *Plan) day(now time.Time) day {
	local := now.In(p.loc)
	y, m, d := local.Date()
	// Wall-clock minutes: on the days the clocks change, 08:30 is still
	// 08:30, whatever the offset.
	dy := day{DayInfo: DayInfo{Local: local}, minute: local.Hour()*60 + local.Minute(), weekday: local.Weekday()}
	dy.Holiday = p.holiday(y, m, d)
	today := makeDate(y, int(m), d)
	for i := range p.closures {
		if c := &p.closures[i]; c.from <= today && today <= c.to {
			dy.closure, dy.Closure = c, c.c
			break
		}
	}
	dy.InHours, dy.openDetail = p.inHours(dy.weekday, dy.minute)
	dy.Open = dy.InHours && dy.Holiday == "" && dy.Closure == nil
	switch {
	case dy.Holiday != "":
		dy.openDetail = "closed — " + dy.Holiday
	case dy.Closure != nil:
		dy.openDetail = "closed — " + dy.closure.detail
	}
	return dy
}

// holiday names the holiday on a local date, national ones first.
func (p *Plan) holiday(y int, m time.Month, d int) string {
	if p.national {
		if name := nationalHoliday(y, m, d); name != "" {
			return name
		}
	}
	for _, h := range p.yearly {
		if h.month == m && h.day == d {
			return h.name
		}
	}
	if len(p.once) > 0 {
		today := makeDate(y, int(m), d)
		for _, h := range p.once {
			if h.date == today {
				return h.name
			}
		}
	}
	return ""
}

// inHours reports whether minute of weekday wd is within the opening
// hours: a range of today, or the after-midnight part of a range of
// yesterday that crosses midnight.
func (p *Plan) inHours(wd time.Weekday, minute int) (bool, string) {
	for i, r := range p.days[wd] {
		// The part after midnight of a crossing range belongs to tomorrow.
		if r.End > r.Start && inRange(r, minute) || r.End <= r.Start && minute >= r.Start {
			return true, p.inDetail[wd][i]
		}
	}
	yesterday := (wd + 6) % 7
	for i, r := range p.days[yesterday] {
		if r.End <= r.Start && minute < r.End {
			return true, p.overnight[wd][i]
		}
	}
	return false, p.outDetail[wd]
}

// inRange reports whether minute is within r, which may cross midnight.
func inRange(r config.TimeRange, minute int) bool {
	if r.End > r.Start {
		return r.Start <= minute && minute < r.End
	}
	return minute >= r.Start || minute < r.End
}
