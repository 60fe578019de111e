package dialplan

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/centralino/centralino/config"
)

// lawyer adds to office the rules of a lawyer: VIPs put through at any
// hour, a closed greeting, the receptionist while Rossi is busy, and the
// office otherwise.
func lawyer() *config.Tenant {
	tn := office()
	tn.Rules = []config.Rule{
		{Name: "vip", When: config.Conditions{Caller: []string{config.CallerVIP}}, Do: []config.Action{
			{Ring: &config.RingAction{People: []string{"rossi"}, Mobiles: []string{"rossi"}, Strategy: config.RingSequential, Timeout: 20 * time.Second}},
			{Voicemail: &config.VoicemailAction{}},
		}},
		{Name: "closed", When: config.Conditions{Open: ptr(false)}, Do: []config.Action{
			{Play: &config.Sound{File: "closed.wav"}},
			{Voicemail: &config.VoicemailAction{}},
		}},
		{When: config.Conditions{Status: map[string][]string{"rossi": {config.StatusMeeting, config.StatusAway, config.StatusDND}}}, Do: []config.Action{
			{Ring: &config.RingAction{Extensions: []string{"100"}}},
			{Voicemail: &config.VoicemailAction{MaxLength: time.Minute}},
		}},
		{Name: "office", Do: []config.Action{
			{Ring: &config.RingAction{People: []string{"rossi", "bianchi"}}},
			{Operator: &config.OperatorAction{}},
			{Hangup: &config.HangupAction{}},
		}},
	}
	return tn
}

const (
	vipSteps    = "ring(ext:101@rossi mobile:+393331112222@rossi; sequential 20s) → voicemail <builtin> 2m0s"
	closedSteps = "play closed.wav → voicemail <builtin> 2m0s"
	busySteps   = "ring(ext:100; parallel 30s) → voicemail <builtin> 1m0s"
	officeSteps = "ring(ext:101@rossi ext:102@bianchi; parallel 30s) → operator 1m0s → hangup 480"
	allSteps    = "ring(ext:100 ext:101@rossi ext:102@bianchi; parallel 30s) → hangup 480"
)

