package dialplan

import (
	"slices"
	"time"

	"github.com/centralino/centralino/config"
)

// Names of the built-in decisions.
const (
	RuleBlocked   = "blocked caller"
	RuleAnonymous = "anonymous caller"
	RuleDefault   = "default plan"
)

// Decide picks the steps for a call at now: the blocked and anonymous
// policies first, then the first rule whose conditions all hold, else the
// default plan. It is deterministic and allocates little: the trace's
// texts are precomputed, or computed once per decision and shared.
func (p *Plan) Decide(call Call, st State, now time.Time) Decision {
	dy := p.day(now)
	d := Decision{Tenant: p.tenant.ID, RuleIndex: -1, Day: dy.DayInfo,
		Trace: make([]TraceLine, 0, p.traceCap)}
	d.Trace = append(d.Trace,
		TraceLine{Check: "local time", OK: true, Detail: localTime(dy.Local)},
		TraceLine{Check: "open", OK: dy.Open, Detail: dy.openDetail})
	if dy.Holiday != "" {
		d.Trace = append(d.Trace, TraceLine{Check: "holiday", OK: true, Detail: dy.Holiday})
	}
	if dy.closure != nil {
		d.Trace = append(d.Trace, TraceLine{Check: "closure in force", OK: true, Detail: dy.closure.detail})
	}

	class, detail := p.classify(call.Caller)
	d.Class = class
	d.Trace = append(d.Trace, TraceLine{Check: classDetail(classBit(class)), OK: true, Detail: detail})
	switch {
	case class == config.CallerBlocked:
		d.Rule, d.Steps = RuleBlocked, p.blocked603
		d.Trace = append(d.Trace, TraceLine{Check: RuleBlocked, OK: true, Detail: "refused with 603 Decline before any rule"})
		return d
	case class == config.CallerAnonymous && p.rejectAnonymous:
		d.Rule, d.Steps = RuleAnonymous, p.anonymous433
		d.Trace = append(d.Trace, TraceLine{Check: RuleAnonymous, OK: true, Detail: "callers.anonymous is reject: refused with 433 Anonymity Disallowed"})
		return d
	}

	ev := evaluation{p: p, call: call, st: st, now: now, day: dy, class: classBit(class)}
	if n := len(p.tenant.People); n > len(ev.memo) {
		ev.more = make([]memo, n-len(ev.memo))
	}
	for i := range p.rules {
		r := &p.rules[i]
		matched := true
		for j := range r.conds {
			ok, detail := ev.check(&r.conds[j])
			d.Trace = append(d.Trace, TraceLine{Check: r.conds[j].check, OK: ok, Detail: detail})
			matched = matched && ok
		}
		if !matched {
			d.Trace = append(d.Trace, TraceLine{Check: r.label, Detail: "not matched"})
			continue
		}
		summary := "matched"
		if len(r.conds) == 0 {
			summary = "matched: no conditions"
		}
		d.Trace = append(d.Trace, TraceLine{Check: r.label, OK: true, Detail: summary})
		d.Trace = append(d.Trace, r.notes...)
		d.Rule, d.RuleIndex, d.Steps = r.name, i, r.steps
		if r.closureSounds {
			d.Steps = bindClosure(r.steps, dy.Closure, r.label, &d.Trace)
		}
		return d
	}
	detail = "no rule matched: ring all extensions, then hang up with 480"
	if len(p.rules) == 0 {
		detail = "no rules: ring all extensions, then hang up with 480"
	}
	d.Trace = append(d.Trace, TraceLine{Check: RuleDefault, OK: true, Detail: detail})
	d.Rule, d.Steps = RuleDefault, p.defaultSteps
	return d
}

// memo is a person's effective status, computed at most once per decision
// however many rules ask.
type memo struct {
	done   bool
	state  string
	detail string
}

// evaluation is the state of one decision, kept on the stack.
type evaluation struct {
	p      *Plan
	call   Call
	st     State
	now    time.Time
	day    day
	class  uint8
	clock  string // "10:30", when a time condition needs it
	called string // "dialled +39...", when a called condition needs it
	// Statuses by person index: memo for the first people, more for the
	// rest. No pointer into the struct itself, so that it stays on the
	// stack.
	memo [8]memo
	more []memo
}

func (ev *evaluation) status(i int) *memo {
	if i < len(ev.memo) {
		return &ev.memo[i]
	}
	return &ev.more[i-len(ev.memo)]
}

