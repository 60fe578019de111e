package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

// FuzzLoadBytes: whatever the file holds, loading never panics, and every
// problem found in the file points at a line (the only exception is the
// empty file, which has no line to point at).
func FuzzLoadBytes(f *testing.F) {
	clearEnv(f)
	f.Add(DemoYAML())
	for _, s := range []string{
		"",
		"{}",
		"a: b: c",
		"sip:\n  listen: 0.0.0.0:5060\n  min_expires: 2h\nhttp:\n  listen: 0.0.0.0:8080\n",
		"sip: {auth_algorithms: md5, nonce_ttl: 3}\nrtp: {ports: 5000-6000}\n",
		lookupYAML,
		registerTrunk + "    called_number: [to, to]\n    caller_id: {header: rpid}\n",
		twoExtensions + "tenants:\n  - id: a\n    extensions: [\"100\", \"100\", \"1\"]\n    outbound_trunk: x\n",
		"trunks:\n  - name: a\n    mode: ip\n    allow: &n [192.0.2.0/24]\n  - name: a\n    allow: *n\n",
		"x: &b {realm: a}\nsip:\n  <<: *b\n  realm: a\n  realm: b\n",
		"extensions:\n  - number: 0100\n    ha1: xyz\n  - {number: 0100, password: p, max_contacts: 0x10}\n",
		"tenants: [~, {id: a, numbers: [+390200000000, +390200000000]}]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := LoadBytes("f.yaml", data)
		if err == nil {
			if cfg == nil || cfg.RTP.PortMin < 1024 || cfg.RTP.PortMax <= cfg.RTP.PortMin {
				t.Fatalf("LoadBytes succeeded with an invalid result: %+v", cfg)
			}
			return
		}
		for _, e := range unwrapAll(err) {
			var ce *Error
			if !errors.As(e, &ce) {
				t.Fatalf("error %q is a %T, want *Error", e, e)
			}
			if ce.File == "f.yaml" && ce.Line <= 0 && ce.Msg != "file is empty: it has no settings" {
				t.Fatalf("error without a line: %q\ninput:\n%s", ce.Error(), data)
			}
		}
	})
}

// FuzzLoadTenant: whatever a tenant file holds, loading never panics, and
// every problem found in it points at a line.
func FuzzLoadTenant(f *testing.F) {
	clearEnv(f)
	f.Add(demoTenant())
	for _, name := range []string{"studio-legale-rossi.yaml", "poliambulatorio.yaml", "studio-commercialista.yaml"} {
		data, err := os.ReadFile(filepath.Join("../docs/examples", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"---\n",
		"- a\n",
		"name: T\n---\nname: U\n",
		tenantBase,
		tenantBase + "rules:\n  - do: [voicmail, {ring: {}, hangup: 1}, [x], {}]\n",
		tenantBase + "rules:\n  - when: {status: {anna: [x]}, caller: blocked, open: maybe}\n    do: &d [{menu: {options: {\"1\": *d}}}]\n",
		"a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\nrules: [{do: [{menu: {options: {\"1\": *c}}}]}]\n",
		"rules:\n  - do: &x\n      - menu: {options: {\"1\": *x}}\n",
		"hours: {mon: 09:00-13:00, tue: [\"24:00-01:00\"]}\nholidays: {patron: 13-01, extra: [2026-02-30]}\nclosures: [{from: x, to: y}]\n",
		"id: other\nname: \"\\x01\"\nnumbers: +39\ntime_zone: Mars/Olympus\n",
	} {
		f.Add([]byte(s))
	}
	main := []byte(tenantMain)
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{"tenants/t.yaml": &fstest.MapFile{Data: data}}
		cfg, err := loadAll(source{name: "c.yaml", data: main}, fsysFS{fsys})
		if err == nil {
			if cfg == nil || cfg.Tenant("t") == nil || cfg.Tenant("t").Location == nil {
				t.Fatalf("load succeeded with an incomplete result: %+v", cfg)
			}
			return
		}
		for _, e := range unwrapAll(err) {
			var ce *Error
			if !errors.As(e, &ce) {
				t.Fatalf("error %q is a %T, want *Error", e, e)
			}
			if ce.File == "tenants/t.yaml" && ce.Line <= 0 {
				t.Fatalf("error without a line: %q\ninput:\n%s", ce.Error(), data)
			}
		}
	})
}