func TestDecide(t *testing.T) {
	rejecting := func() *config.Tenant {
		tn := lawyer()
		tn.Callers.Anonymous = config.AnonymousReject
		return tn
	}
	meeting := State{Statuses: map[string]Status{"rossi": {State: config.StatusMeeting}}}
	hearing := State{Busy: map[string][]Busy{"rossi": {{Start: at(t, "2026-04-08 09:00"), End: at(t, "2026-04-08 13:00"), Summary: "Udienza"}}}}
	const (
		wed     = "2026-04-08 10:00"
		sunday  = "2026-04-12 10:00"
		caller  = "+390298765432"
		vip     = "+393331234567"
		blocked = "+393339991234" // matches a VIP pattern too
	)
	tests := []struct {
		name      string
		tenant    func() *config.Tenant
		caller    string
		called    string
		st        State
		now       string
		wantRule  string
		wantIndex int
		wantClass string
		wantSteps string
	}{
		{name: "vip beats closed", tenant: lawyer, caller: vip, now: sunday,
			wantRule: "vip", wantIndex: 0, wantClass: config.CallerVIP, wantSteps: vipSteps},
		{name: "vip by exact number", tenant: lawyer, caller: "+390611111111", now: sunday,
			wantRule: "vip", wantIndex: 0, wantClass: config.CallerVIP, wantSteps: vipSteps},
		{name: "closed on Sunday", tenant: lawyer, caller: caller, now: sunday,
			wantRule: "closed", wantIndex: 1, wantClass: config.CallerOther, wantSteps: closedSteps},
		{name: "closed on Easter Monday", tenant: lawyer, caller: caller, now: "2026-04-06 10:00",
			wantRule: "closed", wantIndex: 1, wantClass: config.CallerOther, wantSteps: closedSteps},
		{name: "open and available", tenant: lawyer, caller: caller, now: wed,
			wantRule: "office", wantIndex: 3, wantClass: config.CallerOther, wantSteps: officeSteps},
		{name: "manual meeting", tenant: lawyer, caller: caller, st: meeting, now: wed,
			wantRule: "rules[2]", wantIndex: 2, wantClass: config.CallerOther, wantSteps: busySteps},
		{name: "calendar busy", tenant: lawyer, caller: caller, st: hearing, now: wed,
			wantRule: "rules[2]", wantIndex: 2, wantClass: config.CallerOther, wantSteps: busySteps},
		{name: "calendar over", tenant: lawyer, caller: caller, st: hearing, now: "2026-04-08 14:00",
			wantRule: "office", wantIndex: 3, wantClass: config.CallerOther, wantSteps: officeSteps},
		{name: "available until overrides the calendar", tenant: lawyer, caller: caller, now: wed,
			st:       State{Statuses: map[string]Status{"rossi": {State: config.StatusAvailable, Until: at(t, "2026-04-08 18:00")}}, Busy: hearing.Busy},
			wantRule: "office", wantIndex: 3, wantClass: config.CallerOther, wantSteps: officeSteps},
		{name: "meeting until expired", tenant: lawyer, caller: caller, now: wed,
			st:       State{Statuses: map[string]Status{"rossi": {State: config.StatusMeeting, Until: at(t, "2026-04-08 09:30")}}},
			wantRule: "office", wantIndex: 3, wantClass: config.CallerOther, wantSteps: officeSteps},
		{name: "blocked beats vip", tenant: lawyer, caller: blocked, now: sunday,
			wantRule: RuleBlocked, wantIndex: -1, wantClass: config.CallerBlocked, wantSteps: "hangup 603"},
		{name: "blocked premium number", tenant: lawyer, caller: "+39899123456", now: wed,
			wantRule: RuleBlocked, wantIndex: -1, wantClass: config.CallerBlocked, wantSteps: "hangup 603"},
		{name: "blocked beats a rule without conditions", tenant: func() *config.Tenant {
			tn := lawyer()
			tn.Rules = tn.Rules[3:]
			return tn
		}, caller: blocked, now: wed, wantRule: RuleBlocked, wantIndex: -1, wantClass: config.CallerBlocked, wantSteps: "hangup 603"},
		{name: "anonymous allowed goes through the rules", tenant: lawyer, caller: "anonymous", now: wed,
			wantRule: "office", wantIndex: 3, wantClass: config.CallerAnonymous, wantSteps: officeSteps},
		{name: "anonymous rejected", tenant: rejecting, caller: "anonymous", now: wed,
			wantRule: RuleAnonymous, wantIndex: -1, wantClass: config.CallerAnonymous, wantSteps: "hangup 433"},
		{name: "empty caller rejected", tenant: rejecting, caller: "", now: wed,
			wantRule: RuleAnonymous, wantIndex: -1, wantClass: config.CallerAnonymous, wantSteps: "hangup 433"},
		{name: "restricted caller rejected", tenant: rejecting, caller: "Restricted", now: wed,
			wantRule: RuleAnonymous, wantIndex: -1, wantClass: config.CallerAnonymous, wantSteps: "hangup 433"},
		{name: "anonymous reject beats vip rules", tenant: rejecting, caller: "anonymous", now: sunday,
			wantRule: RuleAnonymous, wantIndex: -1, wantClass: config.CallerAnonymous, wantSteps: "hangup 433"},
		{name: "national-format number is not anonymous", tenant: rejecting, caller: "0298765432", now: wed,
			wantRule: "office", wantIndex: 3, wantClass: config.CallerOther, wantSteps: officeSteps},
		{name: "no rules: default plan", tenant: office, caller: caller, now: sunday,
			wantRule: RuleDefault, wantIndex: -1, wantClass: config.CallerOther, wantSteps: allSteps},
		{name: "no rule matches: default plan", tenant: func() *config.Tenant {
			tn := lawyer()
			tn.Rules = tn.Rules[:3]
			return tn
		}, caller: caller, now: wed, wantRule: RuleDefault, wantIndex: -1, wantClass: config.CallerOther, wantSteps: allSteps},
		{name: "blocked with no rules", tenant: office, caller: blocked, now: wed,
			wantRule: RuleBlocked, wantIndex: -1, wantClass: config.CallerBlocked, wantSteps: "hangup 603"},
		{name: "first match wins", tenant: func() *config.Tenant {
			tn := lawyer()
			tn.Rules = append([]config.Rule{{Name: "first", Do: []config.Action{{Hangup: &config.HangupAction{Code: 486}}}}}, tn.Rules...)
			return tn
		}, caller: vip, now: wed, wantRule: "first", wantIndex: 0, wantClass: config.CallerVIP, wantSteps: "hangup 486"},
		{name: "rule for anonymous callers", tenant: func() *config.Tenant {
			tn := lawyer()
			tn.Rules = append([]config.Rule{{Name: "anon", When: config.Conditions{Caller: []string{config.CallerAnonymous}},
				Do: []config.Action{{Operator: &config.OperatorAction{MaxWait: 2 * time.Minute}}, {Hangup: &config.HangupAction{}}}}}, tn.Rules...)
			return tn
		}, caller: "anonymous", now: wed, wantRule: "anon", wantIndex: 0, wantClass: config.CallerAnonymous, wantSteps: "operator 2m0s → hangup 480"},
		{name: "called, days and time together", tenant: func() *config.Tenant {
			tn := lawyer()
			tn.Rules = append([]config.Rule{{Name: "second line", When: config.Conditions{
				Called: []string{"+390699999999"}, Days: []string{"weekdays"}, Time: "09:00-12:00"},
				Do: []config.Action{{Forward: &config.ForwardAction{Number: "+393471234567"}}, {Hangup: &config.HangupAction{}}}}}, tn.Rules...)
			return tn
		}, caller: caller, called: "+390699999999", now: wed,
			wantRule: "second line", wantIndex: 0, wantClass: config.CallerOther, wantSteps: `forward +393471234567 via "messagenet" 1m0s → hangup 480`},
		{name: "every condition must hold", tenant: func() *config.Tenant {
			tn := lawyer()
			tn.Rules = append([]config.Rule{{Name: "vip weekdays", When: config.Conditions{Caller: []string{config.CallerVIP}, Days: []string{"weekdays"}},
				Do: []config.Action{{Hangup: &config.HangupAction{}}}}}, tn.Rules...)
			return tn
		}, caller: caller, now: wed, wantRule: "office", wantIndex: 4, wantClass: config.CallerOther, wantSteps: officeSteps},
		{name: "called number differs", tenant: func() *config.Tenant {
			tn := lawyer()
			tn.Rules = append([]config.Rule{{Name: "second line", When: config.Conditions{Called: []string{"+390699999999"}},
				Do: []config.Action{{Hangup: &config.HangupAction{}}}}}, tn.Rules...)
			return tn
		}, caller: caller, called: "+390612345678", now: wed,
			wantRule: "office", wantIndex: 4, wantClass: config.CallerOther, wantSteps: officeSteps},
		{name: "weekend day condition", tenant: func() *config.Tenant {
			tn := lawyer()
			tn.Rules = append([]config.Rule{{Name: "weekend", When: config.Conditions{Days: []string{"weekend"}},
				Do: []config.Action{{Voicemail: &config.VoicemailAction{Greeting: config.Sound{Say: "Buon fine settimana"}}}}}}, tn.Rules...)
			return tn
		}, caller: caller, now: sunday, wantRule: "weekend", wantIndex: 0, wantClass: config.CallerOther, wantSteps: "voicemail say:Buon fine settimana 2m0s"},
		{name: "holiday condition", tenant: func() *config.Tenant {
			tn := lawyer()
			tn.Rules = append([]config.Rule{{Name: "holiday", When: config.Conditions{Holiday: ptr(true)},
				Do: []config.Action{{Play: &config.Sound{File: "festivo.wav"}}, {Hangup: &config.HangupAction{}}}}}, tn.Rules...)
			return tn
		}, caller: vip, now: "2026-12-25 10:00", wantRule: "holiday", wantIndex: 0, wantClass: config.CallerVIP, wantSteps: "play festivo.wav → hangup 480"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := compileT(t, tt.tenant())
			d := p.Decide(Call{Caller: tt.caller, Called: tt.called}, tt.st, at(t, tt.now))
			if d.Rule != tt.wantRule || d.RuleIndex != tt.wantIndex || d.Class != tt.wantClass {
				t.Errorf("rule %q [%d] class %q, want %q [%d] %q", d.Rule, d.RuleIndex, d.Class, tt.wantRule, tt.wantIndex, tt.wantClass)
			}
			if got := summary(d.Steps); got != tt.wantSteps {
				t.Errorf("steps:\n got %s\nwant %s", got, tt.wantSteps)
			}
			if d.Tenant != "rossi" {
				t.Errorf("tenant %q, want rossi", d.Tenant)
			}
			if t.Failed() {
				t.Logf("trace:\n%s", traceText(d.Trace))
			}
		})
	}
}

