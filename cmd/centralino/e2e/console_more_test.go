package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/crypto/bcrypt"
)

// consoleConfig is a small office whose plan is: operator (max_wait), then
// voicemail. Two operators: anna serves the office, bruno every tenant.
// Extension 101 is the professional's phone, for transfers.
const consoleConfig = `
sip: {listen: "{{.SIP}}", realm: centralino}
rtp: {ports: "{{.RTP}}"}
http: {listen: "{{.HTTP}}"}
data: "{{.Data}}"
trunks:
  - {name: demo, mode: ip, host: 127.0.0.1:5070, allow: [127.0.0.0/8], default_tenant: demo}
extensions:
  - {number: "101", password: demo-101}
operators:
  - {username: anna, name: Anna, tenants: [demo], password_hash: "{{.Hash}}"}
  - {username: bruno, name: Bruno, tenants: ["*"], password_hash: "{{.Hash}}"}
console:
  queue: {strategy: ring-all, offer_timeout: 20s, wrap_up: 1s}
tenants:
  - id: demo
    name: Studio Demo
    numbers: ["+390200000000"]
    extensions: ["101"]
    people:
      - {id: demo, name: Dott. Demo, extensions: ["101"]}
    console: {answer_phrase: "Studio Demo, buongiorno"}
    rules:
      - name: always
        do:
          - operator: {max_wait: {{.MaxWait}}}
          - voicemail
`

const consolePassword = "segreta-123"

