package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zaf/g711"
)

// The demo's operator account (config/demo).
const (
	demoOperator = "operatore"
	demoPassword = "demo"
)

// callerMedia is the calling phone's RTP: it records what the PBX sends
// (when, which payload type, what audio) and sends a steady A-law tone
// of its own at toneHz, so that the operator hears the caller.
type callerMedia struct {
	conn *net.UDPConn
	done chan struct{}

	mu      sync.Mutex
	packets []rtpSeen
	events  []byte // RFC 4733 event codes, one per event (end packets)
	lastTS  uint32
	peer    *net.UDPAddr
}

type rtpSeen struct {
	at      time.Time
	pt      uint8
	payload []byte
}

// callerToneHz is what the caller "says" (the fake mic is 440 Hz).
const callerToneHz = 1000

func newCallerMedia(t *testing.T) *callerMedia {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	m := &callerMedia{conn: conn, done: make(chan struct{})}
	go m.read()
	go m.send()
	t.Cleanup(func() { conn.Close(); <-m.done })
	return m
}

func (m *callerMedia) port() int { return m.conn.LocalAddr().(*net.UDPAddr).Port }

func (m *callerMedia) read() {
	defer close(m.done)
	buf := make([]byte, 2048)
	for {
		n, from, err := m.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		if n < 12 || buf[0]>>6 != 2 {
			continue
		}
		pt := buf[1] & 0x7f
		ts := uint32(buf[4])<<24 | uint32(buf[5])<<16 | uint32(buf[6])<<8 | uint32(buf[7])
		m.mu.Lock()
		m.peer = from
		m.packets = append(m.packets, rtpSeen{at: time.Now(), pt: pt, payload: append([]byte(nil), buf[12:n]...)})
		if pt == 101 && n >= 16 && buf[13]&0x80 != 0 && ts != m.lastTS {
			m.lastTS = ts
			m.events = append(m.events, buf[12])
		}
		m.mu.Unlock()
	}
}

// send talks (symmetric RTP: to wherever the PBX sends from) once the PBX
// has sent something, until the socket closes.
func (m *callerMedia) send() {
	pkt := make([]byte, 12+160)
	pkt[0], pkt[1] = 0x80, 8
	var seq uint16
	var ts uint32
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	phase := 0.0
	for range t.C {
		m.mu.Lock()
		to := m.peer
		m.mu.Unlock()
		select {
		case <-m.done:
			return
		default:
		}
		if to == nil {
			continue
		}
		for i := range 160 {
			pkt[12+i] = g711.EncodeAlawFrame(int16(6000 * math.Sin(phase)))
			phase += 2 * math.Pi * callerToneHz / 8000
		}
		seq++
		ts += 160
		pkt[2], pkt[3] = byte(seq>>8), byte(seq)
		pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		pkt[8], pkt[11] = 0x12, 0x34
		if _, err := m.conn.WriteToUDP(pkt, to); err != nil {
			return
		}
	}
}

// toneSince measures, in the A-law audio received after since, the share
// of power at hz (Goertzel) and the RMS: whose voice the caller hears.
func (m *callerMedia) toneSince(since time.Time, hz float64) (share, level float64, packets int) {
	m.mu.Lock()
	var samples []float64
	for _, p := range m.packets {
		if p.pt == 8 && p.at.After(since) {
			packets++
			for _, b := range p.payload {
				samples = append(samples, float64(g711.DecodeAlawFrame(b)))
			}
		}
	}
	m.mu.Unlock()
	if len(samples) == 0 {
		return 0, 0, 0
	}
	var total float64
	for _, s := range samples {
		total += s * s
	}
	level = math.Sqrt(total / float64(len(samples)))
	// Goertzel over 20 ms blocks, summed.
	var tone float64
	k := 2 * math.Cos(2*math.Pi*hz/8000)
	for off := 0; off+160 <= len(samples); off += 160 {
		var s1, s2 float64
		for _, x := range samples[off : off+160] {
			s1, s2 = x+k*s1-s2, s1
		}
		tone += (s1*s1 + s2*s2 - k*s1*s2) * 2 / 160
	}
	return tone / total, level, packets
}

func (m *callerMedia) digits() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	for _, e := range m.events {
		b.WriteByte("0123456789*#ABCD"[e&0x0f])
	}
	return b.String()
}

