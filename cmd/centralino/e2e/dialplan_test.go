package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// officeConfig is a small law office: the provider (an IP trunk) calls
// from 127.0.0.2, the lawyer's phone is 200, the secretary's 201, and the
// tenant's plan lives in tenants/rossi.yaml.
const officeConfig = `
sip:
  listen: "{{.SIP}}"
rtp:
  ports: "{{.RTP}}"
http:
  listen: "{{.HTTP}}"
data: "{{.Data}}"
tenants_dir: "{{.Dir}}/tenants"
trunks:
  - name: provider
    mode: ip
    allow: [127.0.0.2/32]
    default_tenant: rossi
extensions:
  - number: "200"
    password: pw-200
  - number: "201"
    password: pw-201
`

// rossiPlan is open around the clock (no holidays) so the test does not
// depend on when it runs; {{.Extra}} lets a test add caller rules.
const rossiPlan = `# Studio Legale Rossi: the lawyer's phone rings unless he is busy.
name: Studio Legale Rossi
numbers: ["+390212345678"]
extensions: ["200", "201"]
hours:
  weekdays: ["00:00-24:00"]
  weekend: ["00:00-24:00"]
holidays:
  national: false
people:
  - id: rossi
    name: Avv. Rossi
    extensions: ["200"]
  - id: segreteria
    name: Segreteria
    extensions: ["201"]
callers:
  vip: ["+39333*"]
  blocked: [BLOCKED]
rules:
  - name: vip
    when:
      caller: [vip]
    do:
      - ring: {people: [rossi], timeout: 10s}
      - hangup
  - name: in riunione
    when:
      status: {rossi: [meeting, away, dnd]}
    do:
      - ring: {people: [segreteria], timeout: 10s}
      - voicemail
  - name: aperto
    when:
      open: true
    do:
      - ring: {people: [rossi], timeout: 10s}
      - voicemail
  - name: chiuso
    do:
      - hangup
`

