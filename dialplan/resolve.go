package dialplan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/centralino/centralino/config"
)

// resolver turns a rule's YAML into conditions and steps.
type resolver struct {
	p *Plan
	d Defaults
}

func (rc resolver) rule(i int, r *config.Rule) (rule, error) {
	where := fmt.Sprintf("rules[%d]", i)
	out := rule{name: r.Name, label: where}
	if r.Name == "" {
		out.name = where
	} else {
		out.label = fmt.Sprintf("%s %q", where, r.Name)
	}
	conds, err := rc.conditions(out.label, r.When)
	if err != nil {
		return rule{}, fmt.Errorf("%s.when: %w", where, err)
	}
	out.conds = conds
	steps, notes, err := rc.steps(where+".do", r.Do)
	if err != nil {
		return rule{}, err
	}
	out.steps, out.notes = steps, notes
	out.closureSounds = countClosureSounds(steps) > 0
	return out, nil
}

// Caller classes as bits, for a condition's set.
const (
	bitVIP uint8 = 1 << iota
	bitBlocked
	bitAnonymous
	bitOther
)

func classBit(class string) uint8 {
	switch class {
	case config.CallerVIP:
		return bitVIP
	case config.CallerBlocked:
		return bitBlocked
	case config.CallerAnonymous:
		return bitAnonymous
	case config.CallerOther:
		return bitOther
	}
	return 0
}

var validStates = []string{config.StatusAvailable, config.StatusMeeting, config.StatusAway, config.StatusDND}

func onOff(want bool, yes, no string) string {
	if want {
		return yes
	}
	return no
}

// conditions compiles `when` in a fixed order, the order the trace shows.
func (rc resolver) conditions(label string, w config.Conditions) ([]cond, error) {
	var out []cond
	if w.Open != nil {
		out = append(out, cond{kind: condOpen, want: *w.Open, check: label + ": " + onOff(*w.Open, "open", "not open")})
	}
	if w.Holiday != nil {
		out = append(out, cond{kind: condHoliday, want: *w.Holiday, check: label + ": " + onOff(*w.Holiday, "holiday", "not a holiday")})
	}
	if w.Closure != nil {
		out = append(out, cond{kind: condClosure, want: *w.Closure, check: label + ": " + onOff(*w.Closure, "closure in force", "no closure in force")})
	}
	if len(w.Caller) > 0 {
		c := cond{kind: condCaller, check: label + ": caller in [" + strings.Join(w.Caller, ", ") + "]"}
		for _, class := range w.Caller {
			bit := classBit(class)
			if bit == 0 {
				return nil, fmt.Errorf("caller %q: want vip, blocked, anonymous or other", class)
			}
			c.class |= bit
		}
		out = append(out, c)
	}
	if len(w.Called) > 0 {
		out = append(out, cond{kind: condCalled, called: w.Called, check: label + ": called in [" + strings.Join(w.Called, ", ") + "]"})
	}
	// Map order is random; the trace must not be.
	for _, id := range sortedKeys(w.Status) {
		idx, ok := rc.p.people[id]
		if !ok {
			return nil, fmt.Errorf("status: unknown person %q", id)
		}
		states := w.Status[id]
		for _, s := range states {
			if !slices.Contains(validStates, s) {
				return nil, fmt.Errorf("status.%s: unknown state %q: want available, meeting, away or dnd", id, s)
			}
		}
		out = append(out, cond{kind: condStatus, person: idx, states: states,
			check: label + ": " + id + " in [" + strings.Join(states, ", ") + "]"})
	}
	if len(w.Days) > 0 {
		mask, err := parseDays(w.Days)
		if err != nil {
			return nil, fmt.Errorf("days: %w", err)
		}
		out = append(out, cond{kind: condDays, days: mask, check: label + ": day in [" + strings.Join(w.Days, ", ") + "]"})
	}
	if w.Time != "" {
		r, err := parseRange(w.Time)
		if err != nil {
			return nil, fmt.Errorf("time: %w", err)
		}
		out = append(out, cond{kind: condTime, time: r, check: label + ": time in " + formatRange(r)})
	}
	return out, nil
}

