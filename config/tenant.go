package config

import (
	"time"
)

// This file declares a tenant's identity and dialplan as written in YAML
// (inline in centralino.yaml under `tenants:`, or one file per tenant in
// tenants_dir). The dialplan package compiles these plain values into
// decisions; pbx runs them.

// Person statuses.
const (
	StatusAvailable = "available"
	StatusMeeting   = "meeting"
	StatusAway      = "away"
	StatusDND       = "dnd"
)

// Caller classes usable in rules (`when: {caller: vip}`).
const (
	CallerVIP       = "vip"
	CallerBlocked   = "blocked"
	CallerAnonymous = "anonymous"
	CallerOther     = "other" // none of the above
)

// Anonymous-caller policies.
const (
	AnonymousAllow  = "allow"
	AnonymousReject = "reject"
)

// Ring strategies.
const (
	RingParallel   = "parallel"
	RingSequential = "sequential"
)

// Tenant is a professional or office whose calls Centralino answers: its
// identity and its plan.
type Tenant struct {
	ID      string   `yaml:"id" mapstructure:"id"`
	Name    string   `yaml:"name" mapstructure:"name"`
	Numbers []string `yaml:"numbers" mapstructure:"numbers"` // E.164
	// Extensions lists the extension numbers that belong to the tenant.
	Extensions []string `yaml:"extensions" mapstructure:"extensions"`
	// OutboundTrunk names the trunk used for the tenant's outbound calls,
	// forwards and mobiles; defaults to the first trunk that has a host.
	OutboundTrunk string `yaml:"outbound_trunk" mapstructure:"outbound_trunk"`
	// Language of prompts and spoken text: "it" (default) or "en".
	Language string `yaml:"language"`
	// TimeZone of hours, holidays, closures and `until` times; default
	// Europe/Rome.
	TimeZone string `yaml:"time_zone"`

	Hours    Hours     `yaml:"hours"`
	Holidays Holidays  `yaml:"holidays"`
	Closures []Closure `yaml:"closures"`
	People   []Person  `yaml:"people"`
	Callers  Callers   `yaml:"callers"`
	// Rules are tried in order; the first whose conditions all hold
	// decides. A tenant without rules rings all its extensions.
	Rules []Rule `yaml:"rules"`
	// Console is what the operator console shows and plays for the
	// tenant's calls in the operator queue.
	Console TenantConsole `yaml:"console"`
	// Contacts name known callers for the operators' screen pop.
	Contacts []Contact `yaml:"contacts"`

	// Filled by loading:
	File     string         `yaml:"-"` // the tenant file, "" when inline in the main file
	Location *time.Location `yaml:"-"` // TimeZone loaded
}

// Hours are weekly opening hours, each day a list of "HH:MM-HH:MM" ranges
// in the tenant's time zone. A range whose end is not after its start
// crosses midnight ("22:00-06:00"). `weekdays` (mon–fri) and `weekend`
// (sat, sun) are shorthands; a day's own key overrides them.
type Hours struct {
	Weekdays []string `yaml:"weekdays"`
	Weekend  []string `yaml:"weekend"`
	Mon      []string `yaml:"mon"`
	Tue      []string `yaml:"tue"`
	Wed      []string `yaml:"wed"`
	Thu      []string `yaml:"thu"`
	Fri      []string `yaml:"fri"`
	Sat      []string `yaml:"sat"`
	Sun      []string `yaml:"sun"`

	// Days is filled by loading: index time.Weekday (0 = Sunday).
	Days [7][]TimeRange `yaml:"-"`
}

// TimeRange is a daily interval in minutes after midnight; End <= Start
// means it crosses midnight.
type TimeRange struct {
	Start, End int
}

// Holidays are the days the tenant is closed every year or on a date.
type Holidays struct {
	// National enables the built-in Italian calendar (default true).
	National *bool `yaml:"national"`
	// Patron is the local patron saint's day, "MM-DD" (e.g. "12-07" for
	// Sant'Ambrogio in Milan), with an optional name.
	Patron Holiday `yaml:"patron"`
	// Extra dates: "YYYY-MM-DD" (once) or "MM-DD" (every year).
	Extra []Holiday `yaml:"extra"`
}

