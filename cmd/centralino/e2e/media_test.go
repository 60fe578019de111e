package e2e

import (
	"regexp"
	"strconv"
	"testing"
	"time"
)

// The phone puts the call on hold and resumes it with re-INVITEs, then
// sends an offer-less re-INVITE: a=sendonly is answered a=recvonly,
// sendrecv with sendrecv, and the empty one with an offer (answered in
// the ACK); the call survives all three.
func TestHoldResumeReInvites(t *testing.T) {
	e2e(t)
	p := startPBX(t, pbxOptions{})
	port := registerSipp(t, p, "100", "demo-100")
	phone := startSipp(t, sippOpts{
		Scenario: "uas_hold.xml", Data: uasData(false, 0), Port: port, RTPEcho: true,
		Keys: map[string]string{"rtpport": mediaPortKey},
	})
	mustSipp(t, sippOpts{
		Scenario: "uac_call.xml", Data: callData(map[string]any{"PauseMs": 4500}),
		Target: p.SIP, Service: demoNumber,
	})
	if code := phone.wait(20 * time.Second); code != 0 {
		t.Fatalf("the phone's hold/resume scenario exited %d", code)
	}
	if c := lastCDR(t, p, 1); c.Disposition != "answered" || c.HangupBy != "caller" {
		t.Errorf("CDR = %+v", c)
	}
}

// When one side's RTP stops, the media timeout ends the call and both
// sides get a BYE.
func TestMediaTimeoutEndsCall(t *testing.T) {
	e2e(t)
	p := startPBX(t, pbxOptions{Env: []string{"CENTRALINO_RTP_TIMEOUT=2s"}})
	port := registerSipp(t, p, "100", "demo-100")
	silent := newRTPPeer(t, false) // the phone's media never sends
	phone := startSipp(t, sippOpts{
		Scenario: "uas_answer.xml", Data: uasData(false, 0), Port: port,
		Keys: map[string]string{"rtpport": strconv.Itoa(silent.port())},
	})
	start := time.Now()
	mustSipp(t, sippOpts{
		Scenario: "uac_call.xml", Data: callData(map[string]any{"WaitBye": true}),
		Target: p.SIP, Service: demoNumber,
	})
	if code := phone.wait(20 * time.Second); code != 0 {
		t.Fatalf("the phone did not get the PBX's BYE (sipp exited %d)", code)
	}
	c := lastCDR(t, p, 1)
	if c.HangupBy != "timeout" {
		t.Errorf("CDR hangup_by = %q, want timeout", c.HangupBy)
	}
	if d := c.End.Sub(c.Answer); d < 2*time.Second || d > 6*time.Second {
		t.Errorf("call lasted %s after answer, want about the 2s timeout", d)
	}
	t.Logf("media timeout ended the call %s after answer (test took %s)", c.End.Sub(c.Answer).Round(10*time.Millisecond), time.Since(start).Round(10*time.Millisecond))
}

// A phone registered over TCP gets its calls over TCP.
func TestTCPRegistrationAndCall(t *testing.T) {
	e2e(t)
	p := startPBX(t, pbxOptions{})
	port := freePort(t)
	mustSipp(t, sippOpts{
		Scenario: "register.xml", Data: regData(200, ""),
		Port: port, Target: p.SIP, Service: "100", User: "100", Password: "demo-100", Transport: "t1",
	})
	var regs []struct{ Transport string }
	p.getJSON("/api/registrations", &regs)
	if len(regs) != 1 || regs[0].Transport != "TCP" {
		t.Fatalf("registrations = %+v, want one over TCP", regs)
	}
	phone := startSipp(t, sippOpts{
		Scenario: "uas_answer.xml", Data: uasData(true, 1000), Port: port, Transport: "t1", RTPEcho: true,
		Keys: map[string]string{"rtpport": mediaPortKey},
	})
	mustSipp(t, sippOpts{
		Scenario: "uac_call.xml", Data: callData(map[string]any{"WaitBye": true}),
		Target: p.SIP, Service: demoNumber,
	})
	if code := phone.wait(20 * time.Second); code != 0 {
		t.Fatalf("TCP phone exited %d", code)
	}
	if c := lastCDR(t, p, 1); c.Disposition != "answered" || c.HangupBy != "callee" {
		t.Errorf("CDR = %+v", c)
	}
}

// A caller that sends no SDP (late offer) gets our offer in the 200 and
// answers in the ACK; the audio then flows to the phone.
func TestLateOfferCall(t *testing.T) {
	e2e(t)
	p := startPBX(t, pbxOptions{})
	port := registerSipp(t, p, "100", "demo-100")
	phoneMedia := newRTPPeer(t, false)
	phone := startSipp(t, sippOpts{
		Scenario: "uas_answer.xml", Data: uasData(false, 0), Port: port,
		Keys: map[string]string{"rtpport": strconv.Itoa(phoneMedia.port())},
	})
	mustSipp(t, sippOpts{Scenario: "uac_late_offer.xml", Data: map[string]any{"PauseMs": 3000}, Target: p.SIP, Service: demoNumber})
	if code := phone.wait(20 * time.Second); code != 0 {
		t.Fatalf("phone exited %d", code)
	}
	if n := phoneMedia.count(8); n < 50 {
		t.Errorf("phone got %d PCMA packets from the late-offer caller, want the pcap's audio", n)
	}
}

// A callee (typically a provider) that sends 183 with SDP before answering:
// the caller gets a 183 with our SDP and hears the early media; the 200
// that follows repeats the same answer.
func TestEarlyMediaRelayed(t *testing.T) {
	e2e(t)
	p := startPBX(t, pbxOptions{})
	port := registerSipp(t, p, "100", "demo-100")
	phoneMedia := newRTPPeer(t, true)
	data := uasData(false, 0)
	data["EarlyMs"] = 2000
	phone := startSipp(t, sippOpts{
		Scenario: "uas_early_media.xml", Data: data, Port: port,
		Keys: map[string]string{"rtpport": strconv.Itoa(phoneMedia.port())},
	})
	caller := mustSipp(t, sippOpts{
		Scenario: "uac_call.xml", Data: callData(map[string]any{"PauseMs": 2000}),
		Target: p.SIP, Service: demoNumber, RTPEcho: true,
	})
	if code := phone.wait(20 * time.Second); code != 0 {
		t.Fatalf("phone exited %d", code)
	}
	msgs := caller.messages()
	if !regexpMust(`SIP/2.0 183 Session Progress[\s\S]*?m=audio `).MatchString(msgs) {
		t.Errorf("the caller got no 183 with SDP:\n%s", tail(msgs, 80))
	}
	if phoneMedia.count(8) == 0 {
		t.Error("no audio reached the phone")
	}
}

func regexpMust(re string) *regexp.Regexp { return regexp.MustCompile(re) }
