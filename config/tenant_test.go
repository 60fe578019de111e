package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// tenantMain declares what the tenant files of the tests refer to.
const tenantMain = `trunks:
  - name: mnet
    mode: register
    host: sip.example.com
    username: u
    password: p
  - name: ip
    mode: ip
    allow: [192.0.2.1]
extensions:
  - {number: "100", password: a}
  - {number: "101", password: b}
  - {number: "102", password: c}
`

// tenantBase is the start of tenant file t.yaml in the tests: lines 1-6.
const tenantBase = `name: T
numbers: ["+390212345678"]
extensions: ["100", "101"]
people:
  - {id: anna, extensions: ["100"], mobile: "+393331111111"}
  - {id: bruno, extensions: ["101"]}
`

// loadFS loads main as c.yaml with the files of an in-memory tree (names
// like "tenants/t.yaml"), and returns the config and the error lines.
func loadFS(t *testing.T, main string, files map[string]string) (*Config, []string) {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	cfg, err := loadAll(source{name: "c.yaml", data: []byte(main)}, fsysFS{fsys})
	return cfg, errorLines(t, err)
}

// loadTenant loads tenantMain with tenants/t.yaml and extra files.
func loadTenant(t *testing.T, tenant string, extra ...string) (*Config, []string) {
	t.Helper()
	files := map[string]string{"tenants/t.yaml": tenant}
	for _, name := range extra {
		files[name] = "RIFF"
	}
	return loadFS(t, tenantMain, files)
}