func TestTraceOnEasterMonday(t *testing.T) {
	tn := office()
	tn.Rules = []config.Rule{
		{Name: "office", When: config.Conditions{Open: ptr(true)}, Do: []config.Action{{Ring: &config.RingAction{People: []string{"rossi"}}}, {Hangup: &config.HangupAction{}}}},
		{When: config.Conditions{Open: ptr(false), Holiday: ptr(true)}, Do: []config.Action{{Voicemail: &config.VoicemailAction{}}}},
	}
	p := compileT(t, tn)
	d := p.Decide(Call{Caller: "+390298765432"}, State{}, at(t, "2026-04-06 10:00"))
	want := `✓ local time: Mon 2026-04-06 10:00 CEST
✗ open: closed — Lunedì dell'Angelo (Easter Monday)
✓ holiday: Lunedì dell'Angelo (Easter Monday)
✓ caller is other: +390298765432
✗ rules[0] "office": open: closed — Lunedì dell'Angelo (Easter Monday)
✗ rules[0] "office": not matched
✓ rules[1]: not open: closed — Lunedì dell'Angelo (Easter Monday)
✓ rules[1]: holiday: Lunedì dell'Angelo (Easter Monday)
✓ rules[1]: matched
`
	if got := traceText(d.Trace); got != want {
		t.Errorf("trace:\n%s\nwant:\n%s", got, want)
	}
}

