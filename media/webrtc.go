package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"
)

// WebRTC answers browsers' offers with legs that carry G.711 only, so that
// an operator's audio crosses the PBX without transcoding (RFC 7874 makes
// PCMU and PCMA mandatory for browsers). Every PeerConnection shares one
// UDP port (ICE UDP mux) and the server is ICE-lite: the browser, a full
// agent, does the connectivity checks, and the firewall needs one rule.
type WebRTC struct {
	se   webrtc.SettingEngine
	conn *net.UDPConn
	log  *slog.Logger
	open atomic.Int64
}

// WebRTCConfig configures the shared endpoint.
type WebRTCConfig struct {
	// Listen is the UDP address for all WebRTC media; a concrete IP.
	Listen netip.AddrPort
	// Advertise replaces the listen IP in candidates (NAT, a LAN address).
	Advertise []netip.Addr
	Log       *slog.Logger
}

// Browser-side failures show within seconds: a closed laptop lid or a
// dropped Wi-Fi must not leave a caller talking to nobody for 30 s.
const (
	iceDisconnected = 4 * time.Second
	iceFailed       = 8 * time.Second
	iceKeepalive    = 2 * time.Second
)

// NewWebRTC opens the shared UDP port.
func NewWebRTC(cfg WebRTCConfig) (*WebRTC, error) {
	if !cfg.Listen.IsValid() || cfg.Listen.Addr().IsUnspecified() {
		return nil, fmt.Errorf("webrtc: listen address %s must be a concrete IP and port", cfg.Listen)
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(cfg.Listen))
	if err != nil {
		return nil, fmt.Errorf("webrtc: %w", err)
	}
	ip := cfg.Listen.Addr().Unmap()
	se := webrtc.SettingEngine{LoggerFactory: pionLogs{log}}
	se.SetLite(true)
	se.SetICEUDPMux(webrtc.NewICEUDPMux(pionLogs{log}.NewLogger("udpmux"), conn))
	if ip.Is4() {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	} else {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP6})
	}
	se.SetIncludeLoopbackCandidate(ip.IsLoopback())
	// Candidates name the listen address only, never another interface's.
	se.SetIPFilter(func(a net.IP) bool {
		got, ok := netip.AddrFromSlice(a)
		return ok && got.Unmap() == ip
	})
	// mDNS candidates would hide the address and multicast to 224.0.0.251.
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetICETimeouts(iceDisconnected, iceFailed, iceKeepalive)
	if len(cfg.Advertise) > 0 {
		ext := make([]string, len(cfg.Advertise))
		for i, a := range cfg.Advertise {
			ext[i] = a.String()
		}
		if err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External: ext, AsCandidateType: webrtc.ICECandidateTypeHost, Mode: webrtc.ICEAddressRewriteReplace,
		}); err != nil {
			conn.Close()
			return nil, fmt.Errorf("webrtc: advertise %v: %w", ext, err)
		}
	}
	return &WebRTC{se: se, conn: conn, log: log}, nil
}

// LocalAddr is the shared UDP port's address.
func (w *WebRTC) LocalAddr() netip.AddrPort {
	return w.conn.LocalAddr().(*net.UDPAddr).AddrPort()
}

// Open is the number of PeerConnections not yet closed.
func (w *WebRTC) Open() int { return int(w.open.Load()) }

// Close closes the shared port; legs still open fail.
func (w *WebRTC) Close() error { return w.conn.Close() }

const mimeTelephoneEvent = "audio/telephone-event"