func startConsolePBX(t *testing.T, maxWait string) *pbx {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(consolePassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return startPBX(t, pbxOptions{Config: consoleConfig, Vars: map[string]any{"Hash": string(hash), "MaxWait": maxWait}})
}

// available logs an operator in and sets them available.
func available(t *testing.T, pg *page, p *pbx, user string) {
	t.Helper()
	operatorLogin(t, pg, p, user, consolePassword)
	pg.Click(`[data-testid=status-available]`)
	eventually(t, 5*time.Second, user+" available", func() bool {
		var st struct{ Status string }
		pg.Eval(`window.centralinoConsole.state()`, &st)
		return st.Status == "available"
	})
}

// answerOffer answers the offered call and waits until the operator talks.
func answerOffer(t *testing.T, pg *page) {
	t.Helper()
	pg.Click(`[data-testid=offer-answer]`)
	callState(t, pg, "talking", 10*time.Second)
}

// hangUp has the operator hang up and waits for the caller's sipp to end.
func hangUp(t *testing.T, pg *page, uac *sipp) {
	t.Helper()
	pg.Click(`[data-testid=btn-hangup]`)
	if code := uac.wait(15 * time.Second); code != 0 {
		t.Fatalf("caller exited %d", code)
	}
}

// callState waits for the call panel to show state.
func callState(t *testing.T, pg *page, state string, d time.Duration) {
	t.Helper()
	pg.WaitForState(`[data-testid=call-state][data-state="`+state+`"]`, "attached", d)
}

// Two operators on ring-all: the call is offered to both, the first to
// answer takes it and the other's card goes away. When that operator logs
// out mid-call, the caller goes back to the queue and the other takes it.
func TestRingAllFirstOperatorWins(t *testing.T) {
	e2e(t)
	p := startConsolePBX(t, "30s")
	b := startBrowser(t, "")
	anna, bruno := b.Page("anna"), b.Page("bruno")
	available(t, anna, p, "anna")
	available(t, bruno, p, "bruno")
	eventually(t, 5*time.Second, "two operators available in /metrics", func() bool {
		return p.metric(`centralino_operators{status="available"}`) == 2
	})

	_, uac := callDemo(t, p, map[string]any{"WaitBye": true}, 60*time.Second)
	anna.WaitFor(`[data-testid=offer-card]`, 15*time.Second)
	bruno.WaitFor(`[data-testid=offer-card]`, 15*time.Second)
	answerOffer(t, bruno)
	anna.WaitForState(`[data-testid=offer-card]`, "detached", 5*time.Second)

	eventually(t, 5*time.Second, "bruno's peer connection", func() bool { return p.metric("centralino_webrtc_peer_connections") == 1 })

	// Bruno logs out mid-call: his audio closes and the caller goes back
	// to the queue, where anna gets the call.
	bruno.Click(`[data-testid=logout]`)
	bruno.WaitFor(`[data-testid=login-username]`, 10*time.Second)
	anna.WaitFor(`[data-testid=offer-card]`, 15*time.Second)
	if got := p.metric("centralino_webrtc_peer_connections"); got != 0 {
		t.Errorf("%v peer connections after bruno logged out", got)
	}
	answerOffer(t, anna)
	hangUp(t, anna, uac)
	if c := lastCDR(t, p, 1); c.AnsweredBy != "anna" {
		t.Errorf("CDR answered by %q, want anna (bruno logged out)", c.AnsweredBy)
	}
	eventually(t, 5*time.Second, "no peer connection", func() bool { return p.metric("centralino_webrtc_peer_connections") == 0 })
}

// An operator is logged in but paused: the caller waits max_wait with
// music, then the plan goes on to voicemail. With nobody logged in the
// operator step is skipped at once.
func TestMaxWaitGoesToVoicemail(t *testing.T) {
	e2e(t)
	p := startConsolePBX(t, "3s")

	// Nobody has the console open: straight to voicemail.
	_, uac := callDemo(t, p, map[string]any{"PauseMs": 5000}, 30*time.Second)
	if code := uac.wait(40 * time.Second); code != 0 {
		t.Fatalf("caller exited %d", code)
	}
	c := lastCDR(t, p, 1)
	if len(c.Steps) < 2 || c.Steps[0].Action != "operator" || c.Steps[0].Result != "unavailable" || c.Steps[1].Action != "voicemail" {
		t.Errorf("no operator: steps = %+v", c.Steps)
	}

	b := startBrowser(t, "")
	pg := b.Page("anna")
	operatorLogin(t, pg, p, "anna", consolePassword) // logged in, but paused
	eventually(t, 5*time.Second, "anna paused", func() bool { return p.metric(`centralino_operators{status="paused"}`) == 1 })

	start := time.Now()
	caller2, uac2 := callDemo(t, p, map[string]any{"PauseMs": 8000}, 30*time.Second)
	if code := uac2.wait(40 * time.Second); code != 0 {
		t.Fatalf("caller exited %d", code)
	}
	c = lastCDR(t, p, 2)
	if len(c.Steps) < 2 || c.Steps[0].Action != "operator" || c.Steps[0].Result != "max-wait" || c.Steps[1].Action != "voicemail" || c.Disposition != "voicemail" {
		t.Errorf("paused operator: CDR = %+v", c)
	}
	// The caller heard music for the 3 s of max_wait before the greeting.
	if _, level, n := caller2.toneSince(start, 0); n < 100 || level < 100 {
		t.Errorf("caller got %d packets (RMS %.0f)", n, level)
	}
	var vms []voicemail
	eventually(t, 10*time.Second, "two voicemails", func() bool {
		vms = voicemails(t, p)
		return len(vms) == 2
	})
	if got := p.metric("centralino_queue_waiting"); got != 0 {
		t.Errorf("centralino_queue_waiting = %v after the calls", got)
	}
}

// transferSetup registers the professional's phone (101, answered by a
// sipp UAS whose RTP is an echoing peer, which waits for the PBX's BYE),
// logs anna in and gets a caller talking to her; the caller hangs up
// pauseMs after the PBX answered.
func transferSetup(t *testing.T, uasCalls, pauseMs int) (p *pbx, pg *page, caller *callerMedia, phone *rtpPeer, uac, uas *sipp) {
	t.Helper()
	p = startConsolePBX(t, "30s")
	port := registerSipp(t, p, "101", "demo-101")
	phone = newRTPPeer(t, true)
	uas = startSipp(t, sippOpts{
		Scenario: "uas_answer.xml", Data: uasData(false, 0), Calls: uasCalls,
		Port: port, Keys: map[string]string{"rtpport": strconv.Itoa(phone.port())}, Timeout: 90 * time.Second,
	})
	b := startBrowser(t, "")
	pg = b.Page("anna")
	available(t, pg, p, "anna")
	caller, uac = callDemo(t, p, map[string]any{"PauseMs": pauseMs}, 90*time.Second)
	pg.WaitFor(`[data-testid=offer-card]`, 15*time.Second)
	answerOffer(t, pg)
	return
}

// transferEnds waits for the caller to hang up and the phone to get the
// PBX's BYE.
func transferEnds(t *testing.T, uac, uas *sipp) {
	t.Helper()
	if code := uac.wait(40 * time.Second); code != 0 {
		t.Errorf("caller exited %d", code)
	}
	if code := uas.wait(10 * time.Second); code != 0 {
		t.Errorf("phone (101) exited %d", code)
	}
}

// echoedToCaller counts packets the caller got back from the phone (the
// phone echoes the caller's audio with a marker payload).
func (m *callerMedia) echoedSince(since time.Time) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, p := range m.packets {
		if p.at.After(since) && len(p.payload) > 0 && bytes.Count(p.payload, []byte{echoMarker}) == len(p.payload) {
			n++
		}
	}
	return n
}