func TestTenantFileErrors(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name  string
		yaml  string
		extra []string // other files in the tree
		want  []string
	}{
		{"valid", tenantBase, nil, nil},

		// Shape: what the decoder refuses.
		{"empty file", "", nil, []string{"tenants/t.yaml:1:1: file is empty: a tenant file holds one tenant (name:, numbers:, rules:, ...)"}},
		{"comments only", "# nothing yet\n", nil, []string{"tenants/t.yaml:1:1: file is empty: a tenant file holds one tenant (name:, numbers:, rules:, ...)"}},
		{"syntax", "name: a: b\n", nil, []string{"tenants/t.yaml:1: invalid YAML: mapping values are not allowed in this context"}},
		{"two documents", "name: A\n---\nname: B\n", nil, []string{
			"tenants/t.yaml:2:1: a tenant file holds one tenant: move this document (after ---) to a file of its own",
		}},
		{"not a mapping", "- name: A\n", nil, []string{"tenants/t.yaml:1:1: a tenant must be a mapping (id:, name:, numbers:, ...), not a list"}},
		{"unknown keys", tenantBase + "hour:\n  mon: []\npeople2: []\n", nil, []string{
			`tenants/t.yaml:7:1: hour: unknown key (did you mean "hours"?)`,
			`tenants/t.yaml:9:1: people2: unknown key (did you mean "people"?)`,
		}},
		{"duplicate key", tenantBase + "name: U\n", nil, []string{"tenants/t.yaml:7:1: name: duplicate key (first set at line 1)"}},
		{"wrong shapes", tenantBase + "hours: [mon]\nholidays: {national: maybe}\nclosures: {from: x}\n", nil, []string{
			"tenants/t.yaml:7:8: hours: must be a mapping (key: value lines), not a list",
			`tenants/t.yaml:8:22: holidays.national: "maybe" is not true or false`,
			`tenants/t.yaml:9:11: closures: must be a list (one "- item" per line, or [a, b]), not a mapping`,
		}},
		{"unknown action", tenantBase + "rules:\n  - do:\n      - ring: {people: [anna]}\n      - voicmail\n      - dial: 100\n", nil, []string{
			`tenants/t.yaml:10:9: rules[0].do[1]: unknown action "voicmail" (did you mean "voicemail"?)`,
			`tenants/t.yaml:11:9: rules[0].do[2]: unknown action "dial"; actions are ring, forward, operator, play, menu, voicemail, hangup`,
		}},
		{"action shapes", tenantBase + "rules:\n  - do:\n      - {}\n      - {ring: {people: [anna]}, hangup: {}}\n      - [hangup]\n      - play: hello\n", nil, []string{
			"tenants/t.yaml:9:9: rules[0].do[0]: empty action: write one of ring, forward, operator, play, menu, voicemail, hangup",
			"tenants/t.yaml:10:9: rules[0].do[1]: an action has exactly one key, this one has 2 (ring, hangup): write each action as its own list item",
			"tenants/t.yaml:11:9: rules[0].do[2]: an action is a bare word (- hangup, - voicemail, - operator) or a one-key mapping (- ring: {people: [rossi]}), not a list",
			`tenants/t.yaml:12:15: rules[0].do[3].play: must be a mapping: {file: greeting.wav}, {say: "text to speak"} or {closure: true}, not a single value`,
		}},
		{"bad values", tenantBase + "rules:\n  - do:\n      - ring: {people: [anna], timeout: 20}\n      - hangup: {code: busy}\n", nil, []string{
			`tenants/t.yaml:9:41: rules[0].do[0].ring.timeout: "20" is not a duration: write a number with a unit, like "30s" or "5m"`,
			`tenants/t.yaml:10:24: rules[0].do[1].hangup.code: "busy" is not a whole number`,
		}},
		{"empty list item", tenantBase + "callers:\n  vip:\n    -\n", nil, []string{"tenants/t.yaml:9:6: callers.vip[0]: empty list item"}},
		{"merge key", "x: &x {name: T}\n<<: *x\n", nil, []string{
			"tenants/t.yaml:1:1: x: unknown key",
			"tenants/t.yaml:2:1: YAML merge keys (<<) are not supported: write the settings out",
		}},
		{"unquoted star", tenantBase + "rules:\n  - do:\n      - menu:\n          options: {*: [hangup]}\n", nil, []string{
			"tenants/t.yaml:10: invalid YAML: did not find expected alphabetic or numeric character",
		}},

		// Identity.
		{"id matches the file name", "id: t\n" + tenantBase, nil, nil},
		{"id does not match", "id: rossi\n" + tenantBase, nil, []string{
			`tenants/t.yaml:1:5: id: "rossi" does not match the file name, which gives "t": rename the file or fix the id (or leave id out)`,
		}},
		{"identity", "name: \"T\\n\"\nnumbers: [\"0212345678\"]\nextensions: [\"100\", \"109\"]\noutbound_trunk: ip\nlanguage: fr\ntime_zone: Europe/Roma\n", nil, []string{
			"tenants/t.yaml:1:7: name: must not contain control characters (line breaks, tabs, ...)",
			`tenants/t.yaml:2:11: numbers[0]: "0212345678" must be an E.164 number like +390212345678`,
			`tenants/t.yaml:3:21: extensions[1]: extension "109" is not defined in extensions`,
			`tenants/t.yaml:4:17: outbound_trunk: trunk "ip" has no host, so it cannot place calls`,
			`tenants/t.yaml:5:11: language: "fr" is not one of it, en`,
			`tenants/t.yaml:6:12: time_zone: "Europe/Roma" is not a time zone: write an IANA name like "Europe/Rome" or "Europe/London"`,
		}},
		{"name required, local zone", "numbers: []\ntime_zone: Local\n", nil, []string{
			"tenants/t.yaml:1:1: name: required",
			`tenants/t.yaml:2:12: time_zone: "Local" is not a time zone: write an IANA name like "Europe/Rome"`,
		}},

		// Hours, holidays, closures.
		{"hours", tenantBase + "hours:\n  weekdays: [\"09:00-13:00\", \"9-13\"]\n  sat: [\"24:00-02:00\", \"10:00-10:00\", \"22:00-24:30\"]\n", nil, []string{
			`tenants/t.yaml:8:29: hours.weekdays[1]: "9-13": "9" is not a time; write a range "HH:MM-HH:MM", like "09:00-13:00"`,
			`tenants/t.yaml:9:9: hours.sat[0]: "24:00-02:00": a range cannot start at 24:00: write 00:00`,
			`tenants/t.yaml:9:24: hours.sat[1]: "10:00-10:00": start and end are the same time`,
			`tenants/t.yaml:9:39: hours.sat[2]: "22:00-24:30": "24:30" is not a time from 00:00 to 24:00; write a range "HH:MM-HH:MM", like "09:00-13:00"`,
		}},
		{"holidays", tenantBase + "holidays:\n  patron: \"02-30\"\n  extra: [\"02-29\", 2026-12-24, \"2026-02-29\", \"24-12\", {date: \"12-31\", name: San Silvestro}]\n", nil, []string{
			`tenants/t.yaml:8:11: holidays.patron: "02-30" is not a day of the year: write "MM-DD", like "12-07" (the patron saint's day, every year)`,
			`tenants/t.yaml:9:32: holidays.extra[2]: "2026-02-29" is not a date: write "YYYY-MM-DD" for one day, or "MM-DD" for every year`,
			`tenants/t.yaml:9:46: holidays.extra[3]: "24-12" is not a date: write "YYYY-MM-DD" for one day, or "MM-DD" for every year`,
		}},
		{"closures", tenantBase + "closures:\n  - {to: 2026-08-20}\n  - {from: 2026-08-20, to: 2026-08-10}\n  - {from: 2026-8-1}\n  - {from: 2026-08-01, greeting: {closure: true}}\n  - {from: 2026-08-01, greeting: {}}\n", nil, []string{
			`tenants/t.yaml:8:5: closures[0].from: required: the first day, "YYYY-MM-DD"`,
			"tenants/t.yaml:9:28: closures[1].to: 2026-08-10 is before from (2026-08-20): the last day must not come before the first",
			`tenants/t.yaml:10:12: closures[2].from: "2026-8-1" is not a date: write "YYYY-MM-DD", like "2026-08-10"`,
			"tenants/t.yaml:11:44: closures[3].greeting.closure: closure: true plays the greeting of the closure in force, which makes no sense here: use file or say",
			"tenants/t.yaml:12:34: closures[4].greeting: set one of file (a .wav file) or say (a text to speak), or leave it out",
		}},

		// People and callers.
		{"people", "name: T\nextensions: [\"100\"]\npeople:\n  - {id: Anna}\n  - {id: bea, extensions: [\"101\"], mobile: \"3331111111\"}\n  - {id: bea}\n  - {name: C}\n", nil, []string{
			`tenants/t.yaml:4:10: people[0].id: "Anna" must be lower-case letters, digits, "-" or "_", starting with a letter or digit`,
			`tenants/t.yaml:5:28: people[1].extensions[0]: extension "101" is not one of this tenant's extensions (100)`,
			`tenants/t.yaml:5:44: people[1].mobile: "3331111111" must be an E.164 number like +393331234567`,
			`tenants/t.yaml:6:10: people[2].id: "bea" is already used by people[1] (line 5); person ids must be unique in a tenant`,
			"tenants/t.yaml:7:5: people[3].id: required",
		}},
		{"calendars", "name: T\npeople:\n  - {id: a, calendar: \"https://cal.example.com/a.ics?token=x\"}\n  - {id: b, calendar: \"webcal://cal.example.com/b.ics\"}\n  - {id: c, calendar: \"ftp://x/c.ics\"}\n  - {id: d, calendar: d.ics}\n  - {id: e, calendar: e.ics}\n  - {id: f, calendar: \"https://\"}\n", []string{"tenants/d.ics"}, []string{
			"tenants/t.yaml:4:23: people[1].calendar: write https:// instead of webcal:// (it is the same address)",
			`tenants/t.yaml:5:23: people[2].calendar: "ftp://x/c.ics" must be an http(s) URL or a file`,
			"tenants/t.yaml:7:23: people[4].calendar: cannot read tenants/e.ics: file does not exist (a relative path is relative to the folder of tenants/t.yaml)",
			`tenants/t.yaml:8:23: people[5].calendar: "https://" is not a valid URL`,
		}},
		{"callers", tenantBase + "callers:\n  vip: [\"+39[\", \"\"]\n  blocked: [\"+39899*\"]\n  anonymous: sometimes\nrules:\n  - {when: {caller: vip}, do: voicemail}\n", nil, []string{
			`tenants/t.yaml:8:9: callers.vip[0]: "+39[" is not a valid pattern: use * for any digits, ? for one digit, [0-9] for a set`,
			"tenants/t.yaml:8:17: callers.vip[1]: empty pattern",
			`tenants/t.yaml:10:14: callers.anonymous: "sometimes" is not one of allow, reject`,
		}},
		{"vip without a rule", tenantBase + "callers:\n  vip: [\"+39333*\"]\nrules:\n  - {do: voicemail}\n", nil, []string{
			"tenants/t.yaml:8:8: callers.vip: VIP callers are listed but no rule has `caller: vip`, so they get nothing special: add a rule (usually the first) saying what happens to them",
		}},

		// Conditions.
		{"conditions", tenantBase + "callers:\n  anonymous: reject\nrules:\n  - when:\n      caller: [blocked, anonymous, friend, vip, other]\n      called: [\"+390299999999\", \"02123\"]\n      status: {anna: [meeting, busy], carla: away, bruno: []}\n      days: [monday, weekend]\n      time: \"18:00-18:00\"\n      open: true\n    do: voicemail\n", nil, []string{
			"tenants/t.yaml:11:16: rules[0].when.caller[0]: blocked callers are refused before any rule, so no rule sees them: use vip, anonymous or other",
			"tenants/t.yaml:11:25: rules[0].when.caller[1]: anonymous callers are rejected before any rule (callers.anonymous is reject), so this never matches",
			`tenants/t.yaml:11:36: rules[0].when.caller[2]: "friend" is not one of vip, anonymous, other`,
			"tenants/t.yaml:11:44: rules[0].when.caller[3]: no numbers are listed in callers.vip, so no caller is a VIP",
			"tenants/t.yaml:12:16: rules[0].when.called[0]: +390299999999 is not one of this tenant's numbers (+390212345678)",
			`tenants/t.yaml:12:33: rules[0].when.called[1]: "02123" must be an E.164 number like +390212345678`,
			`tenants/t.yaml:13:32: rules[0].when.status.anna[1]: "busy" is not one of available, meeting, away, dnd`,
			"tenants/t.yaml:13:39: rules[0].when.status.carla: no person \"carla\" in people",
			"tenants/t.yaml:13:52: rules[0].when.status.bruno: list at least one of available, meeting, away, dnd",
			`tenants/t.yaml:14:14: rules[0].when.days[0]: "monday" is not one of mon, tue, wed, thu, fri, sat, sun, weekdays, weekend`,
			`tenants/t.yaml:15:13: rules[0].when.time: "18:00-18:00": start and end are the same time`,
			"tenants/t.yaml:16:13: rules[0].when.open: the tenant has no hours, so it is never open: add hours, or remove this condition",
		}},
		{"unreachable rule", tenantBase + "rules:\n  - {name: all, do: voicemail}\n  - {name: never, when: {open: false}, do: voicemail}\n", nil, []string{
			"tenants/t.yaml:9:5: rules[1]: never used: rules[0] (line 8) has no conditions, so it takes every call",
		}},

		// Sequences and actions.
		{"terminal actions", tenantBase + "rules:\n  - when: {days: weekdays}\n    do:\n      - ring: {people: [anna]}\n  - when: {days: weekend}\n    do:\n      - hangup\n      - ring: {people: [anna]}\n      - voicemail\n  - when: {time: \"09:00-10:00\"}\n    do: []\n", nil, []string{
			`tenants/t.yaml:10:9: rules[0].do: the last action is "ring"; a sequence must end with hangup or voicemail, so that no call is left without an answer`,
			"tenants/t.yaml:14:9: rules[1].do[1]: never runs: hangup (line 13) ends the call, so the actions after it are unreachable",
			"tenants/t.yaml:17:9: rules[2].do: no actions: list what to do, ending with hangup or voicemail",
		}},
		{"ring", tenantBase + "rules:\n  - do:\n      - ring\n      - ring: {people: [ana, bruno], mobiles: [bruno, anna], extensions: [\"100\", \"109\"], strategy: random, timeout: 500ms}\n      - hangup\n", nil, []string{
			"tenants/t.yaml:9:9: rules[0].do[0].ring: ring needs at least one of people, mobiles or extensions, like ring: {people: [rossi]}",
			`tenants/t.yaml:10:25: rules[0].do[1].ring.people[0]: no person "ana" in people (did you mean "anna"?)`,
			"tenants/t.yaml:10:48: rules[0].do[1].ring.mobiles[0]: person \"bruno\" has no mobile number: set people[].mobile",
			`tenants/t.yaml:10:82: rules[0].do[1].ring.extensions[1]: extension "109" is not defined in extensions`,
			`tenants/t.yaml:10:100: rules[0].do[1].ring.strategy: "random" is not one of parallel, sequential`,
			"tenants/t.yaml:10:117: rules[0].do[1].ring.timeout: 500ms is too short: must be at least 1s",
		}},
		{"ring a person without extensions", "name: T\npeople: [{id: a, mobile: \"+393331111111\"}]\nrules:\n  - do: [{ring: {people: [a]}}, hangup]\n", nil, []string{
			"tenants/t.yaml:4:27: rules[0].do[0].ring.people[0]: person \"a\" has no extensions to ring: give them extensions, or ring their mobile (mobiles: [a])",
		}},
		{"forward", tenantBase + "rules:\n  - do:\n      - forward\n      - forward: {number: \"3331234567\", trunk: ip, timeout: 0s}\n      - forward: {number: \"+393331234567\", trunk: nope}\n      - voicemail\n", nil, []string{
			"tenants/t.yaml:9:9: rules[0].do[0].forward.number: required: the E.164 number to forward to, like +393331234567",
			`tenants/t.yaml:10:27: rules[0].do[1].forward.number: "3331234567" must be an E.164 number like +393331234567`,
			`tenants/t.yaml:10:48: rules[0].do[1].forward.trunk: trunk "ip" has no host, so it cannot place calls`,
			"tenants/t.yaml:10:61: rules[0].do[1].forward.timeout: 0s is too short: must be at least 1s",
			`tenants/t.yaml:11:51: rules[0].do[2].forward.trunk: trunk "nope" is not defined in trunks`,
		}},
		{"sounds", tenantBase + "rules:\n  - do:\n      - play\n      - play: {say: hi, file: a.wav}\n      - play: {file: a.mp3}\n      - play: {file: missing.wav}\n      - play: {file: ok.wav}\n      - play: {say: \"  \"}\n      - play: {closure: true}\n      - voicemail: {greeting: {closure: true}}\n", []string{"tenants/ok.wav"}, []string{
			"tenants/t.yaml:9:9: rules[0].do[0].play: set one of file (a .wav file), say (a text to speak) or closure: true",
			"tenants/t.yaml:10:15: rules[0].do[1].play: set only one of file, say or closure",
			`tenants/t.yaml:11:22: rules[0].do[2].play.file: "a.mp3" must be a .wav file`,
			"tenants/t.yaml:12:22: rules[0].do[3].play.file: cannot read tenants/missing.wav: file does not exist (a relative path is relative to the folder of tenants/t.yaml)",
			"tenants/t.yaml:14:21: rules[0].do[5].play.say: is empty: write the text to speak",
		}},
		{"menu", tenantBase + "rules:\n  - do:\n      - menu:\n          options: {}\n          retries: 9\n          timeout: 0s\n      - menu:\n          prompt: {say: Scegliete}\n          options:\n            1: [ring: {people: [anna]}]\n            \"#\": voicemail\n            \"10\": [hangup]\n            1x: [hangup]\n            \"123456789\": [hangup]\n          digit_timeout: 100ms\n      - hangup\n", nil, []string{
			"tenants/t.yaml:10:11: rules[0].do[0].menu.prompt: set one of file (a .wav file), say (a text to speak) or closure: true",
			`tenants/t.yaml:10:20: rules[0].do[0].menu.options: list at least one option: a key ("0"-"9", "*", "#"), or several, and the actions it runs`,
			"tenants/t.yaml:11:20: rules[0].do[0].menu.retries: 9 must be from 0 to 5",
			"tenants/t.yaml:12:20: rules[0].do[0].menu.timeout: 0s is too short: must be at least 1s",
			`tenants/t.yaml:16:17: rules[0].do[1].menu.options.1: the last action is "ring"; a sequence must end with hangup or voicemail, so that no call is left without an answer`,
			`tenants/t.yaml:17:13: rules[0].do[1].menu.options.#: "#": when a choice has more than one key, "#" ends the caller's input, so no choice may use it`,
			`tenants/t.yaml:19:13: rules[0].do[1].menu.options.1x: "1x" is not a choice of phone keys: use "0"-"9", "*" and "#" (quote * and #)`,
			`tenants/t.yaml:20:13: rules[0].do[1].menu.options.123456789: "123456789" is 9 keys long: a choice has at most 8`,
			"tenants/t.yaml:21:26: rules[0].do[1].menu.digit_timeout: 100ms is too short: must be at least 1s",
		}},
		{"voicemail and hangup", tenantBase + "rules:\n  - do:\n      - voicemail: {max_length: 2s}\n  - do:\n      - voicemail: {max_length: 1h}\n  - do:\n      - hangup: {code: 200}\n", nil, []string{
			"tenants/t.yaml:9:33: rules[0].do[0].voicemail.max_length: 2s must be from 5s to 10m",
			"tenants/t.yaml:10:5: rules[1]: never used: rules[0] (line 8) has no conditions, so it takes every call",
			"tenants/t.yaml:11:33: rules[1].do[0].voicemail.max_length: 1h must be from 5s to 10m",
			"tenants/t.yaml:13:24: rules[2].do[0].hangup.code: 200 must be a SIP failure status from 400 to 699, like 480 (unavailable) or 486 (busy)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := loadTenant(t, tt.yaml, tt.extra...)
			checkLines(t, got, tt.want)
		})
	}
}

