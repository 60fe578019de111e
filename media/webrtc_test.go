package media

import (
	"context"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/zaf/g711"
)

// browserPeer stands in for Chrome: a full ICE agent offering what Chrome
// offers for audio (PCMU, PCMA, telephone-event/8000 on PT 126), on
// loopback only.
type browserPeer struct {
	pc    *webrtc.PeerConnection
	track *webrtc.TrackLocalStaticRTP

	mu       sync.Mutex
	received []*rtp.Packet
	got      atomic.Int64
}

func newBrowserPeer(t testing.TB, mime string) *browserPeer {
	t.Helper()
	m := &webrtc.MediaEngine{}
	for _, c := range []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1}, PayloadType: 0},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMA, ClockRate: 8000, Channels: 1}, PayloadType: 8},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mimeTelephoneEvent, ClockRate: 8000, Channels: 1, SDPFmtpLine: "0-15"}, PayloadType: 126},
	} {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	}
	se := webrtc.SettingEngine{}
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	api := webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 8000}, "audio", "browser")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(track); err != nil {
		t.Fatal(err)
	}
	b := &browserPeer{pc: pc, track: track}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			p, _, err := tr.ReadRTP()
			if err != nil {
				return
			}
			b.got.Add(1)
			b.mu.Lock()
			if len(b.received) < 1000 {
				b.received = append(b.received, p)
			}
			b.mu.Unlock()
		}
	})
	return b
}

func (b *browserPeer) offer(t testing.TB) string {
	t.Helper()
	o, err := b.pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := webrtc.GatheringCompletePromise(b.pc)
	if err := b.pc.SetLocalDescription(o); err != nil {
		t.Fatal(err)
	}
	<-done
	return b.pc.LocalDescription().SDP
}

func (b *browserPeer) accept(t testing.TB, answer string) {
	t.Helper()
	if err := b.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		t.Fatal(err)
	}
}

