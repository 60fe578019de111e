package media

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/centralino/centralino/media/dtmf"
	"github.com/zaf/g711"
)

const eventPT = 101

// ivrFixture is an answered leg with an IVR, a running scheduler, and the
// caller's phone (a plain UDP socket).
type ivrFixture struct {
	t     *testing.T
	sched *Scheduler
	leg   *Leg
	phone *phone
	ivr   *IVR
	ctx   context.Context

	seq  uint16 // the phone's next RTP sequence number
	ts   uint32 // and timestamp
	ssrc uint32
}

func newIVRFixture(t *testing.T, opts IVROptions) *ivrFixture {
	t.Helper()
	s := NewScheduler()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { s.Run(ctx); close(stopped) }()
	t.Cleanup(func() { cancel(); <-stopped })

	f := &ivrFixture{
		t: t, sched: s, ctx: ctx,
		leg:   newTestLeg(t, "127.0.0.1", nil),
		phone: newPhone(t, "127.0.0.1"),
		seq:   60000, ts: 1 << 31, ssrc: 0xca11e4,
	}
	f.leg.SetRemote(Remote{Addr: f.phone.addr, Codec: pcmu, EventPT: eventPT})
	f.ivr = NewIVR(f.leg, s, opts)
	t.Cleanup(f.ivr.Close)
	return f
}

// sendAudio sends one 20 ms frame of PCM as µ-law, as the next packet of
// the phone's stream.
func (f *ivrFixture) sendAudio(samples []int16) {
	f.sendAudioAs(f.seq, f.ts, samples)
	f.seq++
	f.ts += frameSamples
}

func (f *ivrFixture) sendAudioAs(seq uint16, ts uint32, samples []int16) {
	payload := make([]byte, len(samples))
	for i, s := range samples {
		payload[i] = g711.EncodeUlawFrame(s)
	}
	f.phone.send(f.leg.LocalAddr(), pkt(pcmu.PayloadType, seq, ts, f.ssrc, payload))
}

// sendKey sends every packet of an RFC 4733 event for key, as a phone
// does (updates, then the end packet three times), back to back.
func (f *ivrFixture) sendKey(key rune) {
	f.t.Helper()
	packets, err := dtmf.Encode(key, 100*time.Millisecond, 10)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, p := range packets {
		b := pkt(eventPT, f.seq, f.ts, f.ssrc, p.Payload[:])
		if p.Marker {
			b[1] |= 0x80
		}
		f.phone.send(f.leg.LocalAddr(), b)
		f.seq++
	}
	f.ts += uint32(len(packets)-2) * frameSamples
}

// recording reports whether a Record has installed its recorder.
func (f *ivrFixture) recording() bool {
	f.ivr.mu.Lock()
	defer f.ivr.mu.Unlock()
	return f.ivr.rec != nil
}

type playResult struct {
	key rune
	err error
}

func (f *ivrFixture) playAsync(ctx context.Context, bargeIn bool, prompts ...*Prompt) <-chan playResult {
	ch := make(chan playResult, 1)
	go func() {
		k, err := f.ivr.Play(ctx, bargeIn, prompts...)
		ch <- playResult{k, err}
	}()
	return ch
}

func waitPlay(t *testing.T, ch <-chan playResult) playResult {
	t.Helper()
	return waitResult(t, "Play", ch)
}

// waitResult returns what an IVR call running on its own goroutine sent
// on ch, or fails the test when it does not return in time.
func waitResult[R any](t *testing.T, what string, ch <-chan R) R {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(waitTimeout):
		t.Fatal(what + " did not return")
		var zero R
		return zero
	}
}