// Holiday is one named day.
type Holiday struct {
	Date string `yaml:"date"`
	Name string `yaml:"name"`
}

// Closure is a period the tenant is closed (holidays, illness), dates
// inclusive, with an optional greeting played to callers.
type Closure struct {
	From     string `yaml:"from"` // YYYY-MM-DD
	To       string `yaml:"to"`   // YYYY-MM-DD, inclusive; default From
	Name     string `yaml:"name"`
	Greeting Sound  `yaml:"greeting"`
}

// Person is a professional of the tenant.
type Person struct {
	ID         string   `yaml:"id"` // lower-case id, used in rules and by `centralino status`
	Name       string   `yaml:"name"`
	Extensions []string `yaml:"extensions"`
	Mobile     string   `yaml:"mobile"` // E.164, rung through the tenant's trunk
	// Calendar is an iCalendar file path (relative to the tenant file) or
	// http(s) URL; its busy events make the person `meeting`. Loading
	// resolves a relative path against the tenant file's folder (the main
	// file's for inline tenants), so it can be opened as is.
	Calendar string `yaml:"calendar"`
	// Role is shown to operators, e.g. "avvocato" or "segreteria".
	Role string `yaml:"role"`
}

// TenantConsole is what the operators see and the callers hear for the
// tenant's calls in the operator queue.
type TenantConsole struct {
	// AnswerPhrase is what the operator says on answering. Load fills it
	// with "<Name>, buongiorno" (language it) or "<Name>, good morning"
	// (en) when it is left out.
	AnswerPhrase string `yaml:"answer_phrase"`
	// Instructions is free text shown to the operator (several lines
	// allowed).
	Instructions string `yaml:"instructions"`
	// Hold is played to callers waiting in the operator queue; empty (no
	// file, no say) means the built-in music.
	Hold Sound `yaml:"hold"`
}

// Contact is a known caller of a tenant.
type Contact struct {
	Number string `yaml:"number"` // E.164, checked like the tenant's numbers
	Name   string `yaml:"name"`
	Note   string `yaml:"note"`
}

// Contact returns the tenant's contact with the E.164 number e164.
func (t *Tenant) Contact(e164 string) (Contact, bool) {
	for _, c := range t.Contacts {
		if c.Number == e164 {
			return c, true
		}
	}
	return Contact{}, false
}

// Callers classifies who is calling.
type Callers struct {
	// VIP numbers or path.Match patterns on E.164 numbers; a rule with
	// `caller: vip` decides what happens to them (usually: put through).
	VIP []string `yaml:"vip"`
	// Blocked callers are refused (603 Decline) before any rule.
	Blocked []string `yaml:"blocked"`
	// Anonymous is allow (default; class `anonymous` in rules) or reject
	// (433 Anonymity Disallowed, before any rule).
	Anonymous string `yaml:"anonymous"`
}

// Rule is `when` conditions (all must hold; none = always) and the
// actions to run, in order, each running when the previous one failed.
type Rule struct {
	Name string     `yaml:"name"`
	When Conditions `yaml:"when"`
	Do   []Action   `yaml:"do"`
}

// Conditions of a rule. Unset conditions are not checked.
type Conditions struct {
	// Open: within opening hours and not a holiday nor a closure (true),
	// or outside them (false).
	Open *bool `yaml:"open"`
	// Holiday: today is (true) or is not (false) a holiday.
	Holiday *bool `yaml:"holiday"`
	// Closure: a closure is (true) or is not (false) in force.
	Closure *bool `yaml:"closure"`
	// Caller: the caller's class is one of these (vip, anonymous, other).
	Caller []string `yaml:"caller"`
	// Called: the dialled number is one of these (E.164).
	Called []string `yaml:"called"`
	// Status: each listed person's current status is one of the states
	// (`rossi: [meeting, away]`).
	Status map[string][]string `yaml:"status"`
	// Days: mon..sun, weekdays, weekend.
	Days []string `yaml:"days"`
	// Time: "HH:MM-HH:MM" in the tenant's time zone (may cross midnight).
	Time string `yaml:"time"`
}

