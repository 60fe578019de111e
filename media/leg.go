package media

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const (
	// readBufferSize fits any RTP packet a phone sends (G.711 at 20 ms is
	// 172 bytes) with room for header extensions and longer packetisations.
	readBufferSize = 4096
	// maxReadErrors ends the reader after that many consecutive socket
	// errors, rather than spinning; the watchdog then ends the call.
	maxReadErrors = 50
	// relatchGrace is how long, after SetRemote moves a leg to a new peer,
	// packets from the previously latched source may not latch again. They
	// are the old peer's packets still in flight (a forked call's losing
	// branch, the phone a call was moved away from), and latching to them
	// would drop the new peer's audio for the rest of the call.
	relatchGrace = 500 * time.Millisecond
)

// Remote is what a leg knows about its peer from the peer's SDP.
type Remote struct {
	// Addr is where the peer asked to receive RTP; the zero value means not
	// known yet. Once a packet arrives, the leg sends to its source instead
	// (see Leg).
	Addr netip.AddrPort
	// Codec is the negotiated audio codec: what we send and expect.
	Codec Codec
	// EventPT is the peer's telephone-event payload type, 0 for none.
	EventPT uint8
	// Direction is the peer's own direction from its SDP: what it said it
	// does, not what we answered.
	Direction Direction
}

// Handler receives the packets arriving on a leg.
type Handler interface {
	// HandleRTP is called for every valid RTP packet from the peer, one at a
	// time: on the leg's reader goroutine, or on the Poller's while the leg
	// is polled. pkt belongs to the leg and is only valid until HandleRTP
	// returns; the handler may modify it in place (a bridge rewrites it and
	// sends it on). HandleRTP must not block and must not call from.Close.
	HandleRTP(from *Leg, pkt []byte)
}

// LegStats are a leg's counters.
type LegStats struct {
	// Packets and bytes (RTP headers included) accepted from the peer and
	// sent to it. Packets that are not RTP or come from a source other than
	// the latched one are not counted.
	PacketsIn, PacketsOut, BytesIn, BytesOut uint64
	// LastIn is when the last accepted packet arrived; zero if none did.
	LastIn time.Time
	// Source is the latched peer address; zero until the first packet.
	Source netip.AddrPort
}

// Leg is one call leg's RTP endpoint: a UDP socket, the reader goroutine
// that serves it, and the outgoing stream state.
//
// Legs do symmetric RTP, because a phone behind NAT advertises a private
// address in its SDP that we cannot reach: until the first valid packet
// arrives the leg sends to Remote.Addr; then it latches to that packet's
// source address and sends there, which is the NAT's public mapping. After
// latching, packets from other sources are dropped, so that a stray or
// spoofed stream cannot hijack the call. SetRemote with a different address
// unlatches.
type Leg struct {
	// The socket is a net.UDPConn read by the leg's goroutine, or, while a
	// Poller reads it, a bare descriptor outside the Go runtime's poller:
	// left in it, every packet would wake an idle thread in epoll_wait for
	// nothing, which costs about what the Poller saves.
	sockMu     sync.RWMutex // guards conn, rawFD, sockClosed; held to send
	conn       *net.UDPConn // nil while polled
	rawFD      int          // -1 unless polled
	sockClosed bool

	log   *slog.Logger
	local netip.AddrPort
	now   func() time.Time // time.Now; tests replace it

	remote  atomic.Pointer[Remote]
	handler atomic.Pointer[handlerRef]

	mu         sync.Mutex     // guards the latch fields below
	peerAddr   netip.AddrPort // the last real address SetRemote saw
	latched    bool
	source     netip.AddrPort
	prevSource netip.AddrPort // latched before the last SetRemote reset
	prevUntil  time.Time      // when prevSource may latch again
	strays     uint64         // packets dropped for their source

	wmu sync.Mutex // guards out; WriteRTP may come from several goroutines
	out outStream

	packetsIn, packetsOut, bytesIn, bytesOut atomic.Uint64
	lastIn                                   atomic.Int64 // unix nanoseconds

	// schedSlot is 1 + the Scheduler slot this leg's playbacks go out in
	// (0: none yet), so that one prompt follows another 20 ms apart.
	schedSlot atomic.Int32

	lifeMu  sync.Mutex // guards started, closed, pollWant, pollOn
	started bool
	closed  bool
	reader  sync.WaitGroup

	// Polling (see Poller): the reader goroutine hands the socket over to
	// the Poller asked for and parks until it is taken back, so that never
	// both read it.
	pollWant   *Poller       // asked for by poll, nil after unpoll
	pollAsked  atomic.Bool   // pollWant != nil, for the reader's fast path
	pollOn     *Poller       // reading the socket now
	pollResume chan struct{} // wakes the parked reader; capacity 1
	pollIndex  int           // in pollOn.legs, under pollOn.mu
	rbuf       []byte        // the reader's buffer, the Poller's while polled
	pollSA     syscall.RawSockaddrAny
	sendSA     rawSockaddr // under sockMu's read lock and wmu
}