func TestIVRPlay(t *testing.T) {
	f := newIVRFixture(t, IVROptions{})
	a, b := countingPrompt(1600), countingPrompt(800) // 200 ms + 100 ms
	start := time.Now()
	ch := f.playAsync(f.ctx, false, a, nil, b)
	want := append(append([]byte(nil), a.Payload("PCMU")...), b.Payload("PCMU")...)
	var seq0 uint16
	var ts0 uint32
	for i := range 15 {
		p, _ := f.phone.recv()
		if i == 0 {
			seq0, ts0 = p.SequenceNumber, p.Timestamp
		} else if p.SequenceNumber != seq0+uint16(i) {
			t.Errorf("packet %d: sequence %d after %d", i, p.SequenceNumber, seq0)
		}
		// Each prompt starts a talkspurt; within one, timestamps run at 160
		// per packet.
		if p.Marker != (i == 0 || i == 10) {
			t.Errorf("packet %d: marker %v", i, p.Marker)
		}
		if i > 0 && i < 10 && p.Timestamp != ts0+uint32(i*frameSamples) {
			t.Errorf("packet %d: timestamp +%d", i, p.Timestamp-ts0)
		}
		if !bytesEqual(p.Payload, want[i*frameSamples:(i+1)*frameSamples]) {
			t.Errorf("packet %d: wrong audio", i)
		}
	}
	if r := waitPlay(t, ch); r.err != nil || r.key != 0 {
		t.Errorf("Play = %q, %v", r.key, r.err)
	}
	if d := time.Since(start); d < 280*time.Millisecond {
		t.Errorf("300 ms of prompts played in %v", d)
	}
}

// TestIVRBargeIn: an RFC 4733 key stops the prompt at once, Play returns
// it, and it stays for CollectDigits.
func TestIVRBargeIn(t *testing.T) {
	f := newIVRFixture(t, IVROptions{})
	ch := f.playAsync(f.ctx, true, countingPrompt(3*pcmRate))
	for range 5 {
		f.phone.recv()
	}
	f.sendKey('5')
	r := waitPlay(t, ch)
	if r.err != nil || r.key != '5' {
		t.Fatalf("Play = %q, %v; want '5'", r.key, r.err)
	}
	sent := f.leg.Stats().PacketsOut
	eventually(t, "playback removed", func() bool { return f.sched.Stats().Active == 0 })
	if more := f.leg.Stats().PacketsOut - sent; more > 1 {
		t.Errorf("%d frames sent after Play returned, want at most 1", more)
	}
	if sent > 5+5 {
		t.Errorf("%d frames sent in all: the key did not stop the prompt at once", sent)
	}
	sent = f.leg.Stats().PacketsOut
	digits, err := f.ivr.CollectDigits(f.ctx, 1, time.Second, 0, 0)
	if err != nil || digits != "5" {
		t.Errorf("CollectDigits = %q, %v; want the barge-in key", digits, err)
	}
	// A key typed ahead answers the next question without its prompt.
	f.ivr.InjectDigit('2')
	r = waitPlay(t, f.playAsync(f.ctx, true, countingPrompt(pcmRate)))
	if r.key != '2' || f.leg.Stats().PacketsOut != sent {
		t.Errorf("Play with a key waiting = %q, and played", r.key)
	}
	// Without barge-in, a key does not stop the prompt.
	f.ivr.ClearDigits()
	start := time.Now()
	ch = f.playAsync(f.ctx, false, countingPrompt(1600))
	f.phone.recv()
	f.ivr.InjectDigit('9')
	if r := waitPlay(t, ch); r.key != 0 || r.err != nil || time.Since(start) < 180*time.Millisecond {
		t.Errorf("Play without barge-in = %q, %v after %v", r.key, r.err, time.Since(start))
	}
}