func TestTraceOfEveryCondition(t *testing.T) {
	tn := lawyer()
	tn.Rules = append([]config.Rule{{Name: "all", When: config.Conditions{
		Open: ptr(true), Holiday: ptr(false), Closure: ptr(false), Caller: []string{"vip", "other"},
		Called: []string{"+390612345678"}, Status: map[string][]string{"rossi": {"available"}, "bianchi": {"meeting"}},
		Days: []string{"mon", "wed"}, Time: "09:00-12:00",
	}, Do: []config.Action{{Hangup: &config.HangupAction{}}}}}, tn.Rules...)
	p := compileT(t, tn)
	st := State{Busy: map[string][]Busy{"bianchi": {{Start: at(t, "2026-04-08 09:00"), End: at(t, "2026-04-08 13:00"), Summary: "Visita"}}}}
	d := p.Decide(Call{Caller: "+393331234567", Called: "+390612345678"}, st, at(t, "2026-04-08 10:30"))
	want := `✓ local time: Wed 2026-04-08 10:30 CEST
✓ open: open — within Wed 09:00-13:00
✓ caller is vip: +393331234567 matches "+39333*"
✓ rules[0] "all": open: open — within Wed 09:00-13:00
✓ rules[0] "all": not a holiday: no holiday today
✓ rules[0] "all": no closure in force: no closure today
✓ rules[0] "all": caller in [vip, other]: caller is vip
✓ rules[0] "all": called in [+390612345678]: dialled +390612345678
✓ rules[0] "all": bianchi in [meeting]: meeting — calendar: Visita 09:00-13:00
✓ rules[0] "all": rossi in [available]: available — default
✓ rules[0] "all": day in [mon, wed]: today is Wednesday
✓ rules[0] "all": time in 09:00-12:00: local time 10:30
✓ rules[0] "all": matched
`
	if got := traceText(d.Trace); got != want {
		t.Errorf("trace:\n%s\nwant:\n%s", got, want)
	}

	// Every condition of a failing rule is shown, not only the first.
	d = p.Decide(Call{Caller: "+390298765432", Called: "+390600000000"}, State{}, at(t, "2026-04-12 18:00"))
	tr := traceText(d.Trace)
	for _, line := range []string{
		`✗ rules[0] "all": open: closed — no opening hours on Sunday`,
		`✓ rules[0] "all": caller in [vip, other]: caller is other`,
		`✗ rules[0] "all": called in [+390612345678]: dialled +390600000000`,
		`✗ rules[0] "all": bianchi in [meeting]: available — default`,
		`✗ rules[0] "all": day in [mon, wed]: today is Sunday`,
		`✗ rules[0] "all": time in 09:00-12:00: local time 18:00`,
		`✗ rules[0] "all": not matched`,
		`✓ rules[2] "closed": matched`,
	} {
		if !strings.Contains(tr, line+"\n") {
			t.Errorf("trace lacks %q:\n%s", line, tr)
		}
	}
}