// api builds a per-leg API whose media engine has one G.711 codec, prefer:
// pion's answer lists codecs in the browser's order, and the browser
// sends the answer's first, so offering only the SIP leg's codec is what
// makes the browser speak it and the bridge copy bytes unchanged. Every
// browser implements both (RFC 7874).
func (w *WebRTC) api(prefer string) (*webrtc.API, error) {
	g711 := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1}, PayloadType: 0}
	if prefer == "PCMA" {
		g711 = webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMA, ClockRate: 8000, Channels: 1}, PayloadType: 8}
	}
	codecs := []webrtc.RTPCodecParameters{g711, {
		RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mimeTelephoneEvent, ClockRate: 8000, Channels: 1, SDPFmtpLine: "0-16"}, PayloadType: 101,
	}}
	m := &webrtc.MediaEngine{}
	for _, c := range codecs {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, err
		}
	}
	// RTCP sender and receiver reports only: NACK and congestion control
	// mean nothing for 64 kbit/s G.711.
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		return nil, err
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(m), webrtc.WithSettingEngine(w.se), webrtc.WithInterceptorRegistry(ir)), nil
}

// ErrBadOffer is returned by Answer for an offer it cannot use.
var ErrBadOffer = errors.New("webrtc: unusable offer")

// Answer answers a browser's complete (non-trickle) offer with a new leg
// and returns the answer to send back, candidates included. prefer is the
// codec the leg should speak ("PCMU" or "PCMA"): the SIP leg's.
func (w *WebRTC) Answer(ctx context.Context, offer, prefer string, log *slog.Logger) (*WebRTCLeg, string, error) {
	if log == nil {
		log = w.log
	}
	if !strings.Contains(offer, "m=audio") {
		return nil, "", fmt.Errorf("%w: no audio", ErrBadOffer)
	}
	api, err := w.api(prefer)
	if err != nil {
		return nil, "", err
	}
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, "", fmt.Errorf("webrtc: %w", err)
	}
	w.open.Add(1)
	l := &WebRTCLeg{
		pc: pc, w: w, log: log,
		connected: make(chan struct{}), done: make(chan struct{}),
	}
	l.track = &rtcTrack{leg: l}
	fail := func(err error) (*WebRTCLeg, string, error) {
		l.Close()
		return nil, "", err
	}
	sender, err := pc.AddTrack(l.track)
	if err != nil {
		return fail(fmt.Errorf("webrtc: %w", err))
	}
	pc.OnConnectionStateChange(l.stateChanged)
	pc.OnTrack(l.onTrack)
	l.readers.Add(1)
	go l.drainRTCP(sender)
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		return fail(fmt.Errorf("%w: %v", ErrBadOffer, err))
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return fail(fmt.Errorf("%w: %v", ErrBadOffer, err))
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(answer); err != nil {
		return fail(fmt.Errorf("webrtc: %w", err))
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	return l, pc.LocalDescription().SDP, nil
}

// WebRTCLeg is one browser's PeerConnection, seen like a Leg: it has a
// Remote (the negotiated codec and event payload type), takes RTP from a
// bridge with WriteRTP, and passes what the browser sends to the leg it is
// bridged with.
type WebRTCLeg struct {
	w     *WebRTC
	pc    *webrtc.PeerConnection
	track *rtcTrack
	log   *slog.Logger

	remote atomic.Pointer[Remote]
	peer   atomic.Pointer[Leg] // where the browser's packets go; nil drops them

	wmu sync.Mutex
	out outStream

	connectOnce, doneOnce, closeOnce sync.Once
	connected, done                  chan struct{}

	// readers are the leg's goroutines; Close waits for them. pion may
	// deliver a track while Close runs: closed (under readersMu) stops a
	// reader from being added once Close started waiting.
	readersMu sync.Mutex
	closed    bool
	readers   sync.WaitGroup

	packetsIn, packetsOut, bytesIn, bytesOut atomic.Uint64
}

// Connected is closed once ICE and DTLS are up: audio can flow.
func (l *WebRTCLeg) Connected() <-chan struct{} { return l.connected }

// Done is closed when the connection failed or was closed.
func (l *WebRTCLeg) Done() <-chan struct{} { return l.done }

// Remote returns the codec and event payload type the browser negotiated;
// the zero Remote until the browser's track arrives.
func (l *WebRTCLeg) Remote() Remote {
	if r := l.remote.Load(); r != nil {
		return *r
	}
	return Remote{}
}

