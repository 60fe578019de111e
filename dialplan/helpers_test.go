package dialplan

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/centralino/centralino/config"
)

var rome = mustZone("Europe/Rome")

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// at is a wall-clock time in Rome: "2026-04-06 10:30".
func at(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.ParseInLocation("2006-01-02 15:04", s, rome)
	if err != nil {
		t.Fatalf("bad test time %q: %v", s, err)
	}
	return tm
}

func ptr[T any](v T) *T { return &v }

// office is a lawyer's office: two people, weekday hours with a lunch
// break, and a Friday night shift that crosses midnight.
func office() *config.Tenant {
	return &config.Tenant{
		ID:            "rossi",
		Name:          "Studio Legale Rossi",
		Numbers:       []string{"+390612345678"},
		Extensions:    []string{"100", "101", "102"},
		OutboundTrunk: "messagenet",
		Hours: config.Hours{
			Weekdays: []string{"09:00-13:00", "14:00-18:00"},
			Fri:      []string{"09:00-13:00", "22:00-06:00"},
		},
		Closures: []config.Closure{
			{From: "2026-08-10", To: "2026-08-21", Name: "Ferie", Greeting: config.Sound{Say: "Studio chiuso per ferie"}},
			{From: "2026-11-13", Name: "Malattia"},
		},
		People: []config.Person{
			{ID: "rossi", Name: "Avv. Mario Rossi", Extensions: []string{"101"}, Mobile: "+393331112222"},
			{ID: "bianchi", Name: "Dott.ssa Anna Bianchi", Extensions: []string{"102"}},
		},
		Callers: config.Callers{
			VIP:     []string{"+39333*", "+390611111111"},
			Blocked: []string{"+39333999*", "+39899*"},
		},
	}
}

func compileT(t testing.TB, tn *config.Tenant) *Plan {
	t.Helper()
	p, err := Compile(tn, Defaults{RingTimeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

// summary renders steps compactly for comparison in tables:
// "ring(ext:101@rossi mobile:+39333@rossi; sequential 20s) → hangup 480".
func summary(steps []Step) string {
	parts := make([]string, 0, len(steps))
	for _, s := range steps {
		parts = append(parts, stepString(s))
	}
	return strings.Join(parts, " → ")
}

func stepString(s Step) string {
	switch s.Kind {
	case KindRing:
		var ts []string
		for _, t := range s.Ring.Targets {
			k := "ext"
			if t.Kind == TargetMobile {
				k = "mobile"
			}
			v := k + ":" + t.Value
			if t.Person != "" {
				v += "@" + t.Person
			}
			ts = append(ts, v)
		}
		return fmt.Sprintf("ring(%s; %s %s)", strings.Join(ts, " "), s.Ring.Strategy, s.Ring.Timeout)
	case KindForward:
		return fmt.Sprintf("forward %s via %q %s", s.Forward.Number, s.Forward.Trunk, s.Forward.Timeout)
	case KindOperator:
		return fmt.Sprintf("operator %s", s.Operator.MaxWait)
	case KindPlay:
		return "play " + soundString(*s.Play)
	case KindMenu:
		var opts []string
		for _, k := range sortedKeys(s.Menu.Options) {
			opts = append(opts, k+": "+summary(s.Menu.Options[k]))
		}
		return fmt.Sprintf("menu(%s; %s; %s x%d)", soundString(s.Menu.Prompt), strings.Join(opts, "; "), s.Menu.Timeout, s.Menu.Retries)
	case KindVoicemail:
		return fmt.Sprintf("voicemail %s %s", soundString(s.Voicemail.Greeting), s.Voicemail.MaxLength)
	case KindHangup:
		return fmt.Sprintf("hangup %d", s.Hangup.Code)
	}
	return "?" + s.Kind
}

func soundString(s config.Sound) string {
	switch {
	case s.Closure:
		return "<closure>"
	case s.File != "":
		return s.File
	case s.Say != "":
		return "say:" + s.Say
	}
	return "<builtin>"
}

func traceText(tr []TraceLine) string {
	var b strings.Builder
	for _, l := range tr {
		b.WriteString(l.String())
		b.WriteByte('\n')
	}
	return b.String()
}