// callDemo calls the demo number from the trunk (sipp, uac_call.xml with
// data) with a callerMedia as the caller's RTP.
func callDemo(t *testing.T, p *pbx, data map[string]any, timeout time.Duration) (*callerMedia, *sipp) {
	t.Helper()
	caller := newCallerMedia(t)
	data["RTPPort"] = caller.port()
	uac := startSipp(t, sippOpts{Scenario: "uac_call.xml", Data: callData(data), Target: p.SIP, Service: demoNumber, Timeout: timeout})
	return caller, uac
}

// operatorLogin opens the console in page and logs in.
func operatorLogin(t *testing.T, pg *page, p *pbx, user, password string) {
	t.Helper()
	pg.Goto("http://" + p.HTTP + "/console/?raw=1")
	pg.Fill(`[data-testid=login-username]`, user)
	pg.Fill(`[data-testid=login-password]`, password)
	pg.Click(`[data-testid=login-submit]`)
	pg.WaitFor(`[data-testid=status-available]`, browserTimeout)
	waitText(t, pg, `[data-testid=ws-state]`, "", 10*time.Second)
}

// waitText waits for selector's text to contain want ("" = any text).
func waitText(t *testing.T, pg *page, selector, want string, d time.Duration) string {
	t.Helper()
	var got string
	eventually(t, d, fmt.Sprintf("%s to say %q", selector, want), func() bool {
		got = pg.Text(selector)
		return got != "" && strings.Contains(strings.ToLower(got), strings.ToLower(want))
	})
	return got
}

// rtcStats is window.centralinoConsole.stats().
type rtcStats struct {
	Inbound struct {
		PacketsReceived int `json:"packetsReceived"`
		BytesReceived   int `json:"bytesReceived"`
	} `json:"inbound"`
	Outbound struct {
		PacketsSent int `json:"packetsSent"`
		BytesSent   int `json:"bytesSent"`
	} `json:"outbound"`
	ConnectionState string `json:"connectionState"`
}

func consoleStats(pg *page) rtcStats {
	var s rtcStats
	pg.Eval(`return await window.centralinoConsole.stats()`, &s)
	return s
}