// Stats returns the leg's counters.
func (l *WebRTCLeg) Stats() LegStats {
	return LegStats{PacketsIn: l.packetsIn.Load(), PacketsOut: l.packetsOut.Load(), BytesIn: l.bytesIn.Load(), BytesOut: l.bytesOut.Load()}
}

func (l *WebRTCLeg) stateChanged(s webrtc.PeerConnectionState) {
	l.log.Debug("webrtc state", "state", s.String())
	switch s {
	case webrtc.PeerConnectionStateConnected:
		l.connectOnce.Do(func() { close(l.connected) })
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed, webrtc.PeerConnectionStateDisconnected:
		// Disconnected already means iceDisconnected without a packet:
		// the browser is gone (reload, closed tab, lost network).
		l.doneOnce.Do(func() { close(l.done) })
	}
}

// Close closes the PeerConnection and waits for the leg's goroutines.
func (l *WebRTCLeg) Close() error {
	var err error
	l.closeOnce.Do(func() {
		err = l.pc.Close()
		l.doneOnce.Do(func() { close(l.done) })
		l.readersMu.Lock()
		l.closed = true
		l.readersMu.Unlock()
		l.readers.Wait()
		l.w.open.Add(-1)
	})
	return err
}

func (l *WebRTCLeg) drainRTCP(s *webrtc.RTPSender) {
	defer l.readers.Done()
	buf := make([]byte, 1500)
	for {
		if _, _, err := s.Read(buf); err != nil {
			return
		}
	}
}

func (l *WebRTCLeg) onTrack(tr *webrtc.TrackRemote, rcv *webrtc.RTPReceiver) {
	// The payload types come from the receiver's parameters: the track's
	// Codec() follows the last packet and may name telephone-event.
	r, _ := remoteFromCodecs(rcv.GetParameters().Codecs)
	if r.Codec.Name == "" {
		l.log.Warn("webrtc: browser track without G.711", "codec", tr.Codec().MimeType)
		return
	}
	l.remote.CompareAndSwap(nil, &r)
	l.readersMu.Lock()
	defer l.readersMu.Unlock()
	if l.closed {
		return
	}
	l.readers.Add(1)
	go l.read(tr)
}

// read passes the browser's packets to the bridged leg. It owns buf: the
// relay rewrites the packet in place, as a Leg's reader allows.
func (l *WebRTCLeg) read(tr *webrtc.TrackRemote) {
	defer l.readers.Done()
	buf := make([]byte, 1500)
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		l.packetsIn.Add(1)
		l.bytesIn.Add(uint64(n))
		to := l.peer.Load()
		if to == nil {
			continue
		}
		forward(buf[:n], l.remote.Load(), to, l.log)
	}
}

// WriteRTP sends an RTP packet from any source to the browser as part of
// the leg's own stream (sequence, timestamp and SSRC rewritten in place,
// like Leg.WriteRTP). Packets are dropped until the connection is up.
func (l *WebRTCLeg) WriteRTP(pkt []byte) error {
	if _, _, ok := parseRTP(pkt); !ok {
		return errNotRTP
	}
	select {
	case <-l.connected:
	default:
		return nil
	}
	ws := l.track.writer()
	if ws == nil {
		return nil
	}
	l.wmu.Lock()
	l.out.rewrite(pkt, time.Now())
	l.wmu.Unlock()
	n, err := ws.Write(pkt)
	if err != nil {
		return fmt.Errorf("webrtc: %w", err)
	}
	l.packetsOut.Add(1)
	l.bytesOut.Add(uint64(n))
	return nil
}

func (l *WebRTCLeg) remoteDesc() *Remote { return l.remote.Load() }

// rtcTrack is the leg's outgoing track. pion's TrackLocalStaticRTP forces
// every packet to the codec's payload type, which would send
// telephone-events as audio: this track writes packets as they are, the
// bridge having already set the payload type the browser negotiated.
type rtcTrack struct {
	leg *WebRTCLeg
	mu  sync.Mutex
	ws  webrtc.TrackLocalWriter
}