// Action is one step of a plan: exactly one field is set. In YAML an
// action is a one-key mapping (`- ring: {people: [rossi]}`), and actions
// without options may be written as a bare word (`- hangup`,
// `- voicemail`, `- operator`).
type Action struct {
	Ring      *RingAction      `yaml:"ring"`
	Forward   *ForwardAction   `yaml:"forward"`
	Operator  *OperatorAction  `yaml:"operator"`
	Play      *Sound           `yaml:"play"`
	Menu      *MenuAction      `yaml:"menu"`
	Voicemail *VoicemailAction `yaml:"voicemail"`
	Hangup    *HangupAction    `yaml:"hangup"`
}

// RingAction rings phones: people's extensions, people's mobiles (through
// the tenant's trunk) and extensions by number.
type RingAction struct {
	People     []string      `yaml:"people"`     // person ids: their extensions
	Mobiles    []string      `yaml:"mobiles"`    // person ids: their mobile numbers
	Extensions []string      `yaml:"extensions"` // extension numbers
	Strategy   string        `yaml:"strategy"`   // parallel (default) or sequential
	Timeout    time.Duration `yaml:"timeout"`    // per ring (each target when sequential); default sip.ring_timeout
}

// ForwardAction sends the call to a number through a trunk.
type ForwardAction struct {
	Number  string        `yaml:"number"`  // E.164
	Trunk   string        `yaml:"trunk"`   // default (filled by loading) the tenant's outbound trunk
	Timeout time.Duration `yaml:"timeout"` // default 60s
}

// OperatorAction queues the call to the operators serving the tenant.
type OperatorAction struct {
	MaxWait time.Duration `yaml:"max_wait"` // default 60s
}

// Sound is something played: a WAV file (relative to the tenant file), a
// text spoken by the TTS engine, or the greeting of the closure in force.
// Exactly one is set, except in optional greetings where none means the
// built-in one. Loading resolves File like Person.Calendar.
type Sound struct {
	File    string `yaml:"file"`
	Say     string `yaml:"say"`
	Closure bool   `yaml:"closure"`
}

// MenuAction plays a prompt and collects a DTMF choice.
type MenuAction struct {
	Prompt Sound `yaml:"prompt"`
	// Options maps a choice to the actions it runs; after them the plan
	// ends (a menu branch is a sequence of its own). A choice is a key
	// ("0"-"9", "*", "#") or several ("12", "*9"): the caller's input is
	// as long as the longest choice, and when some choice has more than
	// one key, "#" ends the input early.
	Options      map[string][]Action `yaml:"options"`
	Timeout      time.Duration       `yaml:"timeout"`       // for the first key; default 5s
	DigitTimeout time.Duration       `yaml:"digit_timeout"` // for each next key; default 3s
	Retries      int                 `yaml:"retries"`       // default 2
	Invalid      Sound               `yaml:"invalid"`       // default the built-in "scelta non valida"
}

// VoicemailAction records a message after a greeting and a beep.
type VoicemailAction struct {
	Greeting  Sound         `yaml:"greeting"`   // default the built-in prompt
	MaxLength time.Duration `yaml:"max_length"` // default 120s
}

// HangupAction ends the call.
type HangupAction struct {
	// Code is the SIP status for a call not yet answered (default 480).
	Code int `yaml:"code"`
}

// Features configures feature codes dialled from phones.
type Features struct {
	// Status codes set the dialling extension's person status.
	Available string `mapstructure:"available"` // default *30
	Meeting   string `mapstructure:"meeting"`   // default *31
	Away      string `mapstructure:"away"`      // default *32
	DND       string `mapstructure:"dnd"`       // default *33
}