func TestTraceBuiltIns(t *testing.T) {
	tn := lawyer()
	tn.Callers.Anonymous = config.AnonymousReject
	p := compileT(t, tn)
	now := at(t, "2026-04-08 10:00")
	for _, tt := range []struct {
		caller string
		want   []string
	}{
		{"+393339991234", []string{`✓ caller is blocked: +393339991234 matches "+39333999*"`, "✓ blocked caller: refused with 603 Decline before any rule"}},
		{"", []string{"✓ caller is anonymous: no caller number", "✓ anonymous caller: callers.anonymous is reject: refused with 433 Anonymity Disallowed"}},
		{"Anonymous", []string{`✓ caller is anonymous: "Anonymous" is not a number`}},
	} {
		d := p.Decide(Call{Caller: tt.caller}, State{}, now)
		tr := traceText(d.Trace)
		for _, line := range tt.want {
			if !strings.Contains(tr, line+"\n") {
				t.Errorf("caller %q: trace lacks %q:\n%s", tt.caller, line, tr)
			}
		}
		if strings.Contains(tr, "rules[") {
			t.Errorf("caller %q: a rule was tried after a built-in refusal:\n%s", tt.caller, tr)
		}
	}

	d := compileT(t, office()).Decide(Call{Caller: "+390298765432"}, State{}, now)
	if last := d.Trace[len(d.Trace)-1].String(); last != "✓ default plan: no rules: ring all extensions, then hang up with 480" {
		t.Errorf("last trace line %q", last)
	}
}