// handlerRef boxes a Handler so it can sit in an atomic.Pointer, and gives
// Bridge an identity to compare-and-swap against.
type handlerRef struct{ h Handler }

// NewLeg wraps conn, which the leg owns from now on (Close closes it).
// A nil log discards.
func NewLeg(conn *net.UDPConn, log *slog.Logger) *Leg {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var local netip.AddrPort
	if a, ok := conn.LocalAddr().(*net.UDPAddr); ok {
		local = a.AddrPort()
	}
	return &Leg{
		conn:       conn,
		rawFD:      -1,
		log:        log.With("rtp_local", local.String()),
		local:      local,
		now:        time.Now,
		out:        newOutStream(rand.Uint32(), uint16(rand.Uint32()), rand.Uint32()),
		pollResume: make(chan struct{}, 1),
		pollIndex:  -1,
	}
}

// LocalAddr returns the address the leg's socket is bound to.
func (l *Leg) LocalAddr() netip.AddrPort { return l.local }

// Start starts the reader goroutine; it runs until Close. Further calls,
// and calls after Close, do nothing.
func (l *Leg) Start() {
	l.lifeMu.Lock()
	defer l.lifeMu.Unlock()
	if l.started || l.closed {
		return
	}
	l.started = true
	l.reader.Go(l.read)
}

// Close closes the socket and waits for the reader goroutine to exit. It is
// safe to call more than once and from several goroutines; only the first
// call reports an error. It must not be called from a Handler.
func (l *Leg) Close() error {
	l.lifeMu.Lock()
	first := !l.closed
	l.closed = true
	if l.pollOn != nil {
		l.pollOn.remove(l) // before the descriptor is closed below
	}
	l.setPollWant(nil)
	l.pollOn = nil
	l.lifeMu.Unlock()
	l.wakeReader()
	var err error
	if first {
		if cerr := l.closeSocket(); cerr != nil {
			err = fmt.Errorf("close rtp socket %s: %w", l.local, cerr)
		}
	}
	l.reader.Wait()
	return err
}

// SetRemote records what was negotiated with the peer. It is safe at any
// time, e.g. on a re-INVITE, and applies to the next packet. A new address
// unlatches the leg, since the peer moved; learning the address for the
// first time does not (the peer may have started sending before we saw its
// SDP, and it is the same peer), and neither does an RFC 2543 hold to
// 0.0.0.0 and back.
func (l *Leg) SetRemote(r Remote) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if a := r.Addr; a.IsValid() && !a.Addr().IsUnspecified() {
		if l.peerAddr.IsValid() && l.peerAddr != a && l.latched {
			if l.source != a {
				l.prevSource, l.prevUntil = l.source, l.now().Add(relatchGrace)
			}
			l.latched, l.source = false, netip.AddrPort{}
			l.log.Debug("rtp unlatched: peer moved", "old", l.peerAddr.String(), "new", a.String())
		}
		l.peerAddr = a
	}
	l.remote.Store(&r)
}

