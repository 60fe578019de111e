package dialplan

import (
	"time"

	"github.com/centralino/centralino/config"
)

// Call is what the engine knows about an incoming call.
type Call struct {
	Caller     string // E.164 when public ("+393331234567"), "anonymous", or as received
	CallerName string
	Called     string // the dialled number, E.164 when public
}

// Status is a person's manually set status.
type Status struct {
	State string    // config.StatusAvailable, StatusMeeting, StatusAway, StatusDND
	Until time.Time // zero: no expiry
	Note  string    // e.g. "in riunione fino alle 15"
	Since time.Time
}

// Busy is a busy period from a person's calendar.
type Busy struct {
	Start, End time.Time
	Summary    string
}

// State is the live state a decision reads: manual statuses and calendar
// busy periods, by person id.
type State struct {
	Statuses map[string]Status
	Busy     map[string][]Busy // sorted by Start
}

// Defaults are values from the main configuration the plan needs.
type Defaults struct {
	RingTimeout time.Duration // sip.ring_timeout
}

// DayInfo is what a moment is for the tenant: its local time, whether the
// tenant is open, and the holiday or closure in force.
type DayInfo struct {
	Local   time.Time // now in the tenant's zone
	Open    bool      // InHours, and neither a holiday nor a closure
	InHours bool      // within a range of the opening hours
	Holiday string    // the holiday's name, "" on other days
	Closure *config.Closure
}

// Decision is what to do with a call and why. Its Steps (and what they
// point to) are shared with the Plan and other decisions: read-only.
type Decision struct {
	Tenant    string
	Rule      string // the rule's name, or "rules[2]" when unnamed, or "blocked caller" / "anonymous caller" / "default plan"
	RuleIndex int    // -1 for the built-in ones
	Class     string // config.CallerVIP, CallerBlocked, CallerAnonymous or CallerOther
	Day       DayInfo
	Steps     []Step
	Trace     []TraceLine
}

// Step kinds.
const (
	KindRing      = "ring"
	KindForward   = "forward"
	KindOperator  = "operator"
	KindPlay      = "play"
	KindMenu      = "menu"
	KindVoicemail = "voicemail"
	KindHangup    = "hangup"
)

// Step is one action of a decision, resolved: exactly the field named by
// Kind is set. When it fails (no answer, busy, timeout) the next one runs.
type Step struct {
	Kind      string // "ring", "forward", "operator", "play", "menu", "voicemail", "hangup"
	Ring      *RingStep
	Forward   *config.ForwardAction // Trunk filled with the tenant's outbound trunk name when empty ("" if none)
	Operator  *config.OperatorAction
	Play      *config.Sound // never Closure: resolved to the closure's greeting
	Menu      *MenuStep
	Voicemail *config.VoicemailAction
	Hangup    *config.HangupAction
}

// RingStep rings phones.
type RingStep struct {
	Targets  []Target
	Strategy string        // config.RingParallel or RingSequential
	Timeout  time.Duration // per ring; Defaults.RingTimeout when the action left it 0
}

// Target kinds.
const (
	TargetExtension = "extension"
	TargetMobile    = "mobile"
)

// Target is one phone to ring.
type Target struct {
	Kind   string // "extension" or "mobile"
	Value  string // extension number, or E.164 mobile number
	Person string // person id, "" for extensions given by number
}

// MenuStep plays a prompt and runs the steps of the key pressed.
type MenuStep struct {
	Prompt       config.Sound
	Options      map[string][]Step // by choice: one key or several
	Timeout      time.Duration     // for the first key
	DigitTimeout time.Duration     // for each next key
	Retries      int
	Invalid      config.Sound
}

// TraceLine is one thing checked: what, whether it held, and why.
type TraceLine struct {
	Check  string
	OK     bool
	Detail string
}

// String renders the line as `explain` prints it:
// `✓ caller is vip: +393331234567 matches "+39333*"`.
func (l TraceLine) String() string {
	mark := "✗ "
	if l.OK {
		mark = "✓ "
	}
	if l.Detail == "" {
		return mark + l.Check
	}
	return mark + l.Check + ": " + l.Detail
}