func TestTenantValues(t *testing.T) {
	clearEnv(t)
	cfg, errs := loadTenant(t, tenantBase+`hours:
  weekdays: ["09:00-13:00", "14:00-18:00"]
  weekend: ["10:00-12:00"]
  fri: "09:00-13:00"
  sun: []
holidays:
  patron: "12-07"
  extra: [2026-12-24]
closures:
  - {from: 2026-08-10, greeting: {file: ferie.wav}}
callers:
  vip: "+39333*"
rules:
  - name: vip
    when: {caller: vip}
    do:
      - ring: {people: [anna], mobiles: [anna]}
      - forward: {number: "+393331234567"}
      - operator
      - menu:
          prompt: {say: Scegliete}
          options: {"1": hangup}
      - voicemail
  - name: night
    when: {status: {anna: dnd}, time: "22:00-06:00", days: weekdays}
    do: hangup
`, "tenants/ferie.wav")
	if errs != nil {
		t.Fatalf("load: %v", errs)
	}
	tn := cfg.Tenant("t")
	if tn == nil {
		t.Fatal("tenant t (from the file name t.yaml) not found")
	}
	r0 := tn.Rules[0].Do
	tests := []struct {
		name      string
		got, want any
	}{
		{"id", tn.ID, "t"},
		{"file", tn.File, "tenants/t.yaml"},
		{"language", tn.Language, "it"},
		{"time zone", tn.TimeZone, "Europe/Rome"},
		{"location", tn.Location.String(), "Europe/Rome"},
		{"national holidays", *tn.Holidays.National, true},
		{"patron shorthand", tn.Holidays.Patron.Date, "12-07"},
		{"unquoted date", tn.Holidays.Extra[0].Date, "2026-12-24"},
		{"closure to", tn.Closures[0].To, "2026-08-10"},
		{"closure greeting resolved", tn.Closures[0].Greeting.File, "tenants/ferie.wav"},
		{"anonymous", tn.Callers.Anonymous, AnonymousAllow},
		{"vip shorthand", strings.Join(tn.Callers.VIP, ","), "+39333*"},
		{"mon", tn.Hours.Days[time.Monday], []TimeRange{{9 * 60, 13 * 60}, {14 * 60, 18 * 60}}},
		{"fri overrides weekdays", tn.Hours.Days[time.Friday], []TimeRange{{9 * 60, 13 * 60}}},
		{"sat from weekend", tn.Hours.Days[time.Saturday], []TimeRange{{10 * 60, 12 * 60}}},
		{"sun emptied", len(tn.Hours.Days[time.Sunday]), 0},
		{"caller shorthand", tn.Rules[0].When.Caller, []string{CallerVIP}},
		{"ring strategy", r0[0].Ring.Strategy, RingParallel},
		{"ring timeout", r0[0].Ring.Timeout, 30 * time.Second},
		{"forward timeout", r0[1].Forward.Timeout, 60 * time.Second},
		{"forward trunk", r0[1].Forward.Trunk, "mnet"},
		{"operator max wait", r0[2].Operator.MaxWait, 60 * time.Second},
		{"menu timeout", r0[3].Menu.Timeout, 5 * time.Second},
		{"menu retries", r0[3].Menu.Retries, 2},
		{"menu option shorthand", r0[3].Menu.Options["1"][0].Hangup.Code, 480},
		{"voicemail max length", r0[4].Voicemail.MaxLength, 120 * time.Second},
		{"status shorthand", tn.Rules[1].When.Status["anna"], []string{StatusDND}},
		{"days shorthand", tn.Rules[1].When.Days, []string{"weekdays"}},
		{"do shorthand", tn.Rules[1].Do[0].Hangup.Code, 480},
		{"features", cfg.Features, Features{Available: "*30", Meeting: "*31", Away: "*32", DND: "*33"}},
		{"tenant by number", cfg.TenantByNumber("+390212345678").ID, "t"},
		{"tenant of extension", cfg.TenantOfExtension("101").ID, "t"},
		{"caller id from the file tenant", cfg.Extension("100").CallerID, "+390212345678"},
	}
	for _, tt := range tests {
		if !equal(tt.got, tt.want) {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

// equal compares test values, slices included.
func equal(a, b any) bool {
	switch a := a.(type) {
	case []TimeRange:
		return slices.Equal(a, b.([]TimeRange))
	case []string:
		return slices.Equal(a, b.([]string))
	}
	return a == b
}

func TestTenantExplicitValues(t *testing.T) {
	clearEnv(t)
	cfg, errs := loadTenant(t, tenantBase+`language: EN
time_zone: America/New_York
holidays: {national: false}
callers: {anonymous: Reject}
rules:
  - do:
      - ring: {extensions: ["102"], strategy: Sequential, timeout: 12s}
      - menu: {prompt: {say: x}, options: {"0": [hangup]}, retries: 0, timeout: 3s}
      - hangup: {code: 486}
`)
	if errs != nil {
		t.Fatalf("load: %v", errs)
	}
	tn := cfg.Tenant("t")
	do := tn.Rules[0].Do
	tests := []struct {
		name      string
		got, want any
	}{
		{"language", tn.Language, "en"},
		{"location", tn.Location.String(), "America/New_York"},
		{"national", *tn.Holidays.National, false},
		{"anonymous", tn.Callers.Anonymous, AnonymousReject},
		{"strategy", do[0].Ring.Strategy, RingSequential},
		{"ring timeout", do[0].Ring.Timeout, 12 * time.Second},
		{"menu retries 0 kept", do[1].Menu.Retries, 0},
		{"menu timeout", do[1].Menu.Timeout, 3 * time.Second},
		{"hangup code", do[2].Hangup.Code, 486},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestParseTimeRange(t *testing.T) {
	tests := []struct {
		in   string
		want TimeRange
		err  bool
	}{
		{"09:00-13:00", TimeRange{540, 780}, false},
		{"9:30 - 13:05", TimeRange{570, 785}, false},
		{"22:00-06:00", TimeRange{1320, 360}, false}, // crosses midnight
		{"00:00-24:00", TimeRange{0, 1440}, false},
		{"18:00-00:00", TimeRange{1080, 0}, false},
		{"09:00", TimeRange{}, true},
		{"09:00-09:00", TimeRange{}, true},
		{"24:00-06:00", TimeRange{}, true},
		{"09:60-10:00", TimeRange{}, true},
		{"25:00-26:00", TimeRange{}, true},
		{"9-10", TimeRange{}, true},
		{"09:00-13:00-14:00", TimeRange{}, true},
	}
	for _, tt := range tests {
		got, err := ParseTimeRange(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseTimeRange(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestTenantsDir(t *testing.T) {
	clearEnv(t)
	t.Run("files, inline and ignored names", func(t *testing.T) {
		main := tenantMain + "tenants:\n  - {id: inline, name: I, extensions: [\"102\"]}\n"
		cfg, errs := loadFS(t, main, map[string]string{
			"tenants/a.yaml":       "name: A\nnumbers: [\"+390211111111\"]\n",
			"tenants/b.yml":        "name: B\n",
			"tenants/.hidden.yaml": "broken: [",
			"tenants/c.yaml~":      "broken: [",
			"tenants/.#c.yaml":     "broken: [",
			"tenants/.c.yaml.swp":  "broken: [",
			"tenants/notes.txt":    "broken: [",
			"tenants/sub/d.yaml":   "broken: [",
		})
		if errs != nil {
			t.Fatalf("load: %v", errs)
		}
		var ids []string
		for _, tn := range cfg.Tenants {
			ids = append(ids, tn.ID+":"+tn.File)
		}
		if got, want := strings.Join(ids, " "), "inline: a:tenants/a.yaml b:tenants/b.yml"; got != want {
			t.Errorf("tenants = %s, want %s", got, want)
		}
	})
	t.Run("missing default folder", func(t *testing.T) {
		if _, errs := loadFS(t, tenantMain, nil); errs != nil {
			t.Errorf("load without a tenants folder: %v", errs)
		}
	})
	t.Run("missing explicit folder", func(t *testing.T) {
		_, errs := loadFS(t, tenantMain+"tenants_dir: clients\n", nil)
		checkLines(t, errs, []string{"c.yaml:14:1: tenants_dir: cannot read the tenants folder clients: file does not exist"})
	})
	t.Run("explicit folder", func(t *testing.T) {
		cfg, errs := loadFS(t, tenantMain+"tenants_dir: clients\n", map[string]string{"clients/x.yaml": "name: X\n"})
		if errs != nil || cfg.Tenant("x") == nil || cfg.TenantsDir != "clients" {
			t.Errorf("load: %v; tenant x: %v", errs, cfg != nil && cfg.Tenant("x") != nil)
		}
	})
	t.Run("default tenant in a file", func(t *testing.T) {
		main := strings.Replace(tenantMain, "    allow: [192.0.2.1]\n", "    allow: [192.0.2.1]\n    default_tenant: x\n", 1)
		if _, errs := loadFS(t, main, map[string]string{"tenants/x.yaml": "name: X\n"}); errs != nil {
			t.Errorf("load: %v", errs)
		}
		_, errs := loadFS(t, main, nil)
		checkLines(t, errs, []string{`c.yaml:10:5: trunks[1].default_tenant: tenant "x" is not defined (inline under tenants, or as x.yaml in tenants_dir tenants)`})
	})
	t.Run("file name is not an id", func(t *testing.T) {
		_, errs := loadFS(t, tenantMain, map[string]string{"tenants/Studio Rossi.yaml": "name: X\n"})
		checkLines(t, errs, []string{`tenants/Studio Rossi.yaml:1:1: the file name gives the tenant id "Studio Rossi", which must be lower-case letters, digits, "-" or "_", starting with a letter or digit: rename the file`})
	})
}

// TestTenantClashes: ids, numbers and extensions belong to one tenant;
// a clash between two files is reported in both.
func TestTenantClashes(t *testing.T) {
	clearEnv(t)
	main := tenantMain + "tenants:\n  - id: a\n    name: A\n    numbers: [\"+390211111111\"]\n    extensions: [\"100\"]\n"
	_, errs := loadFS(t, main, map[string]string{
		"tenants/a.yaml": "name: A2\n",
		"tenants/b.yaml": "name: B\nnumbers: [\"+390211111111\", \"+390222222222\"]\nextensions: [\"101\"]\n",
		"tenants/c.yaml": "name: C\nnumbers: [\"+390222222222\"]\nextensions: [\"100\", \"101\"]\n",
	})
	checkLines(t, errs, []string{
		`c.yaml:15:9: tenants[0].id: "a" is also used by tenants/a.yaml (tenants/a.yaml:1:1); tenant ids must be unique`,
		`c.yaml:17:15: tenants[0].numbers[0]: +390211111111 is listed for tenant "a" but also for tenant "b" (tenants/b.yaml:2:11); a number can belong to only one tenant`,
		`c.yaml:18:18: tenants[0].extensions[0]: extension 100 is listed for tenant "a" but also for tenant "c" (tenants/c.yaml:3:14); an extension can belong to only one tenant`,
		`tenants/a.yaml:1:1: id: "a" is already used by tenants[0] (c.yaml:15:9); tenant ids must be unique`,
		`tenants/b.yaml:2:11: numbers[0]: +390211111111 is listed for tenant "b" but already belongs to tenant "a" (c.yaml:17:15); a number can belong to only one tenant`,
		`tenants/b.yaml:2:28: numbers[1]: +390222222222 is listed for tenant "b" but also for tenant "c" (tenants/c.yaml:2:11); a number can belong to only one tenant`,
		`tenants/b.yaml:3:14: extensions[0]: extension 101 is listed for tenant "b" but also for tenant "c" (tenants/c.yaml:3:21); an extension can belong to only one tenant`,
		`tenants/c.yaml:2:11: numbers[0]: +390222222222 is listed for tenant "c" but already belongs to tenant "b" (tenants/b.yaml:2:28); a number can belong to only one tenant`,
		`tenants/c.yaml:3:14: extensions[0]: extension 100 is listed for tenant "c" but already belongs to tenant "a" (c.yaml:18:18); an extension can belong to only one tenant`,
		`tenants/c.yaml:3:21: extensions[1]: extension 101 is listed for tenant "c" but already belongs to tenant "b" (tenants/b.yaml:3:14); an extension can belong to only one tenant`,
	})
}

func TestFeatures(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		yaml string
		want []string
	}{
		{"custom", nil, "features:\n  available: \"*40\"\n  dnd: \"*1234\"\n", nil},
		{"bad codes", nil, "features:\n  available: \"30\"\n  meeting: \"*12345\"\n  away: \"*3a\"\n", []string{
			`c.yaml:2:3: features.available: "30" must be * and 1 to 4 digits, like "*30" (in quotes: YAML reads *30 as an alias)`,
			`c.yaml:3:3: features.meeting: "*12345" must be * and 1 to 4 digits, like "*30" (in quotes: YAML reads *30 as an alias)`,
			`c.yaml:4:3: features.away: "*3a" must be * and 1 to 4 digits, like "*30" (in quotes: YAML reads *30 as an alias)`,
		}},
		{"same code twice", nil, "features:\n  dnd: \"*31\"\n", []string{
			"c.yaml:2:3: features.dnd: *31 is also the code of features.meeting: each feature needs its own code",
		}},
		{"unquoted", nil, "features:\n  dnd: *33\n", []string{
			`c.yaml:2: invalid YAML: unknown anchor '33' referenced (a value starting with * must be quoted, like "*30")`,
		}},
		{"from the environment", map[string]string{"CENTRALINO_FEATURES_AWAY": "*31"}, "{}", []string{
			"CENTRALINO_FEATURES_AWAY: features.away: *31 is also the code of features.meeting: each feature needs its own code",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			checkLines(t, problems(t, tt.yaml), tt.want)
		})
	}
}

// TestInlineTenantPaths: inline tenants are checked like files, with
// paths under tenants[i] and files relative to the main file's folder.
func TestInlineTenantPaths(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	main := filepath.Join(dir, "c.yaml")
	y := tenantMain + "tenants:\n  - id: a\n    name: A\n    rules:\n      - do:\n          - play: {file: hello.wav}\n          - voicmail\n"
	_, err := LoadBytes(main, []byte(y))
	checkLines(t, errorLines(t, err), []string{main + `:20:13: tenants[0].rules[0].do[1]: unknown action "voicmail" (did you mean "voicemail"?)`})

	y = strings.Replace(y, "voicmail", "voicemail", 1)
	_, err = LoadBytes(main, []byte(y))
	checkLines(t, errorLines(t, err), []string{
		main + ":19:26: tenants[0].rules[0].do[0].play.file: cannot read " + filepath.Join(dir, "hello.wav") + ": no such file or directory (a relative path is relative to the folder of " + main + ")",
	})
}

// TestTenantAliases: anchors may be reused, but an alias inside its own
// value, or aliases that expand without bound, are errors, not a hang.
func TestTenantAliases(t *testing.T) {
	clearEnv(t)
	_, errs := loadTenant(t, tenantBase+"rules:\n  - do: &x\n      - menu: {prompt: {say: a}, options: {\"1\": *x}}\n")
	checkLines(t, errs, []string{"tenants/t.yaml:9:49: rules[0].do[0].menu.options.1[0].menu.options.1: alias *x is used inside the value it names, which would never end"})

	// Six levels of ten-way menus: a million values from 30 lines.
	var b strings.Builder
	b.WriteString(tenantBase + "rules:\n  - do: &l0 [hangup]\n")
	for i := 1; i <= 6; i++ {
		fmt.Fprintf(&b, "  - do: &l%d\n      - menu:\n          prompt: {say: x}\n          options: {", i)
		for k := range 10 {
			fmt.Fprintf(&b, "\"%d\": *l%d, ", k, i-1)
		}
		b.WriteString("}\n      - hangup\n")
	}
	_, errs = loadTenant(t, b.String())
	if len(errs) != 1 || !strings.Contains(errs[0], "too many values: the file (or its aliases, once expanded) holds more than 100000") {
		t.Errorf("alias expansion: got %q, want one error about too many values", errs)
	}
	// Menus in menus, thirty deep.
	deep := tenantBase + "rules:\n  - do: " + strings.Repeat(`[{menu: {prompt: {say: x}, options: {"1": `, 30) + "[hangup]" + strings.Repeat("}}}, hangup]", 30) + "\n"
	_, errs = loadTenant(t, deep)
	if len(errs) != 1 || !strings.Contains(errs[0], "values are nested too deeply (more than 100 levels)") {
		t.Errorf("deep nesting: got %q, want one error about nesting", errs)
	}
}

// A sound file that exists but cannot be played is reported at load, with
// its file and line, when the caller asks for the check.
func TestCheckSoundRejectsUnplayableFile(t *testing.T) {
	dir := t.TempDir()
	wav := filepath.Join(dir, "greeting.wav")
	if err := os.WriteFile(wav, []byte("not audio"), 0o644); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "centralino.yaml")
	yaml := "extensions:\n  - number: \"100\"\n    password: x\ntenants:\n  - id: t\n    name: T\n    extensions: [\"100\"]\n    rules:\n      - do:\n          - play: {file: greeting.wav}\n          - hangup\n"
	if err := os.WriteFile(main, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(main); err != nil {
		t.Fatalf("without the check the file loads: %v", err)
	}
	_, err := LoadWith(main, Options{CheckSound: func(path string) error {
		if path != wav {
			t.Errorf("checked %q, want %q", path, wav)
		}
		return errors.New("not a RIFF/WAVE file")
	}})
	if err == nil || !strings.Contains(err.Error(), "centralino.yaml:10:") || !strings.Contains(err.Error(), "cannot be played: not a RIFF/WAVE file") {
		t.Errorf("err = %v", err)
	}
}