func writeRossi(t *testing.T, p *pbx, blocked string) {
	t.Helper()
	dir := filepath.Join(p.Dir, "tenants")
	os.MkdirAll(dir, 0o755)
	// Write-then-rename, as editors and config management do.
	tmp := filepath.Join(dir, ".rossi.yaml.tmp")
	if err := os.WriteFile(tmp, []byte(strings.Replace(rossiPlan, "BLOCKED", blocked, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "rossi.yaml")); err != nil {
		t.Fatal(err)
	}
}

// officeCall makes the provider call the office from number and returns
// once the phone at port answered and the caller hung up.
func officeCall(t *testing.T, p *pbx, from string, phonePort int) {
	t.Helper()
	phone := startSipp(t, sippOpts{
		Scenario: "uas_answer.xml", Data: uasData(false, 0), Port: phonePort, RTPEcho: true,
		Keys: map[string]string{"rtpport": mediaPortKey},
	})
	mustSipp(t, sippOpts{
		Scenario: "uac_call.xml", Data: callData(map[string]any{"From": from, "PauseMs": 800}),
		IP: "127.0.0.2", Target: p.SIP, Service: "+390212345678",
	})
	if code := phone.wait(20 * time.Second); code != 0 {
		t.Fatalf("the phone on port %d did not get the call from %s (sipp exited %d)", phonePort, from, code)
	}
}

// The tenant's plan decides each call: the lawyer's phone rings while he
// is available; set to "meeting" from the CLI, calls go to the secretary;
// a VIP still reaches him; a feature code from his phone makes him
// available again. Editing the tenant file takes effect on the next call,
// and a broken edit keeps the previous plan.
func TestDialplanDecidesCalls(t *testing.T) {
	e2e(t)
	p := startPBX(t, pbxOptions{Config: officeConfig, Vars: map[string]any{}, PreStart: func(p *pbx) { writeRossi(t, p, "+390600000000") }})
	lawyer := registerSipp(t, p, "200", "pw-200")
	secretary := registerSipp(t, p, "201", "pw-201")

	officeCall(t, p, "0612345678", lawyer)
	if c := lastCDR(t, p, 1); c.AnsweredBy != "200" || c.Rule != `aperto` {
		t.Errorf("open office: CDR %+v, want rule aperto answered by 200", c)
	}

	out := runCLI(t, "status", "set", "rossi:rossi", "meeting", "--until", "3h", "--note", "in udienza", "--server", p.HTTP)
	t.Logf("%s", out)
	officeCall(t, p, "0612345678", secretary)
	if c := lastCDR(t, p, 2); c.AnsweredBy != "201" || c.Rule != "in riunione" {
		t.Errorf("lawyer in a meeting: CDR %+v, want rule \"in riunione\" answered by 201", c)
	}
	officeCall(t, p, "3331234567", lawyer)
	if c := lastCDR(t, p, 3); c.AnsweredBy != "200" || c.Rule != "vip" {
		t.Errorf("VIP caller: CDR %+v, want rule vip answered by 200", c)
	}

	// The explanation names the rule and the status.
	var e struct {
		Rule    string           `json:"rule"`
		Actions []map[string]any `json:"actions"`
		Trace   []string         `json:"trace"`
	}
	if err := json.Unmarshal([]byte(runCLI(t, "dialplan", "explain", "--tenant", "rossi", "--from", "0612345678", "--server", p.HTTP, "--json")), &e); err != nil {
		t.Fatal(err)
	}
	if e.Rule != "in riunione" || len(e.Actions) != 2 || e.Actions[0]["type"] != "ring" || e.Actions[1]["type"] != "voicemail" {
		t.Errorf("explain = %+v", e)
	}
	t.Logf("explain:\n%s", runCLI(t, "dialplan", "explain", "--tenant", "rossi", "--from", "0612345678", "--server", p.HTTP))

	// *30 from the lawyer's own phone: available again, confirmed with a beep.
	mustSipp(t, sippOpts{
		Scenario: "uac_call_auth.xml", Data: map[string]any{"Dial": "*30", "From": "200", "Expect": 200, "PauseMs": 0, "WaitBye": true},
		Target: p.SIP, User: "200", Password: "pw-200",
	})
	var statuses []struct{ Tenant, Person, State, Effective string }
	p.getJSON("/api/statuses", &statuses)
	for _, s := range statuses {
		if s.Person == "rossi" && (s.State != "available" || s.Effective != "available") {
			t.Errorf("after *30: %+v", s)
		}
	}
	officeCall(t, p, "0612345678", lawyer)

	// A live edit blocks a number: the next call from it is refused.
	reloads := p.metric("centralino_config_reloads_total")
	writeRossi(t, p, "+390698765432")
	eventually(t, 10*time.Second, "the edited tenant file to be reloaded", func() bool {
		return p.metric("centralino_config_reloads_total") > reloads
	})
	blocked := func() {
		t.Helper()
		mustSipp(t, sippOpts{
			Scenario: "uac_expect.xml", Data: map[string]any{"Formats": "8 101", "From": "0698765432", "Expect": 603},
			IP: "127.0.0.2", Target: p.SIP, Service: "+390212345678",
		})
	}
	blocked()
	if c := lastCDR(t, p, 6); c.Rule != "blocked caller" || c.Code != 603 {
		t.Errorf("blocked caller: CDR %+v", c)
	}

	// A broken edit is rejected: the previous plan stays in force.
	errs := p.metric("centralino_config_reload_errors_total")
	broken := strings.Replace(strings.Replace(rossiPlan, "BLOCKED", "+390698765432", 1), "      - voicemail\n  - name: aperto", "      - voicmail\n  - name: aperto", 1)
	os.WriteFile(filepath.Join(p.Dir, "tenants", "rossi.yaml"), []byte(broken), 0o644)
	eventually(t, 10*time.Second, "the broken file to be rejected", func() bool {
		return p.metric("centralino_config_reload_errors_total") > errs
	})
	if !strings.Contains(p.stderr.String(), `unknown action \"voicmail\" (did you mean \"voicemail\"?)`) &&
		!strings.Contains(p.stderr.String(), `unknown action "voicmail" (did you mean "voicemail"?)`) {
		t.Errorf("the rejection is not logged with its reason:\n%s", tail(p.stderr.String(), 20))
	}
	blocked()
	out, code := runCLICode(t, p.Dir, "reload", "--server", p.HTTP)
	if code == 0 || !strings.Contains(out, "rejected") || !strings.Contains(out, "voicmail") {
		t.Errorf("centralino reload with a broken file: exit %d\n%s", code, out)
	}
	out, code = runCLICode(t, p.Dir, "check", "--config", p.Config)
	if code == 0 || !strings.Contains(out, "rossi.yaml:") || !strings.Contains(out, `(did you mean "voicemail"?)`) {
		t.Errorf("check of the broken file: exit %d\n%s", code, out)
	}
}

// explain works without a server: on Easter Monday the demo plan names the
// holiday.
func TestExplainOfflineNamesHoliday(t *testing.T) {
	e2e(t)
	closed := freePort(t) // nothing listens there: the CLI explains by itself
	out, code := runCLICode(t, t.TempDir(), "dialplan", "explain", "--tenant", "demo", "--from", "0612345678",
		"--at", "2026-04-06 10:30", "--server", "127.0.0.1:"+itoa(closed))
	if code != 0 {
		t.Fatalf("explain exited %d:\n%s", code, out)
	}
	for _, want := range []string{"Lunedì dell'Angelo (Easter Monday)", "Rule: holiday", "ring extension 100"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain output lacks %q:\n%s", want, out)
		}
	}
}

