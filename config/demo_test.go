package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// TestDemoPlan checks the embedded demo tenant's plan (issue 3): ring
// extension 100 first at any hour, then the operators for 30 s, then the
// greeting that fits and a voicemail; VIPs ring through.
func TestDemoPlan(t *testing.T) {
	clearEnv(t)
	cfg, err := Demo()
	if err != nil {
		t.Fatalf("Demo: %v", err)
	}
	d := cfg.Tenant("demo")
	if d == nil {
		t.Fatal("no demo tenant")
	}
	var names []string
	for _, r := range d.Rules {
		names = append(names, r.Name)
	}
	week := []TimeRange{{9 * 60, 13 * 60}, {14 * 60, 18 * 60}}
	checks := []struct {
		name      string
		got, want any
	}{
		{"file", d.File, "tenants/demo.yaml"},
		{"person", d.People[0].ID + " " + d.People[0].Name + " " + strings.Join(d.People[0].Extensions, ","), "demo Dott. Demo 100,101"},
		{"monday", reflect.DeepEqual(d.Hours.Days[time.Monday], week), true},
		{"friday", reflect.DeepEqual(d.Hours.Days[time.Friday], week), true},
		{"saturday closed", len(d.Hours.Days[time.Saturday]) + len(d.Hours.Days[time.Sunday]), 0},
		{"national holidays", *d.Holidays.National, true},
		{"vip", strings.Join(d.Callers.VIP, ","), "+393331234567"},
		{"rules", strings.Join(names, ","), "vip,holiday,open,closed"},
		{"vip when", strings.Join(d.Rules[0].When.Caller, ","), CallerVIP},
		{"vip rings the person", strings.Join(d.Rules[0].Do[0].Ring.People, ","), "demo"},
		{"holiday when", *d.Rules[1].When.Holiday, true},
		{"open when", *d.Rules[2].When.Open, true},
		{"closed has no conditions", reflect.DeepEqual(d.Rules[3].When, Conditions{}), true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	for _, r := range d.Rules {
		last := r.Do[len(r.Do)-1]
		if last.Voicemail == nil {
			t.Errorf("rule %s does not end with a voicemail", r.Name)
		}
		if r.Name == "vip" {
			continue
		}
		if len(r.Do) != 3 {
			t.Errorf("rule %s has %d actions, want ring, operator, voicemail", r.Name, len(r.Do))
			continue
		}
		ring, op, vm := r.Do[0].Ring, r.Do[1].Operator, r.Do[2].Voicemail
		if ring == nil || !slices.Equal(ring.Extensions, []string{"100"}) || ring.Timeout != 15*time.Second {
			t.Errorf("rule %s: first action %+v, want ring extension 100 for 15s", r.Name, ring)
		}
		if op == nil || op.MaxWait != 30*time.Second {
			t.Errorf("rule %s: second action %+v, want operator with max_wait 30s", r.Name, op)
		}
		// Under 6 seconds with the beep: about 12 words when spoken.
		if vm == nil || vm.Greeting.Say == "" || len(strings.Fields(vm.Greeting.Say)) > 12 {
			t.Errorf("rule %s: third action %+v, want a voicemail with a greeting of at most 12 words", r.Name, vm)
		}
	}
}

// TestDemoConsole: the demo has one operator for every tenant, whose
// password is "demo", and the demo tenant shows the console what to say.
func TestDemoConsole(t *testing.T) {
	clearEnv(t)
	cfg, err := Demo()
	if err != nil {
		t.Fatalf("Demo: %v", err)
	}
	op := cfg.Operator("operatore")
	if op == nil {
		t.Fatal("no demo operator")
	}
	if err := bcrypt.CompareHashAndPassword([]byte(op.PasswordHash), []byte("demo")); err != nil {
		t.Errorf("the demo operator's password is not \"demo\": %v", err)
	}
	if cost, _ := bcrypt.Cost([]byte(op.PasswordHash)); cost != DefaultPasswordCost {
		t.Errorf("demo hash cost %d, want %d", cost, DefaultPasswordCost)
	}
	d := cfg.Tenant("demo")
	contact, ok := d.Contact("+393331234567")
	checks := []struct {
		name      string
		got, want any
	}{
		{"operator name", op.Name, "Operatore Demo"},
		{"operator tenants", strings.Join(op.Tenants, ","), "*"},
		{"operator serves demo", op.Serves("demo"), true},
		{"operator language", op.Language, "it"},
		{"webrtc listen", cfg.Console.WebRTCListen, cfg.HTTP.Listen},
		{"queue", cfg.Console.Queue.Strategy, QueueRingAll},
		{"answer phrase", d.Console.AnswerPhrase, "Studio Demo, buongiorno"},
		{"instructions", d.Console.Instructions != "", true},
		{"role", d.People[0].Role, "commercialista"},
		{"contact", contact.Name, "Mario Rossi"},
		{"contact found", ok, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestDemoYAML: the one-file demo that `centralino demo-config` prints
// loads to the same tenant as the embedded demo.
func TestDemoYAML(t *testing.T) {
	clearEnv(t)
	t.Chdir(t.TempDir()) // no tenants folder around
	demo, err := Demo()
	if err != nil {
		t.Fatalf("Demo: %v", err)
	}
	one, err := LoadBytes("centralino.yaml", DemoYAML())
	if err != nil {
		t.Fatalf("LoadBytes(DemoYAML()): %v", err)
	}
	a, b := *demo.Tenant("demo"), *one.Tenant("demo")
	if a.Location.String() != b.Location.String() {
		t.Errorf("locations %s and %s", a.Location, b.Location)
	}
	a.File, a.Location, b.Location = "", nil, nil
	if !reflect.DeepEqual(a, b) {
		t.Errorf("inline demo tenant differs from the embedded one:\n%+v\n%+v", b, a)
	}
}
