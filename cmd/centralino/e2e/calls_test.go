package e2e

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

const demoNumber = "+390200000000"

// cdr mirrors the API's call records.
type cdr struct {
	ID          string    `json:"id"`
	Start       time.Time `json:"start"`
	Answer      time.Time `json:"answer"`
	End         time.Time `json:"end"`
	Direction   string    `json:"direction"`
	Caller      string    `json:"caller"`
	Called      string    `json:"called"`
	Tenant      string    `json:"tenant"`
	Trunk       string    `json:"trunk"`
	AnsweredBy  string    `json:"answered_by"`
	Disposition string    `json:"disposition"`
	Code        int       `json:"code"`
	HangupBy    string    `json:"hangup_by"`
	Rule        string    `json:"rule"`
	Steps       []struct {
		Action, Target, Result string
	} `json:"steps"`
}

// registerSipp registers ext from a fresh port with sipp and returns the
// port: a sipp UAS started there afterwards receives the extension's calls.
func registerSipp(t *testing.T, p *pbx, ext, password string) int {
	t.Helper()
	port := freePort(t)
	mustSipp(t, sippOpts{
		Scenario: "register.xml", Data: regData(200, ""),
		Port: port, Target: p.SIP, Service: ext, User: ext, Password: password,
	})
	return port
}

// lastCDR waits for the newest call record to appear and returns it.
func lastCDR(t *testing.T, p *pbx, want int) cdr {
	t.Helper()
	var cdrs []cdr
	eventually(t, 10*time.Second, strconv.Itoa(want)+" call records", func() bool {
		p.getJSON("/api/cdrs?limit=100", &cdrs)
		return len(cdrs) >= want
	})
	return cdrs[0]
}

func callData(extra map[string]any) map[string]any {
	d := map[string]any{"Formats": "8 0 101", "From": "0612345678", "PauseMs": 3000, "WaitBye": false, "Headers": []string(nil), "RTPPort": 0}
	for k, v := range extra {
		d[k] = v
	}
	return d
}

// A trunk call to the demo number is answered by the phone registered as
// 100; RTP from the caller's pcap reaches the phone byte for byte, and
// what the phone sends comes back to the caller (sipp echoes it, so it
// returns to the phone marked).
func TestTrunkCallRelaysRTPBothWays(t *testing.T) {
	e2e(t)
	p := startPBX(t, pbxOptions{})
	port := registerSipp(t, p, "100", "demo-100")

	phoneMedia := newRTPPeer(t, true)
	uas := startSipp(t, sippOpts{
		Scenario: "uas_answer.xml", Data: uasData(false, 0),
		Port: port, Keys: map[string]string{"rtpport": strconv.Itoa(phoneMedia.port())},
	})
	mustSipp(t, sippOpts{
		Scenario: "uac_call.xml", Data: callData(map[string]any{"PauseMs": 8500}),
		Target: p.SIP, Service: demoNumber, RTPEcho: true,
	})
	if code := uas.wait(20 * time.Second); code != 0 {
		t.Fatalf("sipp UAS (phone 100) exited %d", code)
	}

	sent := pcapRTPPayloads(t, filepath.Join(sippPcapDir, "g711a.pcap"))
	if got := phoneMedia.seenPayloads(sent); got < len(sent)*9/10 {
		t.Errorf("phone received %d of the %d pcap payloads intact (PCMA packets: %d)", got, len(sent), phoneMedia.count(8))
	}
	if got := phoneMedia.roundTrips(); got < len(sent)*8/10 {
		t.Errorf("only %d of %d packets sent by the phone came back from the caller", got, len(sent))
	}
	t.Logf("phone got %d PCMA packets (%d pcap payloads intact), %d came back from the caller",
		phoneMedia.count(8), phoneMedia.seenPayloads(sent), phoneMedia.roundTrips())

	c := lastCDR(t, p, 1)
	if c.Disposition != "answered" || c.AnsweredBy != "100" || c.HangupBy != "caller" || c.Code != 200 {
		t.Errorf("CDR = %+v, want answered by 100, hung up by the caller", c)
	}
	if c.Caller != "+390612345678" || c.Called != demoNumber || c.Tenant != "demo" || c.Trunk != "demo" || c.Direction != "inbound" {
		t.Errorf("CDR parties = %+v", c)
	}
	eventually(t, 5*time.Second, "no active calls", func() bool { return p.metric("centralino_active_calls") == 0 })
}