// forwardConfig: a Messagenet-style office whose plan forwards callers to
// the lawyer's mobile through the provider, copying the provider's
// X-Mnet-InLeg header and showing the original caller.
const forwardConfig = `
sip:
  listen: "{{.SIP}}"
rtp:
  ports: "{{.RTP}}"
http:
  listen: "{{.HTTP}}"
data: "{{.Data}}"
trunks:
  - name: provider
    mode: ip
    host: "127.0.0.2:{{.ProviderPort}}"
    allow: [127.0.0.2/32]
    default_tenant: rossi
    caller_id:
      header: ppi
      from_user: "5551234"
    copy_headers: [X-Mnet-InLeg]
extensions:
  - number: "200"
    password: pw-200
tenants:
  - id: rossi
    name: Studio Legale Rossi
    numbers: ["+390212345678"]
    extensions: ["200"]
    people:
      - id: rossi
        name: Avv. Rossi
        extensions: ["200"]
        mobile: "+393339999999"
    rules:
      - name: sempre
        do:
          - ring: {people: [rossi], timeout: 2s}
          - ring: {mobiles: [rossi], timeout: 10s}
          - hangup
`

// When the desk phone does not answer, the plan rings the lawyer's mobile
// through the trunk: a B2BUA leg with the number in national format, the
// original caller as P-Preferred-Identity and the inbound X-Mnet-InLeg
// header copied; the audio flows through the PBX.
func TestPlanRingsMobileThroughTrunk(t *testing.T) {
	e2e(t)
	providerPort := freePort(t)
	p := startPBX(t, pbxOptions{Config: forwardConfig, Vars: map[string]any{"ProviderPort": providerPort}})
	registerSipp(t, p, "200", "pw-200") // registered, but nobody answers there
	mobile := startSipp(t, sippOpts{
		Scenario: "uas_answer.xml", IP: "127.0.0.2", Port: providerPort, RTPEcho: true,
		Keys: map[string]string{"rtpport": mediaPortKey},
		Data: uasData(false, 0,
			check{In: "msg", Regexp: "^INVITE sip:3339999999@127\\.0\\.0\\.2:"},
			check{In: "hdr", Header: "X-Mnet-InLeg:", Regexp: "leg-4242"},
			check{In: "hdr", Header: "P-Preferred-Identity:", Regexp: "sip:\\+390612345678@"},
			check{In: "hdr", Header: "From:", Regexp: "sip:5551234@"},
		),
	})
	mustSipp(t, sippOpts{
		Scenario: "uac_call.xml", Data: callData(map[string]any{"PauseMs": 1500, "Headers": []string{"X-Mnet-InLeg: leg-4242"}}),
		IP: "127.0.0.2", Target: p.SIP, Service: "+390212345678",
	})
	if code := mobile.wait(20 * time.Second); code != 0 {
		t.Fatalf("the mobile leg was not as expected (sipp exited %d)", code)
	}
	c := lastCDR(t, p, 1)
	if c.Rule != "sempre" || c.AnsweredBy != "+393339999999" || len(c.Steps) < 2 ||
		c.Steps[0].Result != "no-answer" || c.Steps[1].Action != "ring" || c.Steps[1].Result != "answered" {
		t.Errorf("CDR = %+v", c)
	}
}
