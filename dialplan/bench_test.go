package dialplan

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/centralino/centralino/config"
)

// benchTenant has 20 rules of mixed conditions, the catch-all last, and
// three people with calendars.
func benchTenant() *config.Tenant {
	tn := office()
	tn.People = append(tn.People, config.Person{ID: "verdi", Extensions: []string{"103"}, Mobile: "+393339998888"})
	tn.Extensions = append(tn.Extensions, "103")
	tn.Holidays.Patron = config.Holiday{Date: "06-29"}
	people := []string{"rossi", "bianchi", "verdi"}
	hangup := config.Action{Hangup: &config.HangupAction{}}
	for i := range 19 {
		var w config.Conditions
		switch i % 5 {
		case 0:
			w = config.Conditions{Caller: []string{config.CallerVIP}, Days: []string{"sat"}}
		case 1:
			w = config.Conditions{Open: ptr(false), Holiday: ptr(true), Called: []string{fmt.Sprintf("+39069999%04d", i)}}
		case 2:
			w = config.Conditions{Status: map[string][]string{people[i%3]: {config.StatusAway}, people[(i+1)%3]: {config.StatusDND}}}
		case 3:
			w = config.Conditions{Time: "20:00-07:00", Days: []string{"weekdays"}, Closure: ptr(true)}
		case 4:
			w = config.Conditions{Caller: []string{config.CallerAnonymous}, Open: ptr(true)}
		}
		tn.Rules = append(tn.Rules, config.Rule{Name: fmt.Sprintf("r%d", i), When: w, Do: []config.Action{
			{Ring: &config.RingAction{People: []string{people[i%3]}, Mobiles: []string{people[(i+2)%3]}}}, hangup}})
	}
	tn.Rules = append(tn.Rules, config.Rule{Name: "office", When: config.Conditions{Status: map[string][]string{"rossi": {"available", "meeting"}}},
		Do: []config.Action{{Ring: &config.RingAction{People: people}}, {Operator: &config.OperatorAction{}}, {Voicemail: &config.VoicemailAction{}}}})
	return tn
}

// calendars gives each person 300 busy periods over 60 days around now:
// five a day, an hour each, so that now falls in one for some and in a
// gap for others.
func calendars(now time.Time, people ...string) map[string][]Busy {
	out := map[string][]Busy{}
	y, m, d := now.Date()
	start := time.Date(y, m, d-30, 0, 0, 0, 0, now.Location())
	for n, id := range people {
		var bs []Busy
		for day := range 60 {
			for k := range 5 {
				s := start.AddDate(0, 0, day).Add(time.Duration(8+2*k+n%2) * time.Hour)
				bs = append(bs, Busy{Start: s, End: s.Add(time.Hour), Summary: "Appuntamento"})
			}
		}
		out[id] = bs
	}
	return out
}

func BenchmarkDecide(b *testing.B) {
	p := compileT(b, benchTenant())
	now := at(b, "2026-04-08 10:30")
	st := State{
		Statuses: map[string]Status{"verdi": {State: config.StatusAway, Until: now.Add(-time.Hour)}},
		Busy:     calendars(now, "rossi", "bianchi", "verdi"),
	}
	call := Call{Caller: "+390298765432", Called: "+390612345678"}
	d := p.Decide(call, st, now)
	if d.RuleIndex != 19 {
		b.Fatalf("benchmark decision took rule %d (%s), want the last one:\n%s", d.RuleIndex, d.Rule, traceText(d.Trace))
	}
	if tr := traceText(d.Trace); !strings.Contains(tr, "meeting — calendar: Appuntamento 10:00-11:00") {
		b.Fatalf("the benchmark should read a calendar:\n%s", tr)
	}
	b.ReportAllocs()
	var sink Decision
	for b.Loop() {
		sink = p.Decide(call, st, now)
	}
	_ = sink
}