// Blind transfer: the operator sends the caller to the professional's
// phone and is free; caller and phone talk.
func TestBlindTransferToExtension(t *testing.T) {
	e2e(t)
	p, pg, caller, phone, uac, uas := transferSetup(t, 1, 9000)
	pg.Select(`[data-testid=transfer-person]`, "demo")
	pg.Click(`[data-testid=btn-transfer-blind]`)
	callState(t, pg, "ended", 10*time.Second)
	transferred := time.Now()
	eventually(t, 10*time.Second, "caller and phone to talk", func() bool {
		return caller.echoedSince(transferred) > 50 && phone.count(8) > 50
	})
	transferEnds(t, uac, uas)
	c := lastCDR(t, p, 1)
	var full []map[string]any
	p.getJSON("/api/cdrs?limit=1", &full)
	if c.AnsweredBy != "101" || full[0]["operator"] != "anna" || full[0]["transfer_to"] != "demo" {
		t.Errorf("CDR = %+v / %v", c, full)
	}
}

// Warm transfer: the caller holds (music) while the operator talks to the
// professional; the operator takes the caller back once, then tries again
// and connects them.
func TestWarmTransferTakeBackThenConnect(t *testing.T) {
	e2e(t)
	p, pg, caller, phone, uac, uas := transferSetup(t, 2, 16000)

	pg.Select(`[data-testid=transfer-person]`, "demo")
	pg.Click(`[data-testid=btn-transfer-warm]`)
	callState(t, pg, "consult-talking", 10*time.Second)
	consulting := time.Now()
	eventually(t, 10*time.Second, "the operator's voice at the phone", func() bool { return phone.count(8) > 50 })
	time.Sleep(time.Second)
	if n := caller.echoedSince(consulting); n != 0 {
		t.Errorf("the caller heard %d packets of the consultation", n)
	}
	if share, level, n := caller.toneSince(consulting.Add(300*time.Millisecond), 440); n < 30 || level < 100 || share > 0.2 {
		t.Errorf("caller on hold: %d packets, RMS %.0f, %.0f%% operator's 440 Hz; want music only", n, level, share*100)
	}
	pg.Click(`[data-testid=btn-transfer-cancel]`)
	callState(t, pg, "talking", 10*time.Second)
	back := time.Now()
	time.Sleep(1500 * time.Millisecond)
	if share, _, n := caller.toneSince(back.Add(500*time.Millisecond), 440); n < 30 || share < 0.5 {
		t.Errorf("after taking the caller back: %d packets, %.0f%% at 440 Hz", n, share*100)
	}

	pg.Click(`[data-testid=btn-transfer-warm]`)
	callState(t, pg, "consult-talking", 10*time.Second)
	pg.Click(`[data-testid=btn-transfer-complete]`)
	callState(t, pg, "ended", 10*time.Second)
	connected := time.Now()
	eventually(t, 10*time.Second, "caller and phone to talk", func() bool { return caller.echoedSince(connected) > 50 })
	eventually(t, 5*time.Second, "the operator's leg closed", func() bool {
		return p.metric("centralino_webrtc_peer_connections") == 0
	})
	transferEnds(t, uac, uas)
	lastCDR(t, p, 1)
	var full []map[string]any
	p.getJSON("/api/cdrs?limit=1", &full)
	if full[0]["answered_by"] != "anna" || full[0]["transfer_to"] != "demo" {
		t.Errorf("CDR = %v", full)
	}
}