func newTestWebRTC(t testing.TB) *WebRTC {
	t.Helper()
	w, err := NewWebRTC(WebRTCConfig{Listen: netip.MustParseAddrPort("127.0.0.1:0")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// connectBrowser answers a browser peer's offer and bridges the result to
// a SIP leg whose phone speaks sipCodec.
func connectBrowser(t testing.TB, w *WebRTC, sipCodec Codec) (*browserPeer, *WebRTCLeg, *Leg, *phone, string) {
	t.Helper()
	b := newBrowserPeer(t, "audio/"+sipCodec.Name)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	leg, answer, err := w.Answer(ctx, b.offer(t), sipCodec.Name, nil)
	if err != nil {
		t.Fatalf("Answer: %v", err)
	}
	t.Cleanup(func() { leg.Close() })
	b.accept(t, answer)
	select {
	case <-leg.Connected():
	case <-time.After(waitTimeout):
		t.Fatal("browser leg never connected")
	}
	sip := newTestLeg(t, "127.0.0.1", nil)
	ph := newPhone(t, "127.0.0.1")
	sip.SetRemote(Remote{Addr: ph.addr, Codec: sipCodec, EventPT: 101, Direction: SendRecv})
	return b, leg, sip, ph, answer
}

func TestWebRTCAnswerIsG711LiteOnOnePort(t *testing.T) {
	w := newTestWebRTC(t)
	b := newBrowserPeer(t, webrtc.MimeTypePCMA)
	leg, answer, err := w.Answer(context.Background(), b.offer(t), "PCMA", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer leg.Close()
	port := w.LocalAddr().Port()
	for _, want := range []string{"a=ice-lite", "m=audio 9 UDP/TLS/RTP/SAVPF 8 126", "a=rtpmap:8 PCMA/8000", "a=rtpmap:126 telephone-event/8000", " 127.0.0.1 " + itoa(port) + " typ host"} {
		if !strings.Contains(answer, want) {
			t.Errorf("answer lacks %q:\n%s", want, answer)
		}
	}
	if strings.Contains(answer, "opus") || strings.Contains(answer, ".local") {
		t.Errorf("answer offers opus or an mDNS candidate:\n%s", answer)
	}
	if w.Open() != 1 {
		t.Errorf("Open() = %d, want 1", w.Open())
	}
	leg.Close()
	if w.Open() != 0 {
		t.Errorf("after Close, Open() = %d, want 0", w.Open())
	}
}

func TestWebRTCRejectsOfferWithoutAudio(t *testing.T) {
	w := newTestWebRTC(t)
	for _, offer := range []string{"", "v=0\r\n", "garbage m=audio nonsense"} {
		if _, _, err := w.Answer(context.Background(), offer, "PCMU", nil); err == nil {
			t.Errorf("Answer(%q) succeeded", offer)
		}
	}
	if w.Open() != 0 {
		t.Errorf("failed answers left %d PeerConnections open", w.Open())
	}
}

// The browser is answered in the SIP leg's codec, so audio crosses both
// ways unchanged; a later bridge to a µ-law leg (a warm transfer's
// consultation) converts per byte; telephone-events keep their meaning.
func TestWebRTCBridgeBothWays(t *testing.T) {
	before := runtime.NumGoroutine()
	w := newTestWebRTC(t)
	b, leg, sip, ph, _ := connectBrowser(t, w, pcma)
	unbridge := BridgeWebRTC(sip, leg)

	alaw := frame(0x55)
	for i := range 20 {
		ph.send(sip.LocalAddr(), pkt(8, uint16(100+i), uint32(160*i), 0xabc, alaw))
		time.Sleep(2 * time.Millisecond) // pacing so that no socket buffer drops, not a wait
	}
	eventually(t, "browser receives the phone's audio", func() bool { return b.got.Load() >= 15 })
	b.mu.Lock()
	first := b.received[0]
	b.mu.Unlock()
	if first.PayloadType != 8 || first.Payload[0] != 0x55 {
		t.Errorf("browser got PT %d payload %#x, want PT 8 payload 0x55", first.PayloadType, first.Payload[0])
	}

	// Sequence numbers keep growing: SRTP's replay protection drops a
	// number it has seen.
	var seq uint16
	sendFromBrowser := func(v byte) {
		for range 5 {
			seq++
			if err := b.track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq, Timestamp: uint32(160) * uint32(seq)}, Payload: frame(v)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	sendFromBrowser(0x7a)
	got, _ := ph.recv()
	if got.PayloadType != 8 || got.Payload[0] != 0x7a {
		t.Errorf("phone got PT %d payload %#x, want PT 8 payload 0x7a", got.PayloadType, got.Payload[0])
	}

	// The operator now talks to a µ-law phone.
	sip2 := newTestLeg(t, "127.0.0.1", nil)
	ph2 := newPhone(t, "127.0.0.1")
	sip2.SetRemote(Remote{Addr: ph2.addr, Codec: pcmu, EventPT: 101, Direction: SendRecv})
	unbridge()
	unbridge = BridgeWebRTC(sip2, leg)
	sendFromBrowser(0x7a)
	got, _ = ph2.recv()
	if got.PayloadType != 0 || got.Payload[0] != g711.Alaw2UlawFrame(0x7a) {
		t.Errorf("µ-law phone got PT %d payload %#x, want PT 0 payload %#x", got.PayloadType, got.Payload[0], g711.Alaw2UlawFrame(0x7a))
	}
	ph, sip = ph2, sip2

	// A telephone-event from the phone reaches the browser on its PT 126.
	ev := []byte{5, 0x80 | 10, 0, 160}
	ph.send(sip.LocalAddr(), pkt(101, 200, 5000, 0xabc, ev))
	eventually(t, "the browser receives the event", func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, p := range b.received {
			if p.PayloadType == 126 && p.Payload[0] == 5 {
				return true
			}
		}
		return false
	})

	unbridge()
	leg.Close()
	b.pc.Close()
	if w.Open() != 0 {
		t.Errorf("Open() = %d after close", w.Open())
	}
	// pion's goroutines end shortly after Close.
	eventually(t, "goroutines back to the baseline", func() bool { return runtime.NumGoroutine() <= before+3 })
}

func itoa(n uint16) string {
	var b [6]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// BenchmarkWebRTCBridge measures the server's cost of one bridged
// SIP⇄WebRTC call direction pair: a packet in from the phone goes out
// SRTP-encrypted to the browser, and a packet from the browser goes out
// to the phone. Reported per packet pair; the browser side (the other
// peer in this process) is included in the CPU, so it is an upper bound.
func BenchmarkWebRTCBridge(b *testing.B) {
	w := newTestWebRTC(b)
	br, leg, sip, ph, _ := connectBrowser(b, w, pcmu)
	defer BridgeWebRTC(sip, leg)()
	payload := frame(0x55)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		ph.send(sip.LocalAddr(), pkt(0, uint16(i), uint32(160*i), 0xabc, payload))
		if err := br.track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(160 * i)}, Payload: payload}); err != nil {
			b.Fatal(err)
		}
		if _, _, err := ph.conn.ReadFromUDPAddrPort(ph.buf); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	// Sent back to back, some may be dropped by a full socket buffer; most
	// must arrive, or the benchmark measured nothing.
	eventually(b, "browser receives the phone's packets", func() bool { return br.got.Load() >= int64(b.N)/2 })
}

// Behind NAT the candidates name the advertised address, on the shared
// port, instead of the listen address.
func TestWebRTCAdvertisesConfiguredAddress(t *testing.T) {
	w, err := NewWebRTC(WebRTCConfig{Listen: netip.MustParseAddrPort("127.0.0.1:0"), Advertise: []netip.Addr{netip.MustParseAddr("203.0.113.7")}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	b := newBrowserPeer(t, webrtc.MimeTypePCMU)
	leg, answer, err := w.Answer(context.Background(), b.offer(t), "PCMU", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer leg.Close()
	if !strings.Contains(answer, " 203.0.113.7 "+itoa(w.LocalAddr().Port())+" typ host") || strings.Contains(answer, " 127.0.0.1 ") {
		t.Errorf("answer's candidates do not advertise 203.0.113.7 only:\n%s", answer)
	}
}

func TestNewWebRTCRefusesUnspecifiedAddress(t *testing.T) {
	if _, err := NewWebRTC(WebRTCConfig{Listen: netip.MustParseAddrPort("0.0.0.0:0")}); err == nil {
		t.Error("NewWebRTC accepted 0.0.0.0")
	}
}

// BenchmarkWebRTCCallsCPU runs 20 bridged SIP⇄WebRTC calls in real time
// (a packet each way every 20 ms per call) and reports the process's CPU
// per call as a percentage of one core. The browser peers run in this
// process too, so the figure is an upper bound for the PBX alone.
func BenchmarkWebRTCCallsCPU(b *testing.B) {
	const calls = 20
	w := newTestWebRTC(b)
	type pair struct {
		br  *browserPeer
		sip *Leg
		ph  *phone
	}
	var ps []pair
	for range calls {
		br, leg, sip, ph, _ := connectBrowser(b, w, pcmu)
		b.Cleanup(BridgeWebRTC(sip, leg))
		go func() { // the phone reads what the browser sends
			buf := make([]byte, 1500)
			for {
				if _, _, err := ph.conn.ReadFromUDPAddrPort(buf); err != nil {
					return
				}
			}
		}()
		ps = append(ps, pair{br, sip, ph})
	}
	payload := frame(0x55)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	cpu0, wall0 := processCPU(b), time.Now()
	b.ResetTimer()
	for i := range b.N {
		<-tick.C
		for _, p := range ps {
			p.ph.send(p.sip.LocalAddr(), pkt(0, uint16(i), uint32(160*i), 0xabc, payload))
			if err := p.br.track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: uint16(i), Timestamp: uint32(160 * i)}, Payload: payload}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	cpu, wall := processCPU(b)-cpu0, time.Since(wall0)
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds()/calls, "%cpu/call")
}