// Remote returns what SetRemote recorded last; the zero Remote before.
func (l *Leg) Remote() Remote {
	if r := l.remote.Load(); r != nil {
		return *r
	}
	return Remote{}
}

// SetHandler sets the handler that receives the leg's packets; nil reads and
// discards them (they still latch and count). It takes effect at once.
func (l *Leg) SetHandler(h Handler) {
	if h == nil {
		l.handler.Store(nil)
		return
	}
	l.handler.Store(&handlerRef{h: h})
}

// WriteRTP sends pkt, an RTP packet from any source, to the peer as part of
// the leg's own stream: it rewrites SSRC, sequence number and timestamp in
// place (see outStream). The packet is dropped without error while there is
// nowhere to send (no latched source and no Remote.Addr, or a null hold
// address) or while the peer said it does not receive (sendonly, inactive).
func (l *Leg) WriteRTP(pkt []byte) error { return l.writeRTPAt(pkt, l.now()) }

// writeRTPAt is WriteRTP for a packet whose audio belongs at instant at,
// which the Scheduler knows better than the clock: when a new source takes
// over the stream, its first timestamp is the last one moved on by the time
// between them (see outStream), and reckoned from send times a single late
// packet at the end of one prompt would shift the whole of the next by its
// lateness, for a receiver's jitter buffer a talkspurt of late packets.
func (l *Leg) writeRTPAt(pkt []byte, at time.Time) error {
	if _, _, ok := parseRTP(pkt); !ok {
		return errNotRTP
	}
	r := l.remote.Load()
	if r == nil || !r.Direction.Receives() || r.Addr.Addr().IsUnspecified() {
		return nil
	}
	l.mu.Lock()
	dst := r.Addr
	if l.latched {
		dst = l.source
	}
	l.mu.Unlock()
	if !dst.IsValid() {
		return nil
	}

	l.wmu.Lock()
	l.out.rewrite(pkt, at)
	l.wmu.Unlock()

	n, err := l.send(pkt, dst)
	if err != nil {
		return fmt.Errorf("send rtp to %s: %w", dst, err)
	}
	l.packetsOut.Add(1)
	l.bytesOut.Add(uint64(n))
	return nil
}

// Stats returns a snapshot of the leg's counters.
func (l *Leg) Stats() LegStats {
	s := LegStats{
		PacketsIn:  l.packetsIn.Load(),
		PacketsOut: l.packetsOut.Load(),
		BytesIn:    l.bytesIn.Load(),
		BytesOut:   l.bytesOut.Load(),
	}
	if ns := l.lastIn.Load(); ns != 0 {
		s.LastIn = time.Unix(0, ns)
	}
	l.mu.Lock()
	s.Source = l.source
	l.mu.Unlock()
	return s
}

// read is the reader goroutine: socket → deliver, or the socket handed
// over to a Poller while one is asked for.
func (l *Leg) read() {
	l.rbuf = make([]byte, readBufferSize)
	errs := 0
	for {
		if !l.handOver() {
			return
		}
		l.sockMu.RLock()
		conn := l.conn // only this goroutine changes it
		l.sockMu.RUnlock()
		if conn == nil {
			return // closed while polled
		}
		n, from, err := conn.ReadFromUDPAddrPort(l.rbuf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				// poll's nudge out of the read; handOver sees why, unless
				// unpoll came first. Cleared before handOver looks, so a
				// nudge after it is not lost.
				conn.SetReadDeadline(time.Time{})
				continue
			}
			if errs++; errs >= maxReadErrors {
				l.log.Error("rtp reader stopped", "err", err)
				return
			}
			continue
		}
		errs = 0
		l.deliver(l.rbuf[:n], from)
	}
}