// Reloading the page in the queue and in a call leaks nothing: the call
// is offered again, the operator takes it again, and once it is over the
// PBX has no peer connection, one console, and as many goroutines as
// before.
func TestReloadLeaksNothing(t *testing.T) {
	e2e(t)
	p := startConsolePBX(t, "60s")
	b := startBrowser(t, "")
	pg := b.Page("anna")
	available(t, pg, p, "anna")
	time.Sleep(500 * time.Millisecond)
	baseline := p.metric("go_goroutines")

	_, uac := callDemo(t, p, map[string]any{"WaitBye": true}, 90*time.Second)
	pg.WaitFor(`[data-testid=offer-card]`, 15*time.Second)
	pg.Reload() // mid-queue
	pg.WaitFor(`[data-testid=offer-card]`, 15*time.Second)
	answerOffer(t, pg)
	eventually(t, 5*time.Second, "one peer connection", func() bool { return p.metric("centralino_webrtc_peer_connections") == 1 })

	pg.Reload() // mid-call: the caller goes back to the queue
	pg.WaitFor(`[data-testid=offer-card]`, 20*time.Second)
	if got := p.metric("centralino_webrtc_peer_connections"); got != 0 {
		t.Errorf("%v peer connections while the call waits again", got)
	}
	answerOffer(t, pg)
	hangUp(t, pg, uac)
	eventually(t, 15*time.Second, "peer connections, consoles and goroutines back to the baseline", func() bool {
		return p.metric("centralino_webrtc_peer_connections") == 0 &&
			p.metric("centralino_console_connections") == 1 &&
			p.metric("centralino_active_calls") == 0 &&
			p.metric("go_goroutines") <= baseline+2
	})
	t.Logf("goroutines: %v before the call, %v after", baseline, p.metric("go_goroutines"))
}

// Wrong passwords, lock-out, missing CSRF tokens and malformed WebSocket
// messages get clear errors and break nothing.
func TestConsoleRejectsBadInput(t *testing.T) {
	e2e(t)
	p := startConsolePBX(t, "30s")

	code, body := consolePost(t, p, "/console/api/login", "", "", map[string]string{"username": "anna", "password": "wrong"})
	if code != 401 || body["error"] != "wrong username or password" {
		t.Errorf("wrong password: %d %v", code, body)
	}
	code, body = consolePost(t, p, "/console/api/login", "", "", map[string]string{"username": "nobody", "password": "x"})
	if code != 401 || body["error"] != "wrong username or password" {
		t.Errorf("unknown user: %d %v", code, body)
	}
	for range 5 {
		consolePost(t, p, "/console/api/login", "", "", map[string]string{"username": "bruno", "password": "wrong"})
	}
	code, body = consolePost(t, p, "/console/api/login", "", "", map[string]string{"username": "bruno", "password": consolePassword})
	if e, _ := body["error"].(string); code != 429 || !strings.Contains(e, "too many failed logins") {
		t.Errorf("after 5 failures the right password must be refused too: %d %v", code, body)
	}

	code, body = consolePost(t, p, "/console/api/login", "", "", map[string]string{"username": "anna", "password": consolePassword})
	if code != 200 {
		t.Fatalf("login: %d %v", code, body)
	}
	cookie, csrf := body["_cookie"].(string), body["csrf"].(string)
	msg := map[string]string{"tenant": "demo", "reason": "test", "caller_number": "+390612345678"}
	if code, body = consolePost(t, p, "/console/api/messages", cookie, "", msg); code != 403 {
		t.Errorf("message without CSRF token: %d %v", code, body)
	}
	if code, body = consolePost(t, p, "/console/api/messages", cookie, "forged", msg); code != 403 {
		t.Errorf("message with a wrong CSRF token: %d %v", code, body)
	}
	if code, body = consolePost(t, p, "/console/api/messages", "", csrf, msg); code != 401 {
		t.Errorf("message without a session: %d %v", code, body)
	}
	if code, body = consolePost(t, p, "/console/api/messages", cookie, csrf, map[string]string{"tenant": "nope", "reason": "x"}); code != 400 || body["error"] == nil {
		t.Errorf("message for an unknown tenant: %d %v", code, body)
	}
	if code, body = consolePost(t, p, "/console/api/messages", cookie, csrf, msg); code != 201 || body["id"] == nil {
		t.Errorf("message with the token: %d %v", code, body)
	}

	// The WebSocket: another site's page cannot open it with the cookie.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h := http.Header{"Cookie": {cookie}, "Origin": {"http://evil.example"}}
	if c, _, err := websocket.Dial(ctx, "ws://"+p.HTTP+"/console/ws", &websocket.DialOptions{HTTPHeader: h}); err == nil {
		c.CloseNow()
		t.Error("WebSocket accepted from a foreign Origin")
	}
	if c, _, err := websocket.Dial(ctx, "ws://"+p.HTTP+"/console/ws", nil); err == nil {
		c.CloseNow()
		t.Error("WebSocket accepted without a session")
	}
	h.Set("Origin", "http://"+p.HTTP)
	ws, _, err := websocket.Dial(ctx, "ws://"+p.HTTP+"/console/ws", &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatalf("WebSocket with the session: %v", err)
	}
	defer ws.CloseNow()
	read := func() map[string]any {
		t.Helper()
		_, data, err := ws.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("server sent non-JSON %q", data)
		}
		return m
	}
	if m := read(); m["type"] != "hello" {
		t.Fatalf("first message %v, want hello", m)
	}
	for _, bad := range []struct{ send, want string }{
		{`not json`, "malformed JSON"},
		{`{"type":"fly"}`, "unknown message type"},
		{`{}`, "type is required"},
		{`{"type":"status","status":"asleep"}`, "status must be"},
		{`{"type":"answer","call":"nope","sdp":"v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n"}`, "no longer offered"},
		{`{"type":"answer","call":"x"}`, "sdp must be"},
		{`{"type":"hold","call":"x"}`, "on (true or false) is required"},
		{`{"type":"transfer","call":"x","mode":"sideways","person":"demo"}`, "mode must be"},
		{`{"type":"hangup","call":"x"}`, "not handling this call"},
		{`[1,2,3]`, "malformed JSON"},
	} {
		if err := ws.Write(ctx, websocket.MessageText, []byte(bad.send)); err != nil {
			t.Fatalf("write %s: %v", bad.send, err)
		}
		var m map[string]any
		for m = read(); m["type"] != "error"; m = read() {
		}
		if e, _ := m["error"].(string); !strings.Contains(e, bad.want) {
			t.Errorf("%s: error %q, want it to say %q", bad.send, e, bad.want)
		}
	}
	ws.Write(ctx, websocket.MessageText, []byte(`{"type":"ping"}`))
	for m := read(); m["type"] != "pong"; m = read() {
	}
	// A message over the limit closes that connection only.
	ws.Write(ctx, websocket.MessageText, bytes.Repeat([]byte("x"), 70<<10))
	if _, _, err := ws.Read(ctx); err == nil {
		t.Error("a 70 KiB message did not close the connection")
	}
	res, err := http.Get("http://" + p.HTTP + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("server unhealthy after bad input: %v", err)
	}
	res.Body.Close()
	// Logging out closes the session: its cookie no longer works.
	if code, _ := consolePost(t, p, "/console/api/logout", cookie, csrf, nil); code != 204 {
		t.Errorf("logout: %d", code)
	}
	if code, _ := consolePost(t, p, "/console/api/messages", cookie, csrf, msg); code != 401 {
		t.Errorf("after logout: %d, want 401", code)
	}
}