func (t *rtcTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	r, first := remoteFromCodecs(ctx.CodecParameters())
	if r.Codec.Name == "" {
		return first, webrtc.ErrUnsupportedCodec
	}
	t.mu.Lock()
	t.ws = ctx.WriteStream()
	t.mu.Unlock()
	t.leg.wmu.Lock()
	t.leg.out = newOutStream(uint32(ctx.SSRC()), uint16(rand.Uint32()), rand.Uint32())
	t.leg.wmu.Unlock()
	// pion answers with the browser's own payload types, so what we send
	// with is also what the browser sends with.
	t.leg.remote.Store(&r)
	return first, nil
}

// remoteFromCodecs picks the G.711 codec and the telephone-event payload
// type out of negotiated parameters.
func remoteFromCodecs(cs []webrtc.RTPCodecParameters) (Remote, webrtc.RTPCodecParameters) {
	r := Remote{Direction: SendRecv}
	var first webrtc.RTPCodecParameters
	for _, c := range cs {
		switch m := strings.ToLower(c.MimeType); m {
		case "audio/pcmu", "audio/pcma":
			if r.Codec.Name == "" {
				r.Codec = Codec{Name: strings.ToUpper(strings.TrimPrefix(m, "audio/")), PayloadType: uint8(c.PayloadType), ClockRate: 8000}
				first = c
			}
		case mimeTelephoneEvent:
			r.EventPT = uint8(c.PayloadType)
		}
	}
	return r, first
}

func (t *rtcTrack) Unbind(webrtc.TrackLocalContext) error {
	t.mu.Lock()
	t.ws = nil
	t.mu.Unlock()
	return nil
}

func (t *rtcTrack) writer() webrtc.TrackLocalWriter {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ws
}

func (t *rtcTrack) ID() string                { return "audio" }
func (t *rtcTrack) RID() string               { return "" }
func (t *rtcTrack) StreamID() string          { return "centralino" }
func (t *rtcTrack) Kind() webrtc.RTPCodecType { return webrtc.RTPCodecTypeAudio }
func (t *rtcTrack) String() string            { return "centralino audio" }

// BridgeWebRTC relays packets between a SIP leg and a browser leg, like
// Bridge does between two SIP legs, until unbridge is called.
func BridgeWebRTC(a *Leg, w *WebRTCLeg) (unbridge func()) {
	ra := &handlerRef{h: relay{to: w, log: a.log}}
	a.handler.Store(ra)
	w.peer.Store(a)
	return func() {
		a.handler.CompareAndSwap(ra, nil)
		w.peer.CompareAndSwap(a, nil)
	}
}

// pionLogs sends pion's logs to slog at debug level: what matters to an
// admin (a browser that could not connect, a leg that failed) the PBX
// logs itself, and pion's own errors are mostly the shared socket closing.
type pionLogs struct{ log *slog.Logger }

func (f pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{f.log.With("pion", scope)}
}

type pionLogger struct{ log *slog.Logger }

func (p pionLogger) Trace(string)          {}
func (p pionLogger) Tracef(string, ...any) {}
func (p pionLogger) Debug(m string)        { p.log.Debug(m) }
func (p pionLogger) Debugf(f string, a ...any) {
	p.logf(f, a...)
}
func (p pionLogger) Info(m string)            { p.log.Debug(m) }
func (p pionLogger) Infof(f string, a ...any) { p.logf(f, a...) }
func (p pionLogger) Warn(m string)            { p.log.Debug(m) }
func (p pionLogger) Warnf(f string, a ...any) { p.logf(f, a...) }
func (p pionLogger) Error(m string)           { p.log.Debug(m) }
func (p pionLogger) Errorf(f string, a ...any) {
	p.logf(f, a...)
}

func (p pionLogger) logf(f string, a ...any) {
	if p.log.Enabled(context.Background(), slog.LevelDebug) {
		p.log.Debug(fmt.Sprintf(f, a...))
	}
}
