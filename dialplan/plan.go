package dialplan

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/centralino/centralino/config"
)

// Defaults of actions that left a duration or code out. Loading fills them
// too; the engine repeats them so that a zero never reaches the switchboard.
const (
	defaultForwardTimeout   = 60 * time.Second
	defaultOperatorWait     = 60 * time.Second
	defaultMenuTimeout      = 5 * time.Second
	defaultMenuDigitTimeout = 3 * time.Second
	defaultVoicemailMax     = 120 * time.Second
	defaultHangupCode       = 480
	defaultRingTimeout      = 30 * time.Second
	defaultZone             = "Europe/Rome"
)

// Plan is a tenant's compiled plan: precomputed, immutable, safe for
// concurrent use.
type Plan struct {
	tenant *config.Tenant
	loc    *time.Location

	days [7][]config.TimeRange
	// inDetail[wd][i] explains being open in days[wd][i]; overnight[wd][i]
	// the same for the part after midnight of the previous day's range.
	inDetail, overnight [7][]string
	// outDetail[wd] explains being outside the hours of weekday wd.
	outDetail [7]string

	national bool
	yearly   []yearlyDay
	once     []onceDay
	closures []closure

	vip, blocked    []string
	rejectAnonymous bool

	people map[string]int // person id → index in tenant.People
	rules  []rule

	defaultSteps []Step
	blocked603   []Step
	anonymous433 []Step

	// traceCap bounds the trace of any decision, so Decide allocates it once.
	traceCap int
}

type yearlyDay struct {
	month time.Month
	day   int
	name  string
}

type onceDay struct {
	date date
	name string
}

type closure struct {
	from, to date
	c        *config.Closure
	detail   string // "Ferie (2026-08-01 to 2026-08-31)"
}

type rule struct {
	name  string // Decision.Rule
	label string // trace prefix: `rules[2] "court"`
	conds []cond
	steps []Step
	// notes are trace lines about resolving the steps (a person without a
	// mobile), added when the rule matches.
	notes []TraceLine
	// closureSounds: some step plays the closure's greeting, so the steps
	// are bound to the closure in force at each decision.
	closureSounds bool
}

type condKind uint8

const (
	condOpen condKind = iota
	condHoliday
	condClosure
	condCaller
	condCalled
	condStatus
	condDays
	condTime
)

type cond struct {
	kind   condKind
	check  string
	want   bool             // open, holiday, closure
	class  uint8            // caller: bit set of classBit
	called []string         // called
	person int              // status: index in tenant.People
	states []string         // status
	days   dayMask          // days
	time   config.TimeRange // time
}

// Compile precomputes a tenant's plan. Loading has validated the tenant;
// the errors here are the same mistakes caught again, so that a Tenant
// built in code cannot make Decide misbehave.
func Compile(t *config.Tenant, d Defaults) (*Plan, error) {
	if t == nil {
		return nil, errors.New("compile plan: no tenant")
	}
	p, err := compile(t, d)
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", t.ID, err)
	}
	return p, nil
}

func compile(t *config.Tenant, d Defaults) (*Plan, error) {
	if d.RingTimeout <= 0 {
		d.RingTimeout = defaultRingTimeout
	}
	p := &Plan{tenant: t, people: make(map[string]int, len(t.People))}
	var err error
	if p.loc, err = location(t); err != nil {
		return nil, err
	}
	if p.days, err = hoursDays(t.Hours); err != nil {
		return nil, err
	}
	p.describeHours()
	if err := p.compileHolidays(t.Holidays); err != nil {
		return nil, err
	}
	for i := range t.Closures {
		c, err := compileClosure(&t.Closures[i])
		if err != nil {
			return nil, fmt.Errorf("closures[%d]: %w", i, err)
		}
		p.closures = append(p.closures, c)
	}
	if err := p.compileCallers(t.Callers); err != nil {
		return nil, err
	}
	for i, person := range t.People {
		if _, dup := p.people[person.ID]; dup {
			return nil, fmt.Errorf("people[%d]: duplicate id %q", i, person.ID)
		}
		p.people[person.ID] = i
	}
	rc := resolver{p: p, d: d}
	for i := range t.Rules {
		r, err := rc.rule(i, &t.Rules[i])
		if err != nil {
			return nil, err
		}
		p.rules = append(p.rules, r)
	}
	p.defaultSteps = p.defaultPlan(d)
	p.blocked603 = []Step{{Kind: KindHangup, Hangup: &config.HangupAction{Code: 603}}}
	p.anonymous433 = []Step{{Kind: KindHangup, Hangup: &config.HangupAction{Code: 433}}}
	p.traceCap = p.maxTrace()
	return p, nil
}

func location(t *config.Tenant) (*time.Location, error) {
	if t.Location != nil {
		return t.Location, nil
	}
	zone := t.TimeZone
	if zone == "" {
		zone = defaultZone
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("time_zone %q: %w", zone, err)
	}
	return loc, nil
}

var weekdayShort = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}

// describeHours precomputes the open/closed explanations of the trace.
func (p *Plan) describeHours() {
	for wd, ranges := range p.days {
		next := (wd + 1) % 7
		var list []string
		for _, r := range ranges {
			s := formatRange(r)
			list = append(list, s)
			p.inDetail[wd] = append(p.inDetail[wd], "open — within "+weekdayShort[wd]+" "+s)
			p.overnight[next] = append(p.overnight[next], "open — within "+weekdayShort[wd]+" "+s)
		}
		if len(list) == 0 {
			p.outDetail[wd] = "closed — no opening hours on " + time.Weekday(wd).String()
		} else {
			p.outDetail[wd] = "closed — outside opening hours (" + weekdayShort[wd] + " " + strings.Join(list, ", ") + ")"
		}
	}
}