// With a certificate the console is served over HTTPS only, and the login
// cookie is marked Secure.
func TestConsoleOverHTTPS(t *testing.T) {
	e2e(t)
	certFile, keyFile := writeSelfSigned(t, t.TempDir())
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte(consolePassword), bcrypt.MinCost)
	cfg := strings.Replace(consoleConfig, `http: {listen: "{{.HTTP}}"}`,
		`http: {listen: "{{.HTTP}}", token: t0k3n, tls_cert: "{{.Cert}}", tls_key: "{{.Key}}"}`, 1)
	p := startPBX(t, pbxOptions{Config: cfg, Vars: map[string]any{"Hash": string(hash), "MaxWait": "30s", "Cert": certFile, "Key": keyFile}})

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	res, err := client.Get("https://" + p.HTTP + "/console/")
	if err != nil {
		t.Fatalf("GET https console: %v", err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(page), "<html") || res.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("console page over HTTPS: %d, CSP %q", res.StatusCode, res.Header.Get("Content-Security-Policy"))
	}
	body, _ := json.Marshal(map[string]string{"username": "anna", "password": consolePassword})
	res, err = client.Post("https://"+p.HTTP+"/console/api/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	cookie := res.Header.Get("Set-Cookie")
	if res.StatusCode != 200 || !strings.Contains(cookie, "Secure") || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Strict") {
		t.Errorf("login over HTTPS: %d, cookie %q", res.StatusCode, cookie)
	}
	if res, err := http.Get("http://" + p.HTTP + "/console/"); err == nil {
		res.Body.Close()
		if res.StatusCode != 400 {
			t.Errorf("plain HTTP on the HTTPS listener: %d, want 400", res.StatusCode)
		}
	}
}

// Warm transfer to a professional whose phone refuses (486): the operator
// gets the caller back, told why, and talks to them again.
func TestWarmTransferDeclined(t *testing.T) {
	e2e(t)
	p := startConsolePBX(t, "30s")
	port := registerSipp(t, p, "101", "demo-101")
	uas := startSipp(t, sippOpts{Scenario: "uas_reject.xml", Data: map[string]any{"Code": 486, "Reason": "Busy Here"}, Port: port})
	b := startBrowser(t, "")
	pg := b.Page("anna")
	available(t, pg, p, "anna")
	caller, uac := callDemo(t, p, map[string]any{"WaitBye": true}, 60*time.Second)
	pg.WaitFor(`[data-testid=offer-card]`, 15*time.Second)
	answerOffer(t, pg)

	pg.Select(`[data-testid=transfer-person]`, "demo")
	pg.Click(`[data-testid=btn-transfer-warm]`)
	if code := uas.wait(15 * time.Second); code != 0 {
		t.Errorf("the refusing phone exited %d", code)
	}
	callState(t, pg, "talking", 10*time.Second)
	back := time.Now()
	var st struct {
		CallState string `json:"callState"`
	}
	pg.Eval(`window.centralinoConsole.state()`, &st)
	if reason := pg.Text(`[data-testid=call-state]`); st.CallState != "talking" {
		t.Errorf("after the refusal the call is %q (%q)", st.CallState, reason)
	}
	time.Sleep(1500 * time.Millisecond)
	if share, _, n := caller.toneSince(back.Add(500*time.Millisecond), 440); n < 30 || share < 0.5 {
		t.Errorf("the caller does not hear the operator again: %d packets, %.0f%% at 440 Hz", n, share*100)
	}
	hangUp(t, pg, uac)
	var full []map[string]any
	p.getJSON("/api/cdrs?limit=1", &full)
	if len(full) != 1 || full[0]["transfer_to"] != nil {
		t.Errorf("a refused transfer is recorded as one: %v", full)
	}
}