func TestTraceLineString(t *testing.T) {
	for _, tt := range []struct {
		l    TraceLine
		want string
	}{
		{TraceLine{Check: "caller is vip", OK: true, Detail: `+393331234567 matches "+39333*"`}, `✓ caller is vip: +393331234567 matches "+39333*"`},
		{TraceLine{Check: "open", Detail: "closed — Lunedì dell'Angelo (Easter Monday)"}, "✗ open: closed — Lunedì dell'Angelo (Easter Monday)"},
		{TraceLine{Check: "rules[1]", OK: true}, "✓ rules[1]"},
	} {
		if got := tt.l.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestResolveRing(t *testing.T) {
	tn := office()
	tn.Rules = []config.Rule{{Name: "all", Do: []config.Action{
		{Ring: &config.RingAction{People: []string{"rossi", "bianchi", "rossi"}, Mobiles: []string{"bianchi", "rossi"},
			Extensions: []string{"101", "100"}, Strategy: config.RingSequential}},
		{Ring: &config.RingAction{Mobiles: []string{"bianchi"}}}, // nothing left to ring: dropped
		{Hangup: &config.HangupAction{Code: 486}},
	}}}
	d := compileT(t, tn).Decide(Call{Caller: "+390298765432"}, State{}, at(t, "2026-04-08 10:00"))
	// Desk phones first, then mobiles; 101 once, as Rossi's.
	want := "ring(ext:101@rossi ext:102@bianchi ext:100 mobile:+393331112222@rossi; sequential 30s) → hangup 486"
	if got := summary(d.Steps); got != want {
		t.Errorf("steps:\n got %s\nwant %s", got, want)
	}
	tr := traceText(d.Trace)
	for _, line := range []string{
		"✗ rules[0].do[0]: ring mobile of bianchi: no mobile number, skipped",
		"✗ rules[0].do[1]: ring mobile of bianchi: no mobile number, skipped",
		"✗ rules[0].do[1]: ring: nothing to ring, skipped",
	} {
		if !strings.Contains(tr, line+"\n") {
			t.Errorf("trace lacks %q:\n%s", line, tr)
		}
	}
}

func TestResolveForwardTrunk(t *testing.T) {
	for _, tt := range []struct {
		outbound, trunk, want string
	}{
		{"messagenet", "", "messagenet"},
		{"messagenet", "fastweb", "fastweb"},
		{"", "", ""},
	} {
		tn := office()
		tn.OutboundTrunk = tt.outbound
		tn.Rules = []config.Rule{{Do: []config.Action{{Forward: &config.ForwardAction{Number: "+393471234567", Trunk: tt.trunk, Timeout: 25 * time.Second}}, {Hangup: &config.HangupAction{}}}}}
		d := compileT(t, tn).Decide(Call{Caller: "+390298765432"}, State{}, at(t, "2026-04-08 10:00"))
		if f := d.Steps[0].Forward; f.Trunk != tt.want || f.Timeout != 25*time.Second {
			t.Errorf("outbound %q trunk %q: forward via %q after %s, want %q after 25s", tt.outbound, tt.trunk, f.Trunk, f.Timeout, tt.want)
		}
		if tn.Rules[0].Do[0].Forward.Trunk != tt.trunk {
			t.Errorf("Compile changed the tenant's forward action")
		}
	}
}

func TestResolveMenu(t *testing.T) {
	tn := office()
	tn.Rules = []config.Rule{{Name: "menu", Do: []config.Action{
		{Menu: &config.MenuAction{
			Prompt: config.Sound{File: "menu.wav"},
			Options: map[string][]config.Action{
				"1": {{Ring: &config.RingAction{People: []string{"rossi"}, Mobiles: []string{"rossi", "bianchi"}}}, {Voicemail: &config.VoicemailAction{}}},
				"2": {{Menu: &config.MenuAction{Prompt: config.Sound{Say: "Premi 1"}, Retries: 1, Options: map[string][]config.Action{
					"1": {{Forward: &config.ForwardAction{Number: "+390200000000"}}},
				}}}, {Hangup: &config.HangupAction{}}},
				"0": {{Operator: &config.OperatorAction{}}, {Hangup: &config.HangupAction{}}},
			},
			Timeout: 8 * time.Second,
			Retries: 3,
		}},
		{Voicemail: &config.VoicemailAction{}},
	}}}
	d := compileT(t, tn).Decide(Call{Caller: "+390298765432"}, State{}, at(t, "2026-04-08 10:00"))
	want := "menu(menu.wav; " +
		"0: operator 1m0s → hangup 480; " +
		"1: ring(ext:101@rossi mobile:+393331112222@rossi; parallel 30s) → voicemail <builtin> 2m0s; " +
		`2: menu(say:Premi 1; 1: forward +390200000000 via "messagenet" 1m0s; 5s x1) → hangup 480; ` +
		"8s x3) → voicemail <builtin> 2m0s"
	if got := summary(d.Steps); got != want {
		t.Errorf("steps:\n got %s\nwant %s", got, want)
	}
	if line := "✗ rules[0].do[0].menu.options[1][0]: ring mobile of bianchi: no mobile number, skipped"; !strings.Contains(traceText(d.Trace), line) {
		t.Errorf("trace lacks %q:\n%s", line, traceText(d.Trace))
	}
}

func TestResolveClosureGreeting(t *testing.T) {
	tn := office()
	tn.Rules = []config.Rule{{Name: "closed", When: config.Conditions{Open: ptr(false)}, Do: []config.Action{
		{Play: &config.Sound{Closure: true}},
		{Menu: &config.MenuAction{Prompt: config.Sound{Closure: true}, Options: map[string][]config.Action{
			"1": {{Play: &config.Sound{Closure: true}}, {Hangup: &config.HangupAction{}}},
		}}},
		{Voicemail: &config.VoicemailAction{Greeting: config.Sound{Closure: true}}},
	}}}
	p := compileT(t, tn)
	tests := []struct {
		name, now string
		wantSteps string
		wantTrace []string
	}{
		{name: "closure with greeting", now: "2026-08-12 10:00",
			wantSteps: "play say:Studio chiuso per ferie → menu(say:Studio chiuso per ferie; 1: play say:Studio chiuso per ferie → hangup 480; 5s x0) → voicemail say:Studio chiuso per ferie 2m0s",
			wantTrace: []string{`✓ rules[0] "closed": play closure greeting: say "Studio chiuso per ferie"`,
				`✓ rules[0] "closed": voicemail closure greeting: say "Studio chiuso per ferie"`}},
		{name: "closure without greeting", now: "2026-11-13 10:00",
			wantSteps: "menu(<builtin>; 1: hangup 480; 5s x0) → voicemail <builtin> 2m0s",
			wantTrace: []string{`✗ rules[0] "closed": play closure greeting: closure "Malattia" has no greeting, skipped`,
				`✗ rules[0] "closed": voicemail closure greeting: closure "Malattia" has no greeting, built-in prompt`}},
		{name: "no closure in force", now: "2026-04-12 10:00",
			wantSteps: "menu(<builtin>; 1: hangup 480; 5s x0) → voicemail <builtin> 2m0s",
			wantTrace: []string{`✗ rules[0] "closed": play closure greeting: no closure in force, skipped`,
				`✗ rules[0] "closed": menu prompt closure greeting: no closure in force, built-in prompt`}},
	}
	for _, tt := range tests {
		d := p.Decide(Call{Caller: "+390298765432"}, State{}, at(t, tt.now))
		if got := summary(d.Steps); got != tt.wantSteps {
			t.Errorf("%s: steps:\n got %s\nwant %s", tt.name, got, tt.wantSteps)
		}
		tr := traceText(d.Trace)
		for _, line := range tt.wantTrace {
			if !strings.Contains(tr, line+"\n") {
				t.Errorf("%s: trace lacks %q:\n%s", tt.name, line, tr)
			}
		}
		if len(d.Trace) > cap(d.Trace) || cap(d.Trace) != p.traceCap {
			t.Errorf("%s: trace grew beyond its preallocated %d lines to %d", tt.name, p.traceCap, cap(d.Trace))
		}
	}
	// Binding made copies: the plan still says closure.
	if !p.rules[0].steps[0].Play.Closure || !p.rules[0].steps[1].Menu.Prompt.Closure {
		t.Error("a decision changed the plan's steps")
	}
}

func TestCompileErrors(t *testing.T) {
	rule := func(w config.Conditions, do ...config.Action) func(*config.Tenant) {
		return func(tn *config.Tenant) {
			if len(do) == 0 {
				do = []config.Action{{Hangup: &config.HangupAction{}}}
			}
			tn.Rules = []config.Rule{{When: w, Do: do}}
		}
	}
	tests := []struct {
		name   string
		change func(*config.Tenant)
		want   string
	}{
		{"bad zone", func(tn *config.Tenant) { tn.TimeZone = "Europe/Atlantis" }, `time_zone "Europe/Atlantis"`},
		{"bad hours", func(tn *config.Tenant) { tn.Hours.Mon = []string{"9-13"} }, "hours.mon[0]"},
		{"bad patron", func(tn *config.Tenant) { tn.Holidays.Patron.Date = "02-30" }, "holidays.patron"},
		{"bad extra", func(tn *config.Tenant) { tn.Holidays.Extra = []config.Holiday{{Date: "2026-13-01"}} }, "holidays.extra[0]"},
		{"bad closure", func(tn *config.Tenant) { tn.Closures[1].From = "13/11/2026" }, "closures[1]: from"},
		{"closure backwards", func(tn *config.Tenant) { tn.Closures[0].To = "2026-08-01" }, "closures[0]: to 2026-08-01 is before"},
		{"bad pattern", func(tn *config.Tenant) { tn.Callers.VIP = []string{"+39[333"} }, "callers.vip[0]"},
		{"bad anonymous", func(tn *config.Tenant) { tn.Callers.Anonymous = "maybe" }, "callers.anonymous"},
		{"duplicate person", func(tn *config.Tenant) { tn.People[1].ID = "rossi" }, `people[1]: duplicate id "rossi"`},
		{"status of a stranger", rule(config.Conditions{Status: map[string][]string{"verdi": {"meeting"}}}), `rules[0].when: status: unknown person "verdi"`},
		{"unknown state", rule(config.Conditions{Status: map[string][]string{"rossi": {"lunch"}}}), `unknown state "lunch"`},
		{"unknown class", rule(config.Conditions{Caller: []string{"friend"}}), `caller "friend"`},
		{"bad day", rule(config.Conditions{Days: []string{"lun"}}), `days: day "lun"`},
		{"bad time", rule(config.Conditions{Time: "9-18"}), "rules[0].when: time"},
		{"ring a stranger", rule(config.Conditions{}, config.Action{Ring: &config.RingAction{People: []string{"verdi"}}}), `rules[0].do[0].ring.people: unknown person "verdi"`},
		{"mobile of a stranger", rule(config.Conditions{}, config.Action{Ring: &config.RingAction{Mobiles: []string{"verdi"}}}), `rules[0].do[0].ring.mobiles: unknown person "verdi"`},
		{"bad strategy", rule(config.Conditions{}, config.Action{Ring: &config.RingAction{Extensions: []string{"100"}, Strategy: "random"}}), `strategy "random"`},
		{"empty action", rule(config.Conditions{}, config.Action{}), "rules[0].do[0]: 0 actions set"},
		{"two actions", rule(config.Conditions{}, config.Action{Hangup: &config.HangupAction{}, Operator: &config.OperatorAction{}}), "rules[0].do[0]: 2 actions set"},
		{"inside a menu", rule(config.Conditions{}, config.Action{Menu: &config.MenuAction{Options: map[string][]config.Action{"1": {{}}}}}), "rules[0].do[0].menu.options[1][0]: 0 actions set"},
	}
	for _, tt := range tests {
		tn := office()
		tt.change(tn)
		_, err := Compile(tn, Defaults{RingTimeout: time.Second})
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "tenant rossi: ") {
			t.Errorf("%s: error %v, want one starting \"tenant rossi: \" and containing %q", tt.name, err, tt.want)
		}
	}
	if _, err := Compile(nil, Defaults{}); err == nil {
		t.Error("Compile(nil) succeeded")
	}
}

func TestCompileDefaults(t *testing.T) {
	tn := office()
	tn.Rules = []config.Rule{{Do: []config.Action{{Ring: &config.RingAction{Extensions: []string{"100"}}}, {Hangup: &config.HangupAction{}}}}}
	p, err := Compile(tn, Defaults{})
	if err != nil {
		t.Fatal(err)
	}
	d := p.Decide(Call{Caller: "+390298765432"}, State{}, at(t, "2026-04-08 10:00"))
	if got, want := summary(d.Steps), "ring(ext:100; parallel 30s) → hangup 480"; got != want {
		t.Errorf("zero Defaults: %s, want %s", got, want)
	}
	if p.Tenant() != tn {
		t.Error("Tenant() is not the compiled tenant")
	}
	if errors.Unwrap(err) != nil {
		t.Error("unexpected error")
	}
}

// Decisions from many goroutines agree with one made alone; run with -race.
func TestDecideConcurrent(t *testing.T) {
	p := compileT(t, lawyer())
	st := State{Statuses: map[string]Status{"rossi": {State: config.StatusMeeting, Until: at(t, "2026-04-08 12:00")}}}
	calls := []Call{{Caller: "+390298765432"}, {Caller: "+393331234567"}, {Caller: "anonymous"}, {Caller: "+393339991234"}}
	times := []time.Time{at(t, "2026-04-08 10:00"), at(t, "2026-04-08 12:30"), at(t, "2026-04-06 10:00"), at(t, "2026-08-12 10:00")}
	want := map[string]Decision{}
	for _, c := range calls {
		for _, now := range times {
			want[c.Caller+now.String()] = p.Decide(c, st, now)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(want))
	for g := 0; g < 8; g++ {
		wg.Go(func() {
			for _, c := range calls {
				for _, now := range times {
					if got := p.Decide(c, st, now); !reflect.DeepEqual(got, want[c.Caller+now.String()]) {
						errs <- fmt.Sprintf("%s at %s: %s, want %s", c.Caller, now, got.Rule, want[c.Caller+now.String()].Rule)
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
