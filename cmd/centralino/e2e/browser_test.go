package e2e

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Headless Chromium for the operator console tests. browser/driver.js runs
// Debian's /usr/bin/chromium through playwright-core (installed by
// .ci/install-test-deps.sh) and takes one JSON command per line; the
// helpers below send those commands and fail the test on any error.
// Everything stays on loopback: Chromium gets
// --allow-loopback-in-peer-connection and no mDNS candidates, and pages
// (and the PBX) must only use 127.0.0.1 / ::1 candidates.

// browserMicWAV is the default fake microphone: 3 s of 440 Hz at RMS 0.29
// (8 kHz, s16, mono) with a 3 Hz tremolo; Chromium loops it.
const browserMicWAV = "browser/mic-440hz-8k.wav"

// browserTimeout bounds one command (navigation, click, eval...).
const browserTimeout = 15 * time.Second

type browser struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *syncBuffer
	exited chan struct{}

	mu      sync.Mutex
	nextID  int
	pending map[int]chan driverReply
	dead    error // set when the driver's stdout ended
}

type driverReply struct {
	ID    int             `json:"id"`
	OK    bool            `json:"ok"`
	Value json.RawMessage `json:"value"`
	Error string          `json:"error"`
}

// page is a named page in its own browser context (own cookies), like a
// separate operator's browser.
type page struct {
	b    *browser
	name string
}

// startBrowser launches headless Chromium with fakeWAV as the microphone
// ("" for browserMicWAV). Without chromium, node or the driver's modules it
// skips the test, unless CENTRALINO_REQUIRE_BROWSER is set (make test sets
// it), in which case it fails.
func startBrowser(t *testing.T, fakeWAV string) *browser {
	t.Helper()
	driver, err := filepath.Abs(filepath.Join("browser", "driver.js"))
	if err != nil {
		t.Fatal(err)
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	var missing []string
	if _, err := os.Stat(chromium); err != nil {
		missing = append(missing, chromium)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing = append(missing, "node")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(driver), "node_modules", "playwright-core")); err != nil {
		missing = append(missing, "browser/node_modules/playwright-core")
	}
	if len(missing) > 0 {
		msg := fmt.Sprintf("browser tests need %s: run .ci/install-test-deps.sh", strings.Join(missing, ", "))
		if os.Getenv("CENTRALINO_REQUIRE_BROWSER") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if fakeWAV == "" {
		fakeWAV = browserMicWAV
	}
	if fakeWAV, err = filepath.Abs(fakeWAV); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(fakeWAV); err != nil {
		t.Fatalf("fake microphone: %v", err)
	}

	b := &browser{t: t, stderr: &syncBuffer{}, exited: make(chan struct{}), pending: map[int]chan driverReply{}}
	b.cmd = exec.Command(node, driver, fakeWAV)
	b.cmd.Dir = filepath.Dir(driver)
	b.cmd.Env = append(os.Environ(), "CHROMIUM="+chromium)
	b.cmd.Stderr = b.stderr
	// Own process group, so a stuck driver can be killed with its Chromium.
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if b.stdin, err = b.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := b.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan driverReply, 1)
	b.pending[0] = ready
	b.nextID = 1
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("start browser driver: %v", err)
	}
	go b.read(stdout)
	go func() { b.cmd.Wait(); close(b.exited) }()
	t.Cleanup(b.quit)

	select {
	case r := <-ready:
		if !r.OK {
			t.Fatalf("browser did not start: %s\ndriver stderr:\n%s", r.Error, tail(b.stderr.String(), 40))
		}
		t.Logf("browser: %s", r.Value)
	case <-time.After(60 * time.Second):
		t.Fatalf("browser not ready after 60 s\ndriver stderr:\n%s", tail(b.stderr.String(), 40))
	}
	return b
}

// read dispatches the driver's replies to the waiting calls.
func (b *browser) read(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64*1024), 64*1024*1024)
	for sc.Scan() {
		var r driverReply
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			b.stderr.Write([]byte("driver stdout (not JSON): " + sc.Text() + "\n"))
			continue
		}
		b.mu.Lock()
		ch := b.pending[r.ID]
		delete(b.pending, r.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
	b.mu.Lock()
	b.dead = errors.New("browser driver exited")
	for id, ch := range b.pending {
		ch <- driverReply{ID: id, Error: b.dead.Error()}
		delete(b.pending, id)
	}
	b.mu.Unlock()
}

// do sends one command and waits for its reply. timeout bounds the
// command inside the driver; the wait here allows a few seconds more.
func (b *browser) do(cmd map[string]any, timeout time.Duration) (json.RawMessage, error) {
	b.mu.Lock()
	if b.dead != nil {
		b.mu.Unlock()
		return nil, b.dead
	}
	id := b.nextID
	b.nextID++
	ch := make(chan driverReply, 1)
	b.pending[id] = ch
	cmd["id"] = id
	cmd["timeout"] = timeout.Milliseconds()
	line, err := json.Marshal(cmd)
	if err == nil {
		_, err = b.stdin.Write(append(line, '\n'))
	}
	b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		if !r.OK {
			return nil, errors.New(r.Error)
		}
		return r.Value, nil
	case <-time.After(timeout + 5*time.Second):
		b.mu.Lock()
		delete(b.pending, id)
		b.mu.Unlock()
		return nil, fmt.Errorf("no reply from the driver after %v", timeout+5*time.Second)
	}
}

// must runs a command and fails the test with the command and the
// driver's stderr (page console included) on error.
func (b *browser) must(cmd map[string]any, timeout time.Duration) json.RawMessage {
	b.t.Helper()
	v, err := b.do(cmd, timeout)
	if err != nil {
		delete(cmd, "id")
		delete(cmd, "timeout")
		desc, _ := json.Marshal(cmd)
		b.t.Fatalf("browser %s: %v\ndriver stderr (tail):\n%s", desc, err, tail(b.stderr.String(), 40))
	}
	return v
}

// quit closes the browser and waits for the driver; it kills the process
// group when that takes too long.
func (b *browser) quit() {
	b.do(map[string]any{"cmd": "quit"}, 5*time.Second)
	b.stdin.Close()
	select {
	case <-b.exited:
	case <-time.After(10 * time.Second):
		syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		<-b.exited
		b.t.Errorf("browser driver did not exit; killed")
	}
	if b.t.Failed() {
		b.t.Logf("browser driver stderr:\n%s", tail(b.stderr.String(), 200))
	}
}

// Page opens a new named page in a fresh browser context.
func (b *browser) Page(name string) *page {
	b.t.Helper()
	b.must(map[string]any{"cmd": "newPage", "page": name}, browserTimeout)
	return &page{b: b, name: name}
}

func (p *page) run(cmd string, timeout time.Duration, kv ...any) json.RawMessage {
	p.b.t.Helper()
	c := map[string]any{"cmd": cmd, "page": p.name}
	for i := 0; i+1 < len(kv); i += 2 {
		c[kv[i].(string)] = kv[i+1]
	}
	return p.b.must(c, timeout)
}

// Goto loads url and waits for its load event.
func (p *page) Goto(url string) {
	p.b.t.Helper()
	p.run("goto", browserTimeout, "url", url)
}

// Reload reloads the page and waits for its load event.
func (p *page) Reload() {
	p.b.t.Helper()
	p.run("reload", browserTimeout)
}

// Click clicks the first element matching selector (a Playwright selector:
// CSS, or text=..., etc.), waiting for it to be visible and enabled.
func (p *page) Click(selector string) {
	p.b.t.Helper()
	p.run("click", browserTimeout, "selector", selector)
}

// Fill sets an input's value as if typed.
func (p *page) Fill(selector, value string) {
	p.b.t.Helper()
	p.run("fill", browserTimeout, "selector", selector, "value", value)
}

// Select chooses the option with this value (or label) in a <select>.
func (p *page) Select(selector, value string) {
	p.b.t.Helper()
	p.run("select", browserTimeout, "selector", selector, "value", value)
}

// WaitFor waits up to timeout for selector to be visible.
func (p *page) WaitFor(selector string, timeout time.Duration) {
	p.b.t.Helper()
	p.WaitForState(selector, "visible", timeout)
}

// WaitForState waits up to timeout for selector to be in state:
// "attached", "detached", "visible" or "hidden".
func (p *page) WaitForState(selector, state string, timeout time.Duration) {
	p.b.t.Helper()
	p.run("waitFor", timeout, "selector", selector, "state", state)
}

// Text returns the textContent of the first element matching selector,
// trimmed.
func (p *page) Text(selector string) string {
	p.b.t.Helper()
	var s *string
	if err := json.Unmarshal(p.run("text", browserTimeout, "selector", selector), &s); err != nil {
		p.b.t.Fatalf("text %s: %v", selector, err)
	}
	if s == nil {
		return ""
	}
	return strings.TrimSpace(*s)
}

// Eval evaluates js in the page and decodes its JSON value into out (nil
// to ignore it). js is an expression ("window.result") or the body of an
// async function ("await sleep(100); return x"); promises are awaited.
func (p *page) Eval(js string, out any) {
	p.b.t.Helper()
	p.EvalTimeout(js, out, browserTimeout)
}

// EvalTimeout is Eval with its own timeout, for scripts that wait.
func (p *page) EvalTimeout(js string, out any, timeout time.Duration) {
	p.b.t.Helper()
	v := p.run("eval", timeout, "js", js)
	if out != nil {
		if err := json.Unmarshal(v, out); err != nil {
			p.b.t.Fatalf("eval %q: decoding %s: %v", js, v, err)
		}
	}
}

// Close closes the page and its browser context.
func (p *page) Close() {
	p.b.t.Helper()
	p.run("closePage", browserTimeout)
}

// harnessPage is the self-test's page: a cookie echo, a small form and a
// WebRTC loopback between two in-page peers, PCMU only, loopback
// candidates only (as the operator console and the PBX must do).
const harnessPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>browser harness</title></head><body>
<p id="who">%s</p>
<input id="name"> <select id="codec"><option value="opus">Opus</option><option value="PCMU">G.711 µ-law</option></select>
<button id="go" onclick="document.getElementById('out').textContent = 'hello ' + document.getElementById('name').value + ' ' + document.getElementById('codec').value">go</button>
<p id="out"></p>
<button id="call" onclick="call()">call</button>
<p id="state"></p>
<script>
const sleep = ms => new Promise(r => setTimeout(r, ms));
const state = s => { document.getElementById('state').textContent = s; console.log('state', s); };
const isLo = c => / (127\.0\.0\.1|::1) /.test(c.candidate);
async function call() {
  try {
    const stream = await navigator.mediaDevices.getUserMedia({audio: {echoCancellation: false, noiseSuppression: false, autoGainControl: false}});
    const track = stream.getAudioTracks()[0];
    const pc1 = new RTCPeerConnection(), pc2 = new RTCPeerConnection();
    const sent = [];
    pc1.onicecandidate = e => { if (e.candidate) { sent.push(e.candidate.candidate); if (isLo(e.candidate)) pc2.addIceCandidate(e.candidate); } };
    pc2.onicecandidate = e => { if (e.candidate && isLo(e.candidate)) pc1.addIceCandidate(e.candidate); };
    const tr = pc1.addTransceiver(track, {direction: 'sendonly', streams: [stream]});
    const caps = RTCRtpSender.getCapabilities('audio').codecs;
    tr.setCodecPreferences(caps.filter(c => c.mimeType === 'audio/PCMU' || c.mimeType === 'audio/telephone-event'));
    const offer = await pc1.createOffer();
    await pc1.setLocalDescription(offer); await pc2.setRemoteDescription(offer);
    const answer = await pc2.createAnswer();
    await pc2.setLocalDescription(answer); await pc1.setRemoteDescription(answer);
    state('connecting');
    const r = {track: track.label, offerRtpmap: offer.sdp.split('\r\n').filter(l => l.startsWith('a=rtpmap:')).map(l => l.slice(9))};
    for (let t0 = performance.now(); performance.now() - t0 < 8000; await sleep(100)) {
      const st = await pc2.getStats(), codecs = {};
      st.forEach(s => { if (s.type === 'codec') codecs[s.id] = s.mimeType; });
      st.forEach(s => { if (s.type === 'inbound-rtp' && s.kind === 'audio') { r.packetsReceived = s.packetsReceived; r.codec = codecs[s.codecId]; } });
      st.forEach(s => { if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') r.pair = s.id; });
      if (r.packetsReceived > 10) break;
    }
    r.connectionState = pc1.connectionState;
    r.candidates = sent;
    window.result = r;
    state('done');
  } catch (e) {
    window.result = {error: String(e)};
    state('error ' + e);
  }
}
</script></body></html>`

// TestBrowserHarness checks the browser helpers themselves: separate
// cookies per named page, fill/select/click/text, eval forms, errors, and
// fake-microphone WebRTC over loopback.
func TestBrowserHarness(t *testing.T) {
	e2e(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := r.URL.Query().Get("login"); u != "" {
			http.SetCookie(w, &http.Cookie{Name: "operator", Value: u, Path: "/"})
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		who := "nobody"
		if c, err := r.Cookie("operator"); err == nil {
			who = c.Value
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, harnessPage, who)
	}))
	defer srv.Close()

	start := time.Now()
	b := startBrowser(t, "")
	t.Logf("browser up in %v", time.Since(start))

	alice, bob := b.Page("alice"), b.Page("bob")
	alice.Goto(srv.URL + "/?login=alice")
	bob.Goto(srv.URL + "/")
	if got := alice.Text("#who"); got != "alice" {
		t.Errorf("alice's page: who = %q", got)
	}
	if got := bob.Text("#who"); got != "nobody" {
		t.Errorf("bob's page sees alice's cookie: who = %q", got)
	}
	var cookie string
	bob.Eval("document.cookie", &cookie)
	if cookie != "" {
		t.Errorf("bob's cookies: %q", cookie)
	}
	alice.Reload()
	if got := alice.Text("#who"); got != "alice" {
		t.Errorf("after reload: who = %q", got)
	}

	alice.Fill("#name", "Alice")
	alice.Select("#codec", "PCMU")
	alice.Click("#go")
	if got := alice.Text("#out"); got != "hello Alice PCMU" {
		t.Errorf("form: out = %q", got)
	}
	var n int
	alice.Eval("1 + 2", &n)
	if n != 3 {
		t.Errorf("eval expression: %d", n)
	}
	alice.Eval("const x = await new Promise(r => setTimeout(() => r(2), 10)); return x * 2", &n)
	if n != 4 {
		t.Errorf("eval body: %d", n)
	}
	if _, err := b.do(map[string]any{"cmd": "click", "page": "bob", "selector": "#missing"}, 300*time.Millisecond); err == nil || !strings.Contains(err.Error(), "#missing") {
		t.Errorf("click on a missing element: err = %v", err)
	}
	if _, err := b.do(map[string]any{"cmd": "eval", "page": "bob", "js": "throw new Error('boom')"}, time.Second); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("eval that throws: err = %v", err)
	}
	bob.Close()
	if _, err := b.do(map[string]any{"cmd": "text", "page": "bob", "selector": "#who"}, time.Second); err == nil {
		t.Error("closed page still answers")
	}

	t0 := time.Now()
	alice.Click("#call")
	alice.WaitFor("#state:text('done')", 10*time.Second)
	var res struct {
		Error           string
		Track           string
		OfferRtpmap     []string
		PacketsReceived int
		Codec           string
		ConnectionState string
		Pair            string
		Candidates      []string
	}
	alice.Eval("window.result", &res)
	t.Logf("loopback call in %v: %+v", time.Since(t0), res)
	if res.Error != "" || res.ConnectionState != "connected" || res.PacketsReceived == 0 {
		t.Errorf("loopback WebRTC: %+v", res)
	}
	if res.Codec != "audio/PCMU" {
		t.Errorf("codec %q, want audio/PCMU", res.Codec)
	}
	for _, c := range res.Candidates {
		if strings.Contains(c, ".local ") {
			t.Errorf("mDNS candidate: %s", c)
		}
	}
	t.Logf("total %v", time.Since(start))
}