func (p *Plan) compileHolidays(h config.Holidays) error {
	p.national = h.National == nil || *h.National
	if h.Patron.Date != "" {
		m, d, err := parseMonthDay(h.Patron.Date)
		if err != nil {
			return fmt.Errorf("holidays.patron: %w", err)
		}
		name := h.Patron.Name
		if name == "" {
			name = "Santo patrono (patron saint's day)"
		}
		p.yearly = append(p.yearly, yearlyDay{time.Month(m), d, name})
	}
	for i, x := range h.Extra {
		name := x.Name
		if name == "" {
			name = "Festività (holiday)"
		}
		if len(x.Date) == len("MM-DD") {
			m, d, err := parseMonthDay(x.Date)
			if err != nil {
				return fmt.Errorf("holidays.extra[%d]: %w", i, err)
			}
			p.yearly = append(p.yearly, yearlyDay{time.Month(m), d, name})
			continue
		}
		day, err := parseDate(x.Date)
		if err != nil {
			return fmt.Errorf("holidays.extra[%d]: %w", i, err)
		}
		p.once = append(p.once, onceDay{day, name})
	}
	return nil
}

func compileClosure(c *config.Closure) (closure, error) {
	from, err := parseDate(c.From)
	if err != nil {
		return closure{}, fmt.Errorf("from: %w", err)
	}
	to := from
	if c.To != "" {
		if to, err = parseDate(c.To); err != nil {
			return closure{}, fmt.Errorf("to: %w", err)
		}
	}
	if to < from {
		return closure{}, fmt.Errorf("to %s is before from %s", c.To, c.From)
	}
	name := c.Name
	if name == "" {
		name = "closure"
	}
	return closure{from: from, to: to, c: c, detail: fmt.Sprintf("%s (%s to %s)", name, from, to)}, nil
}

func (p *Plan) compileCallers(c config.Callers) error {
	for i, pat := range c.VIP {
		if _, err := path.Match(pat, ""); err != nil {
			return fmt.Errorf("callers.vip[%d]: pattern %q: %w", i, pat, err)
		}
	}
	for i, pat := range c.Blocked {
		if _, err := path.Match(pat, ""); err != nil {
			return fmt.Errorf("callers.blocked[%d]: pattern %q: %w", i, pat, err)
		}
	}
	switch c.Anonymous {
	case "", config.AnonymousAllow:
	case config.AnonymousReject:
		p.rejectAnonymous = true
	default:
		return fmt.Errorf("callers.anonymous %q: want allow or reject", c.Anonymous)
	}
	p.vip, p.blocked = c.VIP, c.Blocked
	return nil
}

// defaultPlan rings every extension of the tenant, then gives up: what a
// tenant without rules (or whose rules all fail) gets.
func (p *Plan) defaultPlan(d Defaults) []Step {
	ring := &RingStep{Strategy: config.RingParallel, Timeout: d.RingTimeout}
	owner := map[string]string{}
	for _, person := range p.tenant.People {
		for _, ext := range person.Extensions {
			if _, ok := owner[ext]; !ok {
				owner[ext] = person.ID
			}
		}
	}
	for _, ext := range p.tenant.Extensions {
		ring.Targets = appendTarget(ring.Targets, Target{Kind: TargetExtension, Value: ext, Person: owner[ext]})
	}
	for _, person := range p.tenant.People {
		for _, ext := range person.Extensions {
			ring.Targets = appendTarget(ring.Targets, Target{Kind: TargetExtension, Value: ext, Person: person.ID})
		}
	}
	steps := make([]Step, 0, 2)
	if len(ring.Targets) > 0 {
		steps = append(steps, Step{Kind: KindRing, Ring: ring})
	}
	return append(steps, Step{Kind: KindHangup, Hangup: &config.HangupAction{Code: defaultHangupCode}})
}

// appendTarget adds t unless the same phone is already rung.
func appendTarget(ts []Target, t Target) []Target {
	for _, x := range ts {
		if x.Kind == t.Kind && x.Value == t.Value {
			return ts
		}
	}
	return append(ts, t)
}

// maxTrace is the longest trace a decision can write: the day and caller
// lines, every condition and summary of every rule, the notes of one rule
// and a few closure and default lines.
func (p *Plan) maxTrace() int {
	const fixed = 8
	n, notes := fixed, 0
	for _, r := range p.rules {
		n += len(r.conds) + 1
		notes = max(notes, len(r.notes)+countClosureSounds(r.steps))
	}
	return n + notes
}

func countClosureSounds(steps []Step) int {
	n := 0
	for _, s := range steps {
		switch {
		case s.Play != nil && s.Play.Closure:
			n++
		case s.Voicemail != nil && s.Voicemail.Greeting.Closure:
			n++
		case s.Menu != nil:
			if s.Menu.Prompt.Closure {
				n++
			}
			if s.Menu.Invalid.Closure {
				n++
			}
			for _, opt := range s.Menu.Options {
				n += countClosureSounds(opt)
			}
		}
	}
	return n
}

// Tenant returns the tenant the plan was compiled from.
func (p *Plan) Tenant() *config.Tenant { return p.tenant }