var weekdayDetail = [7]string{"today is Sunday", "today is Monday", "today is Tuesday",
	"today is Wednesday", "today is Thursday", "today is Friday", "today is Saturday"}

func classDetail(bit uint8) string {
	switch bit {
	case bitVIP:
		return "caller is vip"
	case bitBlocked:
		return "caller is blocked"
	case bitAnonymous:
		return "caller is anonymous"
	}
	return "caller is other"
}

func (ev *evaluation) check(c *cond) (bool, string) {
	dy := &ev.day
	switch c.kind {
	case condOpen:
		return dy.Open == c.want, dy.openDetail
	case condHoliday:
		if dy.Holiday == "" {
			return !c.want, "no holiday today"
		}
		return c.want, dy.Holiday
	case condClosure:
		if dy.closure == nil {
			return !c.want, "no closure today"
		}
		return c.want, dy.closure.detail
	case condCaller:
		return c.class&ev.class != 0, classDetail(ev.class)
	case condCalled:
		if ev.called == "" {
			ev.called = "dialled " + ev.call.Called
		}
		return slices.Contains(c.called, ev.call.Called), ev.called
	case condStatus:
		m := ev.status(c.person)
		if !m.done {
			m.state, m.detail = ev.p.statusDetail(ev.p.tenant.People[c.person].ID, ev.st, ev.now)
			m.done = true
		}
		return slices.Contains(c.states, m.state), m.detail
	case condDays:
		return c.days&(1<<dy.weekday) != 0, weekdayDetail[dy.weekday]
	case condTime:
		if ev.clock == "" {
			var buf [16]byte
			ev.clock = string(dy.Local.AppendFormat(append(buf[:0], "local time "...), "15:04"))
		}
		return inRange(c.time, dy.minute), ev.clock
	}
	return false, "unknown condition"
}

// bindClosure copies steps with the closure's greeting in place of
// `closure: true`. A play without a greeting to play is dropped; a
// voicemail or menu falls back to its built-in prompt.
func bindClosure(steps []Step, cl *config.Closure, label string, trace *[]TraceLine) []Step {
	var greeting *config.Sound
	why := "no closure in force"
	if cl != nil {
		if cl.Greeting.File != "" || cl.Greeting.Say != "" {
			greeting = &cl.Greeting
		} else {
			why = "closure " + quote(cl.Name) + " has no greeting"
		}
	}
	sound := func(s config.Sound, what string) config.Sound {
		if !s.Closure {
			return s
		}
		if greeting == nil {
			*trace = append(*trace, TraceLine{Check: label + ": " + what + " closure greeting", Detail: why + ", built-in prompt"})
			return config.Sound{}
		}
		*trace = append(*trace, TraceLine{Check: label + ": " + what + " closure greeting", OK: true, Detail: soundName(*greeting)})
		return *greeting
	}
	out := make([]Step, 0, len(steps))
	for _, s := range steps {
		switch {
		case s.Play != nil && s.Play.Closure:
			if greeting == nil {
				*trace = append(*trace, TraceLine{Check: label + ": play closure greeting", Detail: why + ", skipped"})
				continue
			}
			*trace = append(*trace, TraceLine{Check: label + ": play closure greeting", OK: true, Detail: soundName(*greeting)})
			s.Play = greeting
		case s.Voicemail != nil && s.Voicemail.Greeting.Closure:
			v := *s.Voicemail
			v.Greeting = sound(v.Greeting, "voicemail")
			s.Voicemail = &v
		case s.Menu != nil && countClosureSounds([]Step{s}) > 0:
			m := *s.Menu
			m.Prompt = sound(m.Prompt, "menu prompt")
			m.Invalid = sound(m.Invalid, "menu invalid")
			m.Options = make(map[string][]Step, len(s.Menu.Options))
			for _, k := range sortedKeys(s.Menu.Options) {
				m.Options[k] = bindClosure(s.Menu.Options[k], cl, label, trace)
			}
			s.Menu = &m
		}
		out = append(out, s)
	}
	return out
}

func soundName(s config.Sound) string {
	if s.File != "" {
		return s.File
	}
	return "say " + quote(s.Say)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func localTime(t time.Time) string {
	var buf [32]byte
	return string(t.AppendFormat(buf[:0], "Mon 2006-01-02 15:04 MST"))
}