// The phone hangs up: its BYE ends the caller's leg too.
func TestCalleeHangsUp(t *testing.T) {
	e2e(t)
	p := startPBX(t, pbxOptions{})
	port := registerSipp(t, p, "100", "demo-100")
	uas := startSipp(t, sippOpts{
		Scenario: "uas_answer.xml", Data: uasData(true, 1500),
		Port: port, RTPEcho: true, Keys: map[string]string{"rtpport": mediaPortKey},
	})
	uas.t.Logf("phone media port %d", uas.MediaPort)
	mustSipp(t, sippOpts{
		Scenario: "uac_call.xml", Data: callData(map[string]any{"WaitBye": true}),
		Target: p.SIP, Service: demoNumber,
	})
	if code := uas.wait(20 * time.Second); code != 0 {
		t.Fatalf("sipp UAS exited %d", code)
	}
	c := lastCDR(t, p, 1)
	if c.Disposition != "answered" || c.HangupBy != "callee" {
		t.Errorf("CDR = %+v, want answered and hung up by the callee", c)
	}
}

// The caller gives up while the phone rings: 487 to the caller, CANCEL to
// the ringing phone.
func TestCallerCancelsWhileRinging(t *testing.T) {
	e2e(t)
	p := startPBX(t, pbxOptions{})
	port := registerSipp(t, p, "100", "demo-100")
	uas := startSipp(t, sippOpts{Scenario: "uas_cancelled.xml", Port: port, Data: map[string]any{"RingDelayMs": 0}})
	mustSipp(t, sippOpts{
		Scenario: "uac_cancel.xml", Data: map[string]any{"From": "0612345678", "PauseMs": 800},
		Target: p.SIP, Service: demoNumber,
	})
	if code := uas.wait(20 * time.Second); code != 0 {
		t.Fatalf("the ringing phone did not see the CANCEL (sipp exited %d)", code)
	}
	c := lastCDR(t, p, 1)
	if c.Disposition != "cancelled" || c.Code != 487 || c.HangupBy != "caller" {
		t.Errorf("CDR = %+v, want cancelled with 487", c)
	}
}

// Precise failure codes for calls that cannot be connected.
// plainConfig is the demo's shape with a tenant that has no rules: its
// default plan rings its phones and then refuses the call (no voicemail to
// answer instead), so the caller gets the precise failure.
const plainConfig = `
sip:
  listen: "{{.SIP}}"
rtp:
  ports: "{{.RTP}}"
http:
  listen: "{{.HTTP}}"
data: "{{.Data}}"
trunks:
  - name: demo
    mode: ip
    allow: [127.0.0.0/8]
    default_tenant: demo
extensions:
  - number: "100"
    password: demo-100
tenants:
  - id: demo
    name: Studio Demo
    numbers: ["+390200000000"]
    extensions: ["100"]
`

func TestCallFailures(t *testing.T) {
	e2e(t)
	p := startPBX(t, pbxOptions{Config: plainConfig})

	expect := func(t *testing.T, formats string, code int) {
		t.Helper()
		mustSipp(t, sippOpts{
			Scenario: "uac_expect.xml", Data: map[string]any{"Formats": formats, "From": "0612345678", "Expect": code},
			Target: p.SIP, Service: demoNumber,
		})
	}
	t.Run("no phone registered gives 480", func(t *testing.T) { expect(t, "8 101", 480) })

	port := registerSipp(t, p, "100", "demo-100")
	t.Run("no common codec gives 488", func(t *testing.T) { expect(t, "18", 488) })
	t.Run("busy phone gives 486", func(t *testing.T) {
		uas := startSipp(t, sippOpts{Scenario: "uas_reject.xml", Data: map[string]any{"Code": 486, "Reason": "Busy Here"}, Port: port})
		expect(t, "8 101", 486)
		if code := uas.wait(20 * time.Second); code != 0 {
			t.Fatalf("phone sipp exited %d", code)
		}
	})
	var cdrs []cdr
	p.getJSON("/api/cdrs", &cdrs)
	if len(cdrs) < 2 {
		t.Fatalf("want call records for the failed calls, got %+v", cdrs)
	}
	if cdrs[0].Disposition != "busy" || cdrs[0].Code != 486 {
		t.Errorf("newest CDR = %+v, want busy 486", cdrs[0])
	}
}