func TestIVRPlayCancelAndClose(t *testing.T) {
	f := newIVRFixture(t, IVROptions{})
	ctx, cancel := context.WithCancel(f.ctx)
	ch := f.playAsync(ctx, false, countingPrompt(3*pcmRate))
	f.phone.recv()
	cancel()
	if r := waitPlay(t, ch); !errors.Is(r.err, context.Canceled) {
		t.Errorf("Play after cancel: %v", r.err)
	}

	ch = f.playAsync(f.ctx, false, countingPrompt(3*pcmRate), countingPrompt(pcmRate))
	f.phone.recv()
	f.ivr.Close()
	if r := waitPlay(t, ch); !errors.Is(r.err, ErrIVRClosed) {
		t.Errorf("Play after Close: %v", r.err)
	}
	if f.leg.handler.Load() != nil {
		t.Error("Close left the IVR installed")
	}
	f.ivr.Close() // idempotent
	if _, err := f.ivr.CollectDigits(f.ctx, 1, time.Second, 0, 0); !errors.Is(err, ErrIVRClosed) {
		t.Errorf("CollectDigits after Close: %v", err)
	}
	w, _ := CreateWAV(filepath.Join(t.TempDir(), "r.wav"))
	defer w.Close()
	if _, err := f.ivr.Record(f.ctx, w, "#", time.Second, 0); !errors.Is(err, ErrIVRClosed) {
		t.Errorf("Record after Close: %v", err)
	}
}

// TestIVRCloseKeepsOtherHandler: Close does not uninstall a handler that
// replaced the IVR (the call was bridged meanwhile).
func TestIVRCloseKeepsOtherHandler(t *testing.T) {
	f := newIVRFixture(t, IVROptions{})
	other := newTestLeg(t, "127.0.0.1", nil)
	unbridge := Bridge(f.leg, other)
	defer unbridge()
	f.ivr.Close()
	if f.leg.handler.Load() == nil {
		t.Error("Close uninstalled the bridge")
	}
}

func TestIVRCollectDigits(t *testing.T) {
	const long = 2 * time.Second
	tests := []struct {
		name       string
		keys       string // injected before CollectDigits
		max        int
		first, gap time.Duration
		term       rune
		want       string
		minTime    time.Duration // the timeout it must have waited for
	}{
		{"terminator", "123#4", 10, long, long, '#', "123", 0},
		{"max", "98765", 3, long, long, '#', "987", 0},
		{"terminator only", "#", 4, long, long, '#', "", 0},
		{"no terminator", "1#", 2, long, long, 0, "1#", 0},
		{"first timeout", "", 4, 100 * time.Millisecond, long, '#', "", 100 * time.Millisecond},
		{"inter-digit timeout", "42", 4, long, 100 * time.Millisecond, '#', "42", 100 * time.Millisecond},
		{"inter-digit defaults to first", "4", 4, 100 * time.Millisecond, 0, '#', "4", 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newIVRFixture(t, IVROptions{})
			for _, k := range tt.keys {
				f.ivr.InjectDigit(k)
			}
			start := time.Now()
			got, err := f.ivr.CollectDigits(f.ctx, tt.max, tt.first, tt.gap, tt.term)
			elapsed := time.Since(start)
			if err != nil || got != tt.want {
				t.Errorf("CollectDigits = %q, %v; want %q", got, err, tt.want)
			}
			if elapsed < tt.minTime || elapsed > tt.minTime+time.Second {
				t.Errorf("returned after %v, want %v", elapsed, tt.minTime)
			}
		})
	}
}

// TestIVRCollectDigitsRTP: keys from the phone as RFC 4733 events, each
// sent as a phone does (several packets, the end one three times), while
// CollectDigits waits.
func TestIVRCollectDigitsRTP(t *testing.T) {
	f := newIVRFixture(t, IVROptions{})
	type result struct {
		digits string
		err    error
	}
	ch := make(chan result, 1)
	go func() {
		d, err := f.ivr.CollectDigits(f.ctx, 10, waitTimeout, waitTimeout, '#')
		ch <- result{d, err}
	}()
	for _, k := range "0*9A#" {
		f.sendKey(k)
	}
	r := <-ch
	if r.err != nil || r.digits != "0*9A" {
		t.Errorf("CollectDigits = %q, %v; want \"0*9A\"", r.digits, r.err)
	}

	// Hung up: the keys so far, and the context's error.
	ctx, cancel := context.WithCancel(f.ctx)
	cancel()
	f.ivr.InjectDigit('3')
	if d, err := f.ivr.CollectDigits(ctx, 10, waitTimeout, waitTimeout, '#'); d != "3" || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled CollectDigits = %q, %v", d, err)
	}
}

