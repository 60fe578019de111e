package config

import (
	"fmt"
	"strings"
	"testing"
)

const lookupYAML = `
http:
  listen: 192.0.2.10:8080
  token: tok-secret
trunks:
  - name: ip
    mode: ip
    allow: [192.0.2.7]
  - name: mnet
    mode: register
    host: sip.messagenet.it
    username: "0212345678"
    password: trunk-secret
  - name: other
    mode: ip
    allow: [192.0.2.8]
    host: 192.0.2.8
extensions:
  - number: "100"
    password: ext-secret
  - number: "101"
    ha1: 0123456789abcdef0123456789abcdef
    ha1_sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
  - number: "200"
    password: ext-secret-2
tenants:
  - id: a
    name: A
    numbers: ["+390211111111", "+390222222222"]
    extensions: ["100", "101"]
  - id: b
    name: B
    numbers: ["+390633333333"]
    extensions: ["200"]
    outbound_trunk: other
`

// lookupFixtures returns the loaded config and the same data built by hand,
// without the index, so that both lookup paths are tested.
func lookupFixtures(t *testing.T) map[string]*Config {
	t.Helper()
	clearEnv(t)
	loaded := mustLoad(t, lookupYAML)
	byHand := &Config{
		Trunks: []Trunk{{Name: "ip"}, {Name: "mnet", Host: "sip.messagenet.it"}, {Name: "other", Host: "192.0.2.8"}},
		Extensions: []Extension{
			{Number: "100"}, {Number: "101"}, {Number: "200"},
		},
		Tenants: []Tenant{
			{ID: "a", Numbers: []string{"+390211111111", "+390222222222"}, Extensions: []string{"100", "101"}},
			{ID: "b", Numbers: []string{"+390633333333"}, Extensions: []string{"200"}, OutboundTrunk: "other"},
		},
	}
	return map[string]*Config{"loaded": loaded, "by hand": byHand, "redacted": loaded.Redacted()}
}

func TestLookups(t *testing.T) {
	for name, cfg := range lookupFixtures(t) {
		t.Run(name, func(t *testing.T) {
			tenantID := func(tn *Tenant) string {
				if tn == nil {
					return "<nil>"
				}
				return tn.ID
			}
			trunkName := func(tr *Trunk) string {
				if tr == nil {
					return "<nil>"
				}
				return tr.Name
			}
			tests := []struct{ expr, got, want string }{
				{`Tenant("a")`, tenantID(cfg.Tenant("a")), "a"},
				{`Tenant("b")`, tenantID(cfg.Tenant("b")), "b"},
				{`Tenant("c")`, tenantID(cfg.Tenant("c")), "<nil>"},
				{`Trunk("mnet")`, trunkName(cfg.Trunk("mnet")), "mnet"},
				{`Trunk("nope")`, trunkName(cfg.Trunk("nope")), "<nil>"},
				{`TenantOfExtension("101")`, tenantID(cfg.TenantOfExtension("101")), "a"},
				{`TenantOfExtension("200")`, tenantID(cfg.TenantOfExtension("200")), "b"},
				{`TenantOfExtension("999")`, tenantID(cfg.TenantOfExtension("999")), "<nil>"},
				{`TenantByNumber("+390222222222")`, tenantID(cfg.TenantByNumber("+390222222222")), "a"},
				{`TenantByNumber("+390633333333")`, tenantID(cfg.TenantByNumber("+390633333333")), "b"},
				{`TenantByNumber("0633333333")`, tenantID(cfg.TenantByNumber("0633333333")), "<nil>"},
				{`OutboundTrunk(a)`, trunkName(cfg.OutboundTrunk(cfg.Tenant("a"))), "mnet"}, // first with a host
				{`OutboundTrunk(b)`, trunkName(cfg.OutboundTrunk(cfg.Tenant("b"))), "other"},
				{`OutboundTrunk(nil)`, trunkName(cfg.OutboundTrunk(nil)), "mnet"},
			}
			for _, tt := range tests {
				if tt.got != tt.want {
					t.Errorf("%s = %s, want %s", tt.expr, tt.got, tt.want)
				}
			}
			if e := cfg.Extension("200"); e == nil || e.Number != "200" {
				t.Errorf(`Extension("200") = %+v`, e)
			}
			if e := cfg.Extension("300"); e != nil {
				t.Errorf(`Extension("300") = %+v, want nil`, e)
			}
			// Lookups point into the Config they were called on.
			if cfg.Tenant("b") != &cfg.Tenants[1] || cfg.Extension("101") != &cfg.Extensions[1] {
				t.Errorf("lookups do not point into this Config's lists")
			}
		})
	}
}

func TestOutboundTrunkNone(t *testing.T) {
	clearEnv(t)
	cfg := mustLoad(t, "trunks:\n  - name: ip\n    mode: ip\n    allow: [192.0.2.7]\n")
	if tr := cfg.OutboundTrunk(nil); tr != nil {
		t.Errorf("OutboundTrunk with no host anywhere = %s, want nil", tr.Name)
	}
	if tr := (&Config{}).OutboundTrunk(nil); tr != nil {
		t.Errorf("OutboundTrunk of an empty Config = %s, want nil", tr.Name)
	}
}

func TestRedacted(t *testing.T) {
	clearEnv(t)
	cfg := mustLoad(t, lookupYAML)
	r := cfg.Redacted()
	dump := fmt.Sprintf("%+v", *r)
	for _, secret := range []string{"tok-secret", "trunk-secret", "ext-secret", "0123456789abcdef"} {
		if strings.Contains(dump, secret) {
			t.Errorf("Redacted() still contains %q:\n%s", secret, dump)
		}
	}
	checks := []struct{ name, got, want string }{
		{"token", r.HTTP.Token, "***"},
		{"trunk password", r.Trunk("mnet").Password, "***"},
		{"ip trunk without password", r.Trunk("ip").Password, ""},
		{"password", r.Extension("100").Password, "***"},
		{"ha1", r.Extension("101").HA1, "***"},
		{"ha1_sha256", r.Extension("101").HA1SHA256, "***"},
		{"no ha1", r.Extension("100").HA1, ""},
		{"original password", cfg.Extension("100").Password, "ext-secret"},
		{"original token", cfg.HTTP.Token, "tok-secret"},
		{"original trunk password", cfg.Trunk("mnet").Password, "trunk-secret"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	// A deep copy: changing the copy's lists leaves the original alone.
	r.Tenants[0].Numbers[0] = "changed"
	r.Extensions[0].AllowOutbound[0] = "changed"
	r.Trunks[0].Allow[0] = "changed"
	r.SIP.AuthAlgorithms[0] = "changed"
	if cfg.Tenants[0].Numbers[0] == "changed" || cfg.Extensions[0].AllowOutbound[0] == "changed" ||
		cfg.Trunks[0].Allow[0] == "changed" || cfg.SIP.AuthAlgorithms[0] == "changed" {
		t.Errorf("Redacted shares lists with the original")
	}
}