// The whole path of a virtual-secretary call: a trunk call for the demo
// tenant reaches the operator action; the logged-in operator's page pops
// the card with the tenant's phrase; the operator answers from the
// browser; audio flows both ways; a keypad digit reaches the caller as
// RFC 4733; the operator takes a message, which the API lists; the
// operator hangs up and the call record says who answered.
func TestOperatorAnswersFromTheBrowser(t *testing.T) {
	e2e(t)
	p := startPBX(t, pbxOptions{})
	b := startBrowser(t, "")
	pg := b.Page("operator")
	operatorLogin(t, pg, p, demoOperator, demoPassword)
	pg.Click(`[data-testid=status-available]`)
	waitText(t, pg, `[data-testid=status-label]`, "", 5*time.Second)

	caller, uac := callDemo(t, p, map[string]any{"WaitBye": true}, 90*time.Second)
	pg.WaitFor(`[data-testid=offer-card]`, 20*time.Second)
	phrase := pg.Text(`[data-testid=pop-phrase]`)
	if !strings.Contains(phrase, "Studio Demo") {
		t.Errorf("screen pop phrase = %q, want the demo tenant's answer phrase", phrase)
	}
	if got := pg.Text(`[data-testid=pop-caller]`); !strings.Contains(strings.ReplaceAll(got, " ", ""), "+390612345678") {
		t.Errorf("screen pop caller = %q", got)
	}
	// While queued the caller hears music on hold.
	if _, level, n := caller.toneSince(time.Time{}, callerToneHz); n < 3 || level < 100 {
		t.Errorf("caller heard %d packets at RMS %.0f while queued, want music on hold", n, level)
	}

	pg.Click(`[data-testid=offer-answer]`)
	pg.WaitFor(`[data-testid=call-panel]`, 10*time.Second)
	answered := time.Now()
	var st rtcStats
	eventually(t, 15*time.Second, "the browser to receive the caller's audio", func() bool {
		st = consoleStats(pg)
		return st.Inbound.PacketsReceived > 100 && st.Outbound.PacketsSent > 100
	})
	time.Sleep(time.Second) // let the caller collect a second of the operator's voice
	share, level, n := caller.toneSince(answered.Add(500*time.Millisecond), 440)
	t.Logf("browser: in %d pkts/%d B, out %d pkts; caller got %d packets from the operator, RMS %.0f, %.0f%% at 440 Hz",
		st.Inbound.PacketsReceived, st.Inbound.BytesReceived, st.Outbound.PacketsSent, n, level, share*100)
	if n < 40 || share < 0.5 {
		t.Errorf("the caller did not hear the operator's microphone (440 Hz): %d packets, %.0f%% of the power at 440 Hz", n, share*100)
	}
	if st.Inbound.BytesReceived < 160*100 {
		t.Errorf("browser received %d bytes of audio", st.Inbound.BytesReceived)
	}

	pg.Click(`[data-testid=keypad-5]`)
	eventually(t, 5*time.Second, "the caller to receive the digit 5 as RFC 4733", func() bool { return strings.Contains(caller.digits(), "5") })

	// Hold: the caller hears music, not the operator; then back.
	pg.Click(`[data-testid=btn-hold]`)
	callState(t, pg, "held", 5*time.Second)
	held := time.Now()
	time.Sleep(1500 * time.Millisecond)
	if share, level, n := caller.toneSince(held.Add(500*time.Millisecond), 440); n < 30 || level < 100 || share > 0.2 {
		t.Errorf("on hold the caller got %d packets, RMS %.0f, %.0f%% at 440 Hz; want music, not the operator", n, level, share*100)
	}
	pg.Click(`[data-testid=btn-hold]`)
	callState(t, pg, "talking", 5*time.Second)
	// Mute: the operator's microphone goes silent for the caller.
	pg.Click(`[data-testid=btn-mute]`)
	muted := time.Now()
	time.Sleep(1500 * time.Millisecond)
	if _, level, n := caller.toneSince(muted.Add(500*time.Millisecond), 440); n < 30 || level > 100 {
		t.Errorf("muted: the caller got %d packets at RMS %.0f, want silence", n, level)
	}
	pg.Click(`[data-testid=btn-mute]`)

	pg.Fill(`[data-testid=msg-name]`, "Mario Rossi")
	pg.Fill(`[data-testid=msg-reason]`, "Richiamare per il preventivo")
	pg.Select(`[data-testid=msg-urgency]`, "urgent")
	pg.Click(`[data-testid=msg-save]`)
	pg.WaitFor(`[data-testid=msg-saved]`, 10*time.Second)
	var msgs []struct {
		ID, Tenant, Reason, Urgency, Operator string
		CallerName                            string `json:"caller_name"`
		CallerNumber                          string `json:"caller_number"`
		CallID                                string `json:"call_id"`
	}
	p.getJSON("/api/messages", &msgs)
	if len(msgs) != 1 || msgs[0].Reason != "Richiamare per il preventivo" || msgs[0].Urgency != "urgent" ||
		msgs[0].Operator != demoOperator || msgs[0].Tenant != "demo" || msgs[0].CallID == "" ||
		msgs[0].CallerName != "Mario Rossi" || msgs[0].CallerNumber != "+390612345678" {
		t.Errorf("messages = %+v", msgs)
	}
	if out := runCLI(t, "messages", "list", "--server", p.HTTP); !strings.Contains(out, "preventivo") {
		t.Errorf("centralino messages list:\n%s", out)
	}

	pg.Click(`[data-testid=btn-hangup]`)
	if code := uac.wait(15 * time.Second); code != 0 {
		t.Fatalf("caller (sipp) exited %d; it expects the operator's BYE", code)
	}
	c := lastCDR(t, p, 1)
	if c.Disposition != "answered" || c.AnsweredBy != demoOperator || c.HangupBy != "callee" {
		t.Errorf("CDR = %+v", c)
	}
	var full []map[string]any
	p.getJSON("/api/cdrs?limit=1", &full)
	if len(full) != 1 || full[0]["operator"] != demoOperator || full[0]["queue_wait"] == nil || full[0]["talk_seconds"] == nil {
		t.Errorf("CDR lacks the operator's part: %v", full)
	}
	eventually(t, 10*time.Second, "no peer connection left", func() bool {
		return p.metric("centralino_webrtc_peer_connections") == 0
	})
}

// consolePost posts JSON to the console API with a session cookie and an
// optional CSRF token; it returns the status and the decoded body.
func consolePost(t *testing.T, p *pbx, path, cookie, csrf string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", "http://"+p.HTTP+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	data, _ := io.ReadAll(res.Body)
	json.Unmarshal(data, &out)
	if c := res.Header.Get("Set-Cookie"); c != "" && out != nil {
		out["_cookie"] = strings.SplitN(c, ";", 2)[0]
	}
	return res.StatusCode, out
}