// TestIVRInbandDTMF: keys as tones in the µ-law audio, for trunks without
// telephone-event.
func TestIVRInbandDTMF(t *testing.T) {
	f := newIVRFixture(t, IVROptions{InbandDTMF: true})
	f.leg.SetRemote(Remote{Addr: f.phone.addr, Codec: pcmu}) // no events
	low := map[rune]float64{'1': 697, '5': 770, '9': 852, '#': 941}
	high := map[rune]float64{'1': 1209, '5': 1336, '9': 1477, '#': 1477}
	n := 0
	for _, k := range "159#" {
		// 60 ms of tone (two tones at about -10 dBm0 each), 60 ms of silence.
		for range 3 {
			frame := make([]int16, frameSamples)
			for i := range frame {
				x := float64(n+i) / pcmRate
				frame[i] = int16(6000*math.Sin(2*math.Pi*low[k]*x) + 6000*math.Sin(2*math.Pi*high[k]*x))
			}
			n += frameSamples
			f.sendAudio(frame)
		}
		for range 3 {
			f.sendAudio(make([]int16, frameSamples))
		}
	}
	got, err := f.ivr.CollectDigits(f.ctx, 4, waitTimeout, waitTimeout, 0)
	if err != nil || got != "159#" {
		t.Errorf("CollectDigits = %q, %v; want \"159#\"", got, err)
	}
}

// toneFrame is 20 ms of a 1 kHz sine at amplitude amp, continuing from
// sample n.
func toneFrame(n int, amp float64) []int16 {
	f := make([]int16, frameSamples)
	for i := range f {
		f[i] = int16(amp * math.Sin(2*math.Pi*1000*float64(n+i)/pcmRate))
	}
	return f
}

type recordResult struct {
	res RecordResult
	err error
}

func (f *ivrFixture) recordAsync(ctx context.Context, w *WAVWriter, stopKeys string, maxLength, silence time.Duration) <-chan recordResult {
	ch := make(chan recordResult, 1)
	go func() {
		r, err := f.ivr.Record(ctx, w, stopKeys, maxLength, silence)
		ch <- recordResult{r, err}
	}()
	eventually(f.t, "recording started", f.recording)
	return ch
}

func waitRecord(t *testing.T, ch <-chan recordResult) recordResult {
	t.Helper()
	return waitResult(t, "Record", ch)
}

