package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDemoPlan checks the embedded demo tenant's plan (issue 3): ring
// extension 100 first at any hour, then the greeting that fits, then a
// voicemail; VIPs ring through.
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
		ring, vm := r.Do[0].Ring, r.Do[1].Voicemail
		if ring == nil || !slices.Equal(ring.Extensions, []string{"100"}) || ring.Timeout != 15*time.Second {
			t.Errorf("rule %s: first action %+v, want ring extension 100 for 15s", r.Name, ring)
		}
		// Under 6 seconds with the beep: about 12 words when spoken.
		if vm == nil || vm.Greeting.Say == "" || len(strings.Fields(vm.Greeting.Say)) > 12 {
			t.Errorf("rule %s: second action %+v, want a voicemail with a greeting of at most 12 words", r.Name, vm)
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