// steps resolves actions into steps: people into their phones, defaults
// into values. Steps that play the closure's greeting keep Closure set
// until a decision binds them.
func (rc resolver) steps(where string, actions []config.Action) ([]Step, []TraceLine, error) {
	steps := make([]Step, 0, len(actions))
	var notes []TraceLine
	for i, a := range actions {
		at := fmt.Sprintf("%s[%d]", where, i)
		if n := countSet(a); n != 1 {
			return nil, nil, fmt.Errorf("%s: %d actions set, want exactly one", at, n)
		}
		switch {
		case a.Ring != nil:
			ring, ns, err := rc.ring(at, a.Ring)
			if err != nil {
				return nil, nil, err
			}
			notes = append(notes, ns...)
			if len(ring.Targets) == 0 {
				notes = append(notes, TraceLine{Check: at + ": ring", Detail: "nothing to ring, skipped"})
				continue
			}
			steps = append(steps, Step{Kind: KindRing, Ring: ring})
		case a.Forward != nil:
			f := *a.Forward
			if f.Trunk == "" {
				f.Trunk = rc.p.tenant.OutboundTrunk
			}
			if f.Timeout <= 0 {
				f.Timeout = defaultForwardTimeout
			}
			steps = append(steps, Step{Kind: KindForward, Forward: &f})
		case a.Operator != nil:
			o := *a.Operator
			if o.MaxWait <= 0 {
				o.MaxWait = defaultOperatorWait
			}
			steps = append(steps, Step{Kind: KindOperator, Operator: &o})
		case a.Play != nil:
			s := *a.Play
			steps = append(steps, Step{Kind: KindPlay, Play: &s})
		case a.Menu != nil:
			m, ns, err := rc.menu(at, a.Menu)
			if err != nil {
				return nil, nil, err
			}
			notes = append(notes, ns...)
			steps = append(steps, Step{Kind: KindMenu, Menu: m})
		case a.Voicemail != nil:
			v := *a.Voicemail
			if v.MaxLength <= 0 {
				v.MaxLength = defaultVoicemailMax
			}
			steps = append(steps, Step{Kind: KindVoicemail, Voicemail: &v})
		case a.Hangup != nil:
			h := *a.Hangup
			if h.Code == 0 {
				h.Code = defaultHangupCode
			}
			steps = append(steps, Step{Kind: KindHangup, Hangup: &h})
		}
	}
	return steps, notes, nil
}

func countSet(a config.Action) int {
	n := 0
	for _, set := range []bool{a.Ring != nil, a.Forward != nil, a.Operator != nil, a.Play != nil, a.Menu != nil, a.Voicemail != nil, a.Hangup != nil} {
		if set {
			n++
		}
	}
	return n
}

// ring lists the phones of a ring action: people's extensions, then
// extensions by number, then mobiles, because desk phones are free and a
// sequential ring should try them before calling out through the trunk.
func (rc resolver) ring(at string, a *config.RingAction) (*RingStep, []TraceLine, error) {
	r := &RingStep{Strategy: a.Strategy, Timeout: a.Timeout}
	switch r.Strategy {
	case "":
		r.Strategy = config.RingParallel
	case config.RingParallel, config.RingSequential:
	default:
		return nil, nil, fmt.Errorf("%s.ring.strategy %q: want parallel or sequential", at, a.Strategy)
	}
	if r.Timeout <= 0 {
		r.Timeout = rc.d.RingTimeout
	}
	var notes []TraceLine
	for _, id := range a.People {
		person, err := rc.person(at+".ring.people", id)
		if err != nil {
			return nil, nil, err
		}
		if len(person.Extensions) == 0 {
			notes = append(notes, TraceLine{Check: at + ": ring " + id, Detail: "no extension, skipped"})
		}
		for _, ext := range person.Extensions {
			r.Targets = appendTarget(r.Targets, Target{Kind: TargetExtension, Value: ext, Person: id})
		}
	}
	for _, ext := range a.Extensions {
		r.Targets = appendTarget(r.Targets, Target{Kind: TargetExtension, Value: ext})
	}
	for _, id := range a.Mobiles {
		person, err := rc.person(at+".ring.mobiles", id)
		if err != nil {
			return nil, nil, err
		}
		if person.Mobile == "" {
			notes = append(notes, TraceLine{Check: at + ": ring mobile of " + id, Detail: "no mobile number, skipped"})
			continue
		}
		r.Targets = appendTarget(r.Targets, Target{Kind: TargetMobile, Value: person.Mobile, Person: id})
	}
	return r, notes, nil
}

func (rc resolver) person(at, id string) (*config.Person, error) {
	i, ok := rc.p.people[id]
	if !ok {
		return nil, fmt.Errorf("%s: unknown person %q", at, id)
	}
	return &rc.p.tenant.People[i], nil
}

func (rc resolver) menu(at string, a *config.MenuAction) (*MenuStep, []TraceLine, error) {
	m := &MenuStep{Prompt: a.Prompt, Timeout: a.Timeout, DigitTimeout: a.DigitTimeout,
		Retries: a.Retries, Invalid: a.Invalid, Options: make(map[string][]Step, len(a.Options))}
	if m.Timeout <= 0 {
		m.Timeout = defaultMenuTimeout
	}
	if m.DigitTimeout <= 0 {
		m.DigitTimeout = defaultMenuDigitTimeout
	}
	var notes []TraceLine
	for _, key := range sortedKeys(a.Options) { // notes in a stable order
		steps, ns, err := rc.steps(fmt.Sprintf("%s.menu.options[%s]", at, key), a.Options[key])
		if err != nil {
			return nil, nil, err
		}
		notes = append(notes, ns...)
		m.Options[key] = steps
	}
	return m, notes, nil
}