// deliver takes one datagram from the socket: validate → latch → count →
// handler.
func (l *Leg) deliver(pkt []byte, from netip.AddrPort) {
	if _, _, ok := parseRTP(pkt); !ok {
		return // RTCP, STUN, garbage: nothing a relay can use
	}
	// A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; compare
	// and latch them as plain IPv4, as SDP writes them.
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	if !l.admit(from) {
		return
	}
	l.packetsIn.Add(1)
	l.bytesIn.Add(uint64(len(pkt)))
	l.lastIn.Store(l.now().UnixNano())
	if h := l.handler.Load(); h != nil {
		h.h.HandleRTP(l, pkt)
	}
}

// longAgo is a read deadline that has passed: it ends a read at once.
var longAgo = time.Unix(1, 0)

// poll asks for the leg's packets to be read by p rather than by the
// leg's own goroutine, from the reader's next read on. It does nothing on
// systems without polling, or after Close.
func (l *Leg) poll(p *Poller) {
	if !pollSupported || p == nil {
		return
	}
	if a := l.local.Addr(); a.Zone() != "" || a.IsLinkLocalUnicast() {
		// Link-local peers come with a zone the raw reads do not decode:
		// such a leg keeps its own reader.
		return
	}
	l.lifeMu.Lock()
	if l.closed || l.pollWant == p {
		l.lifeMu.Unlock()
		return
	}
	l.setPollWant(p)
	started := l.started
	l.lifeMu.Unlock()
	if started {
		l.sockMu.RLock()
		if l.conn != nil {
			l.conn.SetReadDeadline(longAgo)
		}
		l.sockMu.RUnlock()
	}
}

// unpoll gives the socket back to the leg's own goroutine. When it returns
// the Poller no longer reads the leg.
func (l *Leg) unpoll() {
	l.lifeMu.Lock()
	p := l.pollOn
	if p != nil {
		// Under lifeMu, so that a Close meanwhile cannot find the leg
		// unpolled and close its descriptor while a round still reads it.
		p.remove(l)
	}
	l.setPollWant(nil)
	l.pollOn = nil
	l.lifeMu.Unlock()
	if p != nil {
		l.wakeReader()
	}
}

// pollerGone is p's Run ending with the leg still on it.
func (l *Leg) pollerGone(p *Poller) {
	l.lifeMu.Lock()
	if l.pollOn == p {
		l.setPollWant(nil)
		l.pollOn = nil
	}
	l.lifeMu.Unlock()
	l.wakeReader()
}

// setPollWant sets pollWant and its flag; l.lifeMu must be held.
func (l *Leg) setPollWant(p *Poller) {
	l.pollWant = p
	l.pollAsked.Store(p != nil)
}

func (l *Leg) wakeReader() {
	select {
	case l.pollResume <- struct{}{}:
	default:
	}
}

// handOver runs on the reader goroutine before each read: if a Poller was
// asked for, it hands the socket over and parks until the socket comes
// back. It returns false once the leg is closed.
func (l *Leg) handOver() bool {
	// Around again after the socket comes back: poll may have been called
	// again while it was away, unable to nudge a read that was not there.
	for {
		if !l.pollAsked.Load() {
			return true // a closed socket ends the read that follows
		}
		l.lifeMu.Lock()
		if l.closed {
			l.lifeMu.Unlock()
			return false
		}
		p := l.pollWant
		if p == nil || l.pollOn != nil {
			l.lifeMu.Unlock()
			return true
		}
		if err := l.toRaw(); err != nil {
			l.log.Warn("rtp socket not handed to the poller", "err", err)
			l.setPollWant(nil)
			l.lifeMu.Unlock()
			return true
		}
		if !p.add(l) {
			l.setPollWant(nil) // the Poller is gone: read ourselves
			l.lifeMu.Unlock()
			return l.toConn()
		}
		l.pollOn = p
		// A wake-up left over from an earlier hand-over must not end this one.
		select {
		case <-l.pollResume:
		default:
		}
		l.lifeMu.Unlock()
		if !l.parked() {
			return false
		}
	}
}

// parked waits, on the reader goroutine, until the Poller gives the socket
// back (true, once it is a net.UDPConn again) or the leg is closed.
func (l *Leg) parked() bool {
	for {
		<-l.pollResume
		l.lifeMu.Lock()
		back, closed := l.pollOn == nil, l.closed
		l.lifeMu.Unlock()
		switch {
		case closed:
			return false
		case back:
			return l.toConn()
		}
	}
}