// TestIVRRecordKey records 50 packets sent out of order, with a duplicate
// and two lost, then '#'. The file has every frame in its place (told by
// its level) and silence for the lost ones.
func TestIVRRecordKey(t *testing.T) {
	f := newIVRFixture(t, IVROptions{})
	path := filepath.Join(t.TempDir(), "vm.wav")
	w, err := CreateWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	f.ivr.InjectDigit('#') // pressed during the greeting: must not stop the recording
	ch := f.recordAsync(f.ctx, w, "#", time.Minute, time.Minute)

	const frames = 50
	amp := func(k int) float64 { return 1000 + 500*float64(k) }
	lost := map[int]bool{10: true, 31: true}
	order := make([]int, 0, frames+1)
	for k := 0; k < frames; k += 4 {
		for _, j := range []int{k + 1, k, k + 3, k + 2} { // pairs swapped
			if j < frames && !lost[j] {
				order = append(order, j)
			}
		}
		if k == 20 {
			order = append(order, 19) // a duplicate, late
		}
	}
	for _, k := range order {
		f.sendAudioAs(f.seq+uint16(k), f.ts+uint32(k*frameSamples), toneFrame(k*frameSamples, amp(k)))
	}
	f.seq += frames
	f.ts += frames * frameSamples
	f.ivr.InjectDigit('7') // not a stop key: stays for later
	f.sendKey('#')

	r := waitRecord(t, ch)
	if r.err != nil || r.res.StoppedBy != StoppedByKey {
		t.Fatalf("Record = %+v, %v; want stopped by key", r.res, r.err)
	}
	if r.res.Duration != frames*schedInterval {
		t.Errorf("recorded %v, want %v", r.res.Duration, frames*schedInterval)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pcm := readPCM(t, path)
	if len(pcm) != frames*frameSamples {
		t.Fatalf("%d samples in the file, want %d", len(pcm), frames*frameSamples)
	}
	for k := range frames {
		frame := pcm[k*frameSamples : (k+1)*frameSamples]
		want := 20 * math.Log10(amp(k)/math.Sqrt2/32768)
		if lost[k] {
			if rmsDB(frame) > -90 {
				t.Errorf("lost frame %d is not silence: %.1f dBFS", k, rmsDB(frame))
			}
			continue
		}
		if got := rmsDB(frame); math.Abs(got-want) > 0.5 {
			t.Errorf("frame %d at %.1f dBFS, want %.1f: out of order?", k, got, want)
		}
	}
	if d, _ := f.ivr.CollectDigits(f.ctx, 5, 0, 0, 0); d != "7" {
		t.Errorf("keys after the recording: %q, want \"7\"", d)
	}
}

func TestIVRRecordMaxLength(t *testing.T) {
	f := newIVRFixture(t, IVROptions{})
	path := filepath.Join(t.TempDir(), "vm.wav")
	w, err := CreateWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ch := f.recordAsync(f.ctx, w, "#", 500*time.Millisecond, 0)
	for k := range 50 {
		f.sendAudio(toneFrame(k*frameSamples, 8000))
	}
	r := waitRecord(t, ch)
	if r.err != nil || r.res.StoppedBy != StoppedByMaxLength || r.res.Duration != 500*time.Millisecond {
		t.Errorf("Record = %+v, %v; want 500ms, stopped by max-length", r.res, r.err)
	}
	if got := len(readPCM(t, path)); got != 4000 {
		t.Errorf("%d samples in the file, want 4000", got)
	}

	// With no audio at all, the wall clock still ends it. (A new call: the
	// first one's phone may still be sending.)
	f = newIVRFixture(t, IVROptions{})
	w2, err := CreateWAV(filepath.Join(t.TempDir(), "vm2.wav"))
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Close()
	r = waitRecord(t, f.recordAsync(f.ctx, w2, "#", 200*time.Millisecond, 0))
	if r.err != nil || r.res.StoppedBy != StoppedByMaxLength || r.res.Duration != 0 {
		t.Errorf("Record without audio = %+v, %v", r.res, r.err)
	}
}

// TestIVRRecordSilence: speech, then silence sent in real time; the
// recording stops after silenceTimeout of it.
func TestIVRRecordSilence(t *testing.T) {
	f := newIVRFixture(t, IVROptions{})
	path := filepath.Join(t.TempDir(), "vm.wav")
	w, err := CreateWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	const timeout = 300 * time.Millisecond
	ch := f.recordAsync(f.ctx, w, "#", time.Minute, timeout)
	tick := time.NewTicker(schedInterval)
	defer tick.Stop()
	var r recordResult
	// 200 ms of tone, then quiet line noise (-50 dBFS) until it stops.
	for k := 0; ; k++ {
		amp := 8000.0
		if k >= 10 {
			amp = 100
		}
		f.sendAudio(toneFrame(k*frameSamples, amp))
		select {
		case r = <-ch:
		case <-tick.C:
			if k > 500 {
				t.Fatal("Record did not stop on silence")
			}
			continue
		}
		break
	}
	if r.err != nil || r.res.StoppedBy != StoppedBySilence {
		t.Fatalf("Record = %+v, %v; want stopped by silence", r.res, r.err)
	}
	if d := r.res.Duration; d < 200*time.Millisecond+timeout-100*time.Millisecond || d > 200*time.Millisecond+timeout+400*time.Millisecond {
		t.Fatalf("recorded %v, want about %v (leg %+v, phone %v)", d, 200*time.Millisecond+timeout, f.leg.Stats(), f.phone.addr)
	}
	pcm := readPCM(t, path)
	if got := rmsDB(pcm[:10*frameSamples]); math.Abs(got-(-15.3)) > 0.5 {
		t.Errorf("the speech was recorded at %.1f dBFS, want -15.3", got)
	}
}

func TestIVRRecordHangup(t *testing.T) {
	f := newIVRFixture(t, IVROptions{})
	path := filepath.Join(t.TempDir(), "vm.wav")
	w, err := CreateWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithCancel(f.ctx)
	ch := f.recordAsync(ctx, w, "#", time.Minute, 0)
	for k := range 20 {
		f.sendAudio(toneFrame(k*frameSamples, 8000))
	}
	eventually(t, "audio recorded", func() bool { return f.leg.Stats().PacketsIn == 20 })
	cancel()
	r := waitRecord(t, ch)
	if r.err != nil || r.res.StoppedBy != StoppedByHangup || r.res.Duration != 400*time.Millisecond {
		t.Errorf("Record = %+v, %v; want 400ms, stopped by hangup", r.res, r.err)
	}
	// Record flushed: the file is complete without Close.
	if got := len(readPCM(t, path)); got != 20*frameSamples {
		t.Errorf("%d samples on disk, want %d", got, 20*frameSamples)
	}
}

func TestIVRSendDigit(t *testing.T) {
	f := newIVRFixture(t, IVROptions{})
	if err := f.ivr.SendDigit(f.ctx, '8', 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	var ts uint32
	var seq uint16
	for i := range 7 { // 5 packets for 100 ms, the end one twice more
		p, _ := f.phone.recv()
		if p.PayloadType != eventPT || len(p.Payload) != 4 || p.Payload[0] != 8 {
			t.Fatalf("packet %d: payload type %d payload %x", i, p.PayloadType, p.Payload)
		}
		if i == 0 {
			ts, seq = p.Timestamp, p.SequenceNumber
		} else if p.Timestamp != ts || p.SequenceNumber != seq+uint16(i) {
			t.Errorf("packet %d: timestamp %d seq %d, want %d and %d", i, p.Timestamp, p.SequenceNumber, ts, seq+uint16(i))
		}
		if p.Marker != (i == 0) {
			t.Errorf("packet %d: marker %v", i, p.Marker)
		}
		if end := p.Payload[1]&0x80 != 0; end != (i >= 4) {
			t.Errorf("packet %d: end bit %v", i, end)
		}
	}
	f.leg.SetRemote(Remote{Addr: f.phone.addr, Codec: pcmu})
	if err := f.ivr.SendDigit(f.ctx, '8', 100*time.Millisecond); err == nil {
		t.Error("SendDigit without telephone-event succeeded")
	}
	f.leg.SetRemote(Remote{Addr: f.phone.addr, Codec: pcmu, EventPT: eventPT})
	if err := f.ivr.SendDigit(f.ctx, 'x', 100*time.Millisecond); err == nil {
		t.Error("SendDigit of an invalid key succeeded")
	}
}

// TestIVRHandlerDoesNotAllocate feeds the handler audio, being recorded
// and checked for in-band keys, and events.
func TestIVRHandlerDoesNotAllocate(t *testing.T) {
	f := newIVRFixture(t, IVROptions{InbandDTMF: true})
	w, err := CreateWAV(filepath.Join(t.TempDir(), "vm.wav"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	f.leg.SetHandler(nil) // the test feeds the IVR itself
	rec := &recording{w: w, stop: make(chan struct{})}
	rec.jb = NewJitterBuffer(recordJitterDepth, rec.emit)
	f.ivr.rec = rec
	audio := pkt(pcmu.PayloadType, 0, 0, 1, make([]byte, frameSamples))
	event := pkt(eventPT, 0, 0, 1, []byte{1, 10, 0, 160})
	var seq uint16
	if n := testing.AllocsPerRun(2000, func() {
		seq++
		audio[2], audio[3] = byte(seq>>8), byte(seq)
		ts := uint32(seq) * frameSamples
		audio[4], audio[5], audio[6], audio[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
		f.ivr.HandleRTP(f.leg, audio)
		f.ivr.HandleRTP(f.leg, event) // the same event again: ignored
	}); n != 0 {
		t.Errorf("%v allocations per packet, want 0", n)
	}
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }
