package e2e

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/zaf/g711"
)

type voicemail struct {
	ID      string  `json:"id"`
	Tenant  string  `json:"tenant"`
	Caller  string  `json:"caller"`
	Seconds float64 `json:"seconds"`
	File    string  `json:"file"`
	State   string  `json:"state"`
}

func ivrData(extra map[string]any) map[string]any {
	d := map[string]any{"Formats": "8 101", "From": "0612345678", "Mode": "", "Key": "", "DelayMs": 0,
		"PauseMs": 1000, "WaitBye": false, "InbandFile": "", "InbandPT": 0}
	for k, v := range extra {
		d[k] = v
	}
	type infoKey struct {
		Key  string
		CSeq int
	}
	var keys []infoKey
	for i, k := range d["Key"].(string) {
		keys = append(keys, infoKey{string(k), 2 + i})
	}
	d["InfoKeys"] = keys
	return d
}

// wavPCM reads a 16-bit PCM WAV (what Centralino records).
func wavPCM(t *testing.T, data []byte) (rate int, samples []int16) {
	t.Helper()
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		t.Fatalf("not a WAV file (%d bytes)", len(data))
	}
	for off := 12; off+8 <= len(data); {
		id, size := string(data[off:off+4]), int(binary.LittleEndian.Uint32(data[off+4:]))
		body := data[off+8:]
		switch id {
		case "fmt ":
			if binary.LittleEndian.Uint16(body) != 1 || binary.LittleEndian.Uint16(body[14:]) != 16 {
				t.Fatalf("not 16-bit PCM")
			}
			rate = int(binary.LittleEndian.Uint32(body[4:]))
		case "data":
			if size > len(body) {
				t.Fatalf("data chunk says %d bytes, file has %d: header not repaired", size, len(body))
			}
			for i := 0; i+1 < size; i += 2 {
				samples = append(samples, int16(binary.LittleEndian.Uint16(body[i:])))
			}
			return rate, samples
		}
		off += 8 + size + size%2
	}
	t.Fatal("no data chunk")
	return 0, nil
}

func rms(samples []int16) float64 {
	var sum float64
	for _, s := range samples {
		sum += float64(s) * float64(s)
	}
	return math.Sqrt(sum / math.Max(1, float64(len(samples))))
}

func voicemails(t *testing.T, p *pbx) []voicemail {
	t.Helper()
	var vms []voicemail
	p.getJSON("/api/voicemails", &vms)
	return vms
}

func voicemailAudio(t *testing.T, p *pbx, id string) []byte {
	t.Helper()
	res, err := http.Get("http://" + p.HTTP + "/api/voicemails/" + id + "/audio")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "audio/wav" {
		t.Fatalf("audio download: %s %q", res.Status, res.Header.Get("Content-Type"))
	}
	return body
}

// pcapAudio decodes the A-law audio sipp sends from g711a.pcap.
func pcapAudio(t *testing.T) []int16 {
	var out []int16
	for _, payload := range pcapRTPPayloads(t, filepath.Join(sippPcapDir, "g711a.pcap")) {
		for _, b := range payload {
			out = append(out, g711.DecodeAlawFrame(b))
		}
	}
	return out
}

// The demo answers a caller nobody picks up for (100 is not registered):
// greeting, beep, and a recording of what the caller says; the stored WAV
// lasts as long as what sipp sent and has its energy.
func TestVoicemailRecordsWhatTheCallerSays(t *testing.T) {
	e2e(t)
	p := startPBX(t, pbxOptions{})
	mustSipp(t, sippOpts{
		// The greeting and the beep last under 6 s: speak after them.
		Scenario: "uac_ivr.xml", Data: ivrData(map[string]any{"Mode": "pcap", "DelayMs": 6500, "PauseMs": 8000}),
		Target: p.SIP, Service: demoNumber, Timeout: 60 * time.Second,
	})
	var vms []voicemail
	eventually(t, 10*time.Second, "the voicemail record", func() bool {
		vms = voicemails(t, p)
		return len(vms) == 1 && vms[0].State == "complete"
	})
	sent := pcapAudio(t)
	want := float64(len(sent)) / 8000
	if math.Abs(vms[0].Seconds-want) > 0.3 {
		t.Errorf("voicemail lasts %.2f s, want %.2f ± 0.3 s (what sipp sent)", vms[0].Seconds, want)
	}
	rate, got := wavPCM(t, voicemailAudio(t, p, vms[0].ID))
	if rate != 8000 || math.Abs(float64(len(got))/8000-vms[0].Seconds) > 0.05 {
		t.Errorf("WAV: %d Hz, %.2f s; record says %.2f s", rate, float64(len(got))/8000, vms[0].Seconds)
	}
	ratio := 20 * math.Log10(rms(got)/rms(sent))
	t.Logf("voicemail %s: %.2f s (sent %.2f s), RMS %.0f vs sent %.0f (%.2f dB)", vms[0].ID, vms[0].Seconds, want, rms(got), rms(sent), ratio)
	if math.Abs(ratio) > 1 {
		t.Errorf("recorded energy differs from what was sent by %.2f dB", ratio)
	}
	if c := lastCDR(t, p, 1); c.Disposition != "voicemail" || c.AnsweredBy != "centralino" {
		t.Errorf("CDR = %+v", c)
	}
	out := runCLI(t, "voicemail", "list", "--server", p.HTTP)
	if !strings.Contains(out, vms[0].ID) {
		t.Errorf("centralino voicemail list:\n%s", out)
	}
}

// kill -9 during a recording: after a restart the voicemail is listed
// (recovered) and its WAV plays with the audio up to the kill.
func TestVoicemailSurvivesKill(t *testing.T) {
	e2e(t)
	p := startPBX(t, pbxOptions{})
	caller := startSipp(t, sippOpts{
		Scenario: "uac_ivr.xml", Data: ivrData(map[string]any{"Mode": "pcap", "DelayMs": 6500, "PauseMs": 8000}),
		Target: p.SIP, Service: demoNumber, Timeout: 60 * time.Second,
	})
	eventually(t, 15*time.Second, "a recording in progress", func() bool {
		vms := voicemails(t, p)
		return len(vms) == 1 && vms[0].State == "recording"
	})
	if v := p.metric("centralino_rtp_polled_legs"); runtime.GOOS == "linux" && v != 1 {
		t.Errorf("centralino_rtp_polled_legs = %v while recording, want 1: the caller's audio is not read by the poller", v)
	}
	time.Sleep(4500 * time.Millisecond) // let the caller speak for a while: the test is about what was said before the kill
	p.Kill()
	caller.kill()
	q := startPBX(t, pbxOptions{Reuse: p})
	vms := voicemails(t, q)
	if len(vms) != 1 || vms[0].State != "recovered" {
		t.Fatalf("after restart: %+v, want one recovered voicemail", vms)
	}
	rate, got := wavPCM(t, voicemailAudio(t, q, vms[0].ID))
	secs := float64(len(got)) / float64(rate)
	t.Logf("recovered %.2f s of audio (record says %.2f s), RMS %.0f", secs, vms[0].Seconds, rms(got))
	// About 3.5 s were spoken before the kill; at most the last second may be lost.
	if secs < 2 || secs > 5 || math.Abs(secs-vms[0].Seconds) > 0.05 || rms(got) < 500 {
		t.Errorf("recovered WAV: %.2f s (record %.2f s), RMS %.0f", secs, vms[0].Seconds, rms(got))
	}
}

// menuConfig: a tenant whose plan is a menu: 1, 2, 5 and 42 each play a
// word and hang up; anything else is invalid.
const menuConfig = `
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
    allow: [127.0.0.0/8]
    default_tenant: menu
extensions:
  - number: "100"
    password: pw
tenants:
  - id: menu
    name: Centralino di prova
    numbers: ["+390211111111"]
    extensions: ["100"]
    rules:
      - name: menu
        do:
          - menu:
              prompt: {say: "Premete uno, due o cinque."}
              timeout: 6s
              retries: 1
              options:
                "1": [{play: {say: "Uno."}}, hangup]
                "2": [{play: {say: "Due."}}, hangup]
                "5": [{play: {say: "Cinque."}}, hangup]
                "42": [{play: {say: "Quarantadue."}}, hangup]
          - hangup
`

// A key reaches the right branch of a menu whether it comes as RFC 4733,
// as SIP INFO, or as tones in the audio of a trunk without telephone-event;
// a choice of two keys too.
func TestMenuKeys(t *testing.T) {
	e2e(t)
	p := startPBX(t, pbxOptions{Config: menuConfig})
	inband := filepath.Join(t.TempDir(), "key5.ulaw")
	// DTMF 5 is 770 + 1336 Hz: 120 ms of it at about -10 dBm0 per tone,
	// after 1 s of silence, then silence.
	sox := exec.Command("sox", "-n", "-r", "8000", "-c", "1", "-t", "raw", "-e", "mu-law", inband,
		"synth", "0.12", "sine", "770", "sine", "1336", "remix", "-", "gain", "-n", "-7", "pad", "1", "1")
	if out, err := sox.CombinedOutput(); err != nil {
		t.Fatalf("sox: %v: %s", err, out)
	}
	tests := []struct {
		name string
		data map[string]any
		key  string
	}{
		{"rfc4733", ivrData(map[string]any{"Mode": "rfc4733", "Key": "2", "DelayMs": 500, "WaitBye": true}), "2"},
		{"info", ivrData(map[string]any{"Mode": "info", "Key": "1", "DelayMs": 500, "WaitBye": true}), "1"},
		// Two keys make one choice: "4" alone is none, so the menu waits for the "2".
		{"info two keys", ivrData(map[string]any{"Mode": "info", "Key": "42", "DelayMs": 500, "WaitBye": true}), "42"},
		{"inband", ivrData(map[string]any{"Mode": "inband", "Formats": "0", "InbandFile": inband, "InbandPT": 0, "WaitBye": true}), "5"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustSipp(t, sippOpts{Scenario: "uac_ivr.xml", Data: tt.data, Target: p.SIP, Service: "+390211111111", Timeout: 30 * time.Second})
			c := lastCDR(t, p, i+1)
			if len(c.Steps) < 2 || c.Steps[0].Action != "menu" || c.Steps[0].Target != tt.key || c.Steps[1].Action != "play" {
				t.Errorf("CDR steps = %+v, want menu key %s then its play", c.Steps, tt.key)
			}
		})
	}
}

// loudSpan is the time from the first to the end of the last 20 ms frame
// louder than about -40 dBFS, and the RMS over that span.
func loudSpan(rate int, samples []int16) (start, span time.Duration, level float64) {
	frame := rate / 50
	first, last := -1, -1
	for i := 0; i+frame <= len(samples); i += frame {
		if rms(samples[i:i+frame]) > 300 {
			if first < 0 {
				first = i
			}
			last = i + frame
		}
	}
	if first < 0 {
		return 0, 0, 0
	}
	d := func(n int) time.Duration { return time.Duration(n) * time.Second / time.Duration(rate) }
	return d(first), d(last - first), rms(samples[first:last])
}

// baresip calls the demo from outside and records what it hears: the whole
// greeting and the beep arrive, as long and as loud as the source.
func TestBaresipHearsGreeting(t *testing.T) {
	e2e(t)
	p := startPBX(t, pbxOptions{})
	b := startBaresip(t, baresipOpts{Name: "caller", PBX: p, User: "0612345678", ToneHz: 440})
	b.dial(demoNumber)
	b.waitEvent("CALL_ESTABLISHED", 10*time.Second)
	time.Sleep(7 * time.Second) // the greeting and beep last under 6 s
	b.hangup()
	b.waitEvent("CALL_CLOSED", 10*time.Second)

	greetings, _ := filepath.Glob(filepath.Join(p.Data, "tts", "it-*.wav"))
	if len(greetings) == 0 {
		t.Fatal("no synthesised greeting in the data folder")
	}
	rate, heard := readWAVFile(t, recordingPath(t, b, "dec"))
	_, span, level := loudSpan(rate, heard)
	// The demo has a greeting for open, closed and holiday: the one played
	// is the one whose length (with the beep) is closest to what was heard.
	var want time.Duration
	var wantLevel float64
	for _, g := range greetings {
		r, s := readWAVFile(t, g)
		start, _, lvl := loudSpan(r, s)
		d := time.Duration(len(s))*time.Second/time.Duration(r) - start + 250*time.Millisecond // and the beep
		if want == 0 || (d-span).Abs() < (want-span).Abs() {
			want, wantLevel = d, lvl
		}
	}
	t.Logf("heard %.2f s of greeting and beep (source %.2f s), level %.0f (source greeting %.0f)", span.Seconds(), want.Seconds(), level, wantLevel)
	if d := span - want; d < -300*time.Millisecond || d > 300*time.Millisecond {
		t.Errorf("heard %.2f s of greeting and beep, want %.2f s ± 0.3 s", span.Seconds(), want.Seconds())
	}
	if level < wantLevel/2 {
		t.Errorf("greeting heard at RMS %.0f, the source is %.0f", level, wantLevel)
	}
}

var errNoWAV = errors.New("no WAV")

// readWAVFile reads a WAV from disk (baresip's recordings).
func readWAVFile(t *testing.T, path string) (int, []int16) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(fmt.Errorf("%w: %v", errNoWAV, err))
	}
	return wavPCM(t, data)
}

// recordingPath waits for baresip to finish writing a recording (its WAV
// header gets the sizes when the call's audio ends) and returns it.
func recordingPath(t *testing.T, b *baresip, kind string) string {
	t.Helper()
	path := b.recording(kind)
	eventually(t, 5*time.Second, "baresip's "+kind+" recording to be complete", func() bool {
		return soxStat(t, path).Seconds >= 5
	})
	return path
}