// REGISTER with digest: the right password registers, a wrong one is
// refused with 403; the binding is visible in the API.
func TestRegisterDigest(t *testing.T) {
	e2e(t)
	p := startPBX(t, pbxOptions{})
	mustSipp(t, sippOpts{
		Scenario: "register.xml", Data: regData(403, ""),
		Target: p.SIP, Service: "100", User: "100", Password: "wrong",
	})
	port := registerSipp(t, p, "101", "demo-101")
	var regs []struct {
		Extension, Source, Transport string
		ExpiresIn                    int `json:"expires_in"`
	}
	p.getJSON("/api/registrations", &regs)
	if len(regs) != 1 || regs[0].Extension != "101" || regs[0].Source != "127.0.0.1:"+strconv.Itoa(port) || regs[0].Transport != "UDP" {
		t.Fatalf("registrations = %+v, want 101 from port %d", regs, port)
	}
	if regs[0].ExpiresIn < 290 || regs[0].ExpiresIn > 300 {
		t.Errorf("expires_in = %d, want about 300", regs[0].ExpiresIn)
	}
	if v := p.metric("centralino_registrations"); v != 1 {
		t.Errorf("centralino_registrations = %v, want 1", v)
	}
	if v := p.metric(`centralino_auth_failures_total{method="register"}`); v < 1 {
		t.Errorf("auth failures metric = %v, want >= 1", v)
	}
}

// check is a regexp a sipp UAS requires of the INVITE it receives.
type check struct{ In, Header, Regexp string }

func uasData(sendBye bool, holdMs int, checks ...check) map[string]any {
	return map[string]any{"SendBye": sendBye, "HoldMs": holdMs, "Checks": checks}
}

// regData is register.xml's data: the expected final answer, and the host
// the phone puts in its Contact ("" for its real address).
func regData(expect int, contactHost string) map[string]any {
	return map[string]any{"Expect": expect, "Expires": 300, "ContactHost": contactHost}
}

// A tenant with two registered phones: both ring (the demo plan rings
// both for a VIP caller), the first to answer gets the call and the other
// is sent a CANCEL, even when its 180 comes only after the first answered
// (a branch not heard from yet must not be abandoned at once).
func TestParallelRingFirstAnswerWins(t *testing.T) {
	e2e(t)
	p := startPBX(t, pbxOptions{})
	answerPort := registerSipp(t, p, "100", "demo-100")
	ringPort := registerSipp(t, p, "101", "demo-101")
	answerer := startSipp(t, sippOpts{
		Scenario: "uas_answer.xml", Data: uasData(false, 0), Port: answerPort, RTPEcho: true,
		Keys: map[string]string{"rtpport": mediaPortKey},
	})
	ringer := startSipp(t, sippOpts{Scenario: "uas_cancelled.xml", Port: ringPort, Data: map[string]any{"RingDelayMs": 300}})
	mustSipp(t, sippOpts{
		Scenario: "uac_call.xml", Data: callData(map[string]any{"PauseMs": 1500, "From": "3331234567"}),
		Target: p.SIP, Service: demoNumber,
	})
	if code := answerer.wait(20 * time.Second); code != 0 {
		t.Fatalf("answering phone exited %d", code)
	}
	if code := ringer.wait(20 * time.Second); code != 0 {
		t.Fatalf("the other phone was not cancelled (sipp exited %d)", code)
	}
	if c := lastCDR(t, p, 1); c.AnsweredBy != "100" || c.Disposition != "answered" {
		t.Errorf("CDR = %+v, want answered by 100", c)
	}
}