// toRaw takes the socket out of the Go runtime's poller for a Poller: a
// duplicate descriptor keeps it open while the net.UDPConn is closed.
// Runs on the reader goroutine, under lifeMu.
func (l *Leg) toRaw() error {
	l.sockMu.Lock()
	defer l.sockMu.Unlock()
	if l.sockClosed || l.conn == nil {
		return net.ErrClosed
	}
	fd, err := dupSocket(l.conn)
	if err != nil {
		return err
	}
	l.conn.Close()
	l.conn, l.rawFD = nil, fd
	return nil
}

// toConn gives the socket back to a net.UDPConn for the reader goroutine,
// and reports whether it could (false: the leg is closed, or it ran out
// of descriptors, and the reader ends; the media watchdog ends the call).
func (l *Leg) toConn() bool {
	l.sockMu.Lock()
	defer l.sockMu.Unlock()
	if l.sockClosed {
		return false
	}
	if l.rawFD < 0 {
		return true
	}
	f := os.NewFile(uintptr(l.rawFD), "rtp")
	c, err := net.FilePacketConn(f) // a duplicate, in the runtime's poller
	f.Close()
	l.rawFD = -1
	if err != nil {
		l.sockClosed = true
		l.log.Error("rtp reader stopped: socket not taken back from the poller", "err", err)
		return false
	}
	l.conn = c.(*net.UDPConn)
	return true
}

// closeSocket closes whichever form the socket is in.
func (l *Leg) closeSocket() error {
	l.sockMu.Lock()
	defer l.sockMu.Unlock()
	if l.sockClosed {
		return nil
	}
	l.sockClosed = true
	if l.conn != nil {
		return l.conn.Close()
	}
	fd := l.rawFD
	l.rawFD = -1
	return closeRaw(fd)
}

// send writes one datagram to dst through whichever form the socket is in.
func (l *Leg) send(pkt []byte, dst netip.AddrPort) (int, error) {
	l.sockMu.RLock()
	defer l.sockMu.RUnlock()
	switch {
	case l.conn != nil:
		return l.conn.WriteToUDPAddrPort(pkt, dst)
	case l.rawFD >= 0:
		l.wmu.Lock()
		defer l.wmu.Unlock()
		return sendRaw(l.rawFD, pkt, dst, l.local.Addr().Is4(), &l.sendSA)
	}
	return 0, net.ErrClosed
}

// pollRound is one Poller round for the leg: what arrived since the last.
// It runs on the Poller's goroutine, under its lock.
//
// rawFD needs no sockMu here: it is set before the leg is added to the
// Poller and closed or replaced only after it is removed, both under the
// Poller's lock; and a handler may send on this leg, which takes sockMu.
func (l *Leg) pollRound() {
	if l.rawFD < 0 {
		return
	}
	for range pollBurst {
		n, from, ok := recvNoWait(l.rawFD, l.rbuf, &l.pollSA)
		if !ok {
			return
		}
		l.deliver(l.rbuf[:n], from)
	}
}

// admit applies symmetric-RTP latching to a packet from from.
func (l *Leg) admit(from netip.AddrPort) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.latched {
		if from == l.source {
			return true
		}
		l.stray(from)
		return false
	}
	if from == l.prevSource && l.now().Before(l.prevUntil) {
		l.stray(from)
		return false
	}
	l.latched, l.source = true, from
	l.log.Debug("rtp latched", "source", from.String())
	return true
}

// stray counts a packet dropped for its source and logs the first one and
// then one in a thousand, so that a flood cannot flood the log too.
// l.mu must be held.
func (l *Leg) stray(from netip.AddrPort) {
	l.strays++
	if l.strays%1000 == 1 && l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.log.Debug("rtp from unexpected source dropped", "from", from.String(), "latched", l.source.String(), "dropped", l.strays)
	}
}
