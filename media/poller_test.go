package media

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingHandler counts packets and notices two HandleRTP at once, which
// would mean the leg's reader and a Poller both read the socket.
type countingHandler struct {
	n, inside, overlaps atomic.Int64
	mu                  sync.Mutex
	at                  []time.Time
	seqs                []uint16
}

func (h *countingHandler) HandleRTP(_ *Leg, pkt []byte) {
	if h.inside.Add(1) > 1 {
		h.overlaps.Add(1)
	}
	h.mu.Lock()
	h.at = append(h.at, time.Now())
	h.seqs = append(h.seqs, uint16(pkt[2])<<8|uint16(pkt[3]))
	h.mu.Unlock()
	h.n.Add(1)
	h.inside.Add(-1)
}

func startPoller(t *testing.T, interval time.Duration) (*Poller, context.CancelFunc) {
	t.Helper()
	p := NewPoller()
	p.interval = interval
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return p, cancel
}

// A polled leg's packets wait for the Poller's round (here driven by hand),
// so it is the Poller reading and not the leg's goroutine; unpoll hands
// the socket back, and across many hand-overs while a stream flows no
// packet is lost, handled twice, or handled by both at once.
func TestPollerReadsAndHandsBack(t *testing.T) {
	requirePolling(t)
	const ip = "127.0.0.1"
	manual, _ := startPoller(t, time.Hour)
	round := func() {
		manual.mu.Lock()
		defer manual.mu.Unlock()
		for _, l := range manual.legs {
			l.pollRound()
		}
	}
	ph := newPhone(t, ip)
	l := newTestLeg(t, ip, nil)
	h := &countingHandler{}
	l.SetHandler(h)
	seq := uint16(0)
	send := func() {
		seq++
		ph.send(l.LocalAddr(), pkt(8, seq, uint32(seq)*160, 0xabc, frame(0xd5)))
	}

	send()
	eventually(t, "the direct packet", func() bool { return h.n.Load() == 1 })

	l.poll(manual)
	eventually(t, "the hand-over to the poller", func() bool { return manual.Len() == 1 })
	for range 3 {
		send()
	}
	time.Sleep(50 * time.Millisecond) // the leg's own reader would have handled them by now
	if got := h.n.Load(); got != 1 {
		t.Fatalf("handled %d packets before the poller's round, want 1: the leg's goroutine still reads", got)
	}
	round()
	if got := h.n.Load(); got != 4 {
		t.Fatalf("handled %d packets after a round, want 4", got)
	}

	l.unpoll()
	if manual.Len() != 0 {
		t.Fatalf("poller still has %d legs after unpoll", manual.Len())
	}
	send()
	eventually(t, "the packet after unpoll, read by the leg", func() bool { return h.n.Load() == 5 })

	// Back and forth while a stream flows.
	stop := make(chan struct{})
	var sender sync.WaitGroup
	sent := atomic.Int64{}
	sender.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			send()
			sent.Add(1)
		}
	})
	p, _ := startPoller(t, 5*time.Millisecond)
	for range 20 {
		l.poll(p)
		time.Sleep(7 * time.Millisecond)
		l.unpoll()
		time.Sleep(3 * time.Millisecond)
	}
	close(stop)
	sender.Wait()
	want := 5 + sent.Load()
	eventually(t, "every packet of the stream", func() bool { return h.n.Load() == want })
	if n := h.overlaps.Load(); n != 0 {
		t.Errorf("%d packets handled while another was: reader and poller both read", n)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[uint16]bool{}
	for _, s := range h.seqs {
		if seen[s] {
			t.Errorf("packet %d handled twice", s)
		}
		seen[s] = true
	}
}

// A leg closed while polled leaves the poller, and its reader goroutine,
// parked meanwhile, exits; a Poller that stops gives its legs back.
func TestPollerCloseAndStop(t *testing.T) {
	requirePolling(t)
	const ip = "127.0.0.1"
	before := runtime.NumGoroutine()
	p, stopPoller := startPoller(t, 10*time.Millisecond)
	ph := newPhone(t, ip)

	closed := newTestLeg(t, ip, nil)
	closed.poll(p)
	kept := newTestLeg(t, ip, nil)
	h := &countingHandler{}
	kept.SetHandler(h)
	kept.poll(p)
	eventually(t, "both legs polled", func() bool { return p.Len() == 2 })
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	if p.Len() != 1 {
		t.Fatalf("poller has %d legs after a Close, want 1", p.Len())
	}

	stopPoller()
	eventually(t, "the poller to let go", func() bool { return p.Len() == 0 })
	ph.send(kept.LocalAddr(), pkt(8, 1, 160, 0xabc, frame(0xd5)))
	eventually(t, "a packet read by the leg again", func() bool { return h.n.Load() == 1 })
	kept.poll(p) // a stopped poller is not taken
	ph.send(kept.LocalAddr(), pkt(8, 2, 320, 0xabc, frame(0xd5)))
	eventually(t, "a packet after asking a stopped poller", func() bool { return h.n.Load() == 2 })

	kept.Close()
	// The phone's socket and the poller's goroutine end with the test.
	eventually(t, "reader goroutines to exit", func() bool { return runtime.NumGoroutine() <= before+1 })
}

// A polled packet costs no allocation: the raw read, the address and the
// handler's input are all in place.
func TestPollRoundAllocs(t *testing.T) {
	requirePolling(t)
	const ip = "127.0.0.1"
	p, _ := startPoller(t, time.Hour) // rounds driven by hand below
	ph := newPhone(t, ip)
	l := newTestLeg(t, ip, nil)
	h := &countingHandler{at: make([]time.Time, 0, 1000), seqs: make([]uint16, 0, 1000)}
	l.SetHandler(h)
	l.poll(p)
	eventually(t, "the hand-over", func() bool { return p.Len() == 1 })
	packet := pkt(8, 1, 160, 0xabc, frame(0xd5))
	allocs := testing.AllocsPerRun(200, func() {
		ph.send(l.LocalAddr(), packet)
		p.mu.Lock()
		l.pollRound()
		p.mu.Unlock()
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per polled packet, want 0", allocs)
	}
	// Loopback normally delivers before send returns; rounds pick up any
	// that did not.
	eventually(t, "every packet handled", func() bool {
		p.mu.Lock()
		l.pollRound()
		p.mu.Unlock()
		return h.n.Load() >= 201
	})
	if st := l.Stats(); st.Source != ph.addr {
		t.Errorf("latched to %v, want the phone %v", st.Source, ph.addr)
	}
}

func TestRawAddrPort(t *testing.T) {
	requirePolling(t)
	for _, ip := range []string{"127.0.0.1", "::1"} {
		if err := canBind(ip); err != nil {
			t.Logf("%s: %v", ip, err)
			continue
		}
		p, _ := startPoller(t, time.Hour)
		ph := newPhone(t, ip)
		l := newTestLeg(t, ip, nil)
		l.poll(p)
		eventually(t, "the hand-over", func() bool { return p.Len() == 1 })
		ph.send(l.LocalAddr(), pkt(8, 1, 160, 0xabc, frame(0xd5)))
		eventually(t, ip+": the packet", func() bool {
			p.mu.Lock()
			l.pollRound()
			p.mu.Unlock()
			return l.Stats().PacketsIn == 1
		})
		if got := l.Stats().Source; got != ph.addr || got == (netip.AddrPort{}) {
			t.Errorf("%s: source %v, want %v", ip, got, ph.addr)
		}
	}
}

// While polled the leg sends through its bare descriptor: the phone gets
// the packet from the leg's address, IPv4 and IPv6 alike; and neither the
// hand-overs nor a Close while polled leak a descriptor.
func TestPolledLegSendsAndKeepsNoDescriptor(t *testing.T) {
	requirePolling(t)
	fds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	p, _ := startPoller(t, 5*time.Millisecond)
	before := fds()
	for _, ip := range []string{"127.0.0.1", "::1"} {
		if err := canBind(ip); err != nil {
			t.Logf("%s: %v", ip, err)
			continue
		}
		ph := newPhone(t, ip)
		conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), 0)))
		if err != nil {
			t.Fatal(err)
		}
		l := NewLeg(conn, nil)
		l.Start()
		l.SetRemote(Remote{Addr: ph.addr, Codec: pcma})
		for i := range 3 {
			l.poll(p)
			eventually(t, fmt.Sprintf("%s: hand-over %d", ip, i), func() bool { return p.Len() == 1 })
			if err := l.WriteRTP(pkt(8, uint16(i), 160, 0xabc, frame(0xd5))); err != nil {
				t.Fatalf("%s: WriteRTP while polled: %v", ip, err)
			}
			got, from := ph.recv()
			if from != l.LocalAddr() || got.PayloadType != 8 {
				t.Fatalf("%s: phone got pt %d from %v, want pt 8 from %v", ip, got.PayloadType, from, l.LocalAddr())
			}
			if i < 2 {
				l.unpoll()
				if err := l.WriteRTP(pkt(8, uint16(i), 160, 0xabc, frame(0xd5))); err != nil {
					t.Fatalf("%s: WriteRTP after unpoll: %v", ip, err)
				}
				ph.recv()
			}
		}
		if err := l.Close(); err != nil { // while polled
			t.Fatalf("%s: Close while polled: %v", ip, err)
		}
		ph.conn.Close()
	}
	if after := fds(); after > before {
		t.Errorf("%d descriptors open after, %d before", after, before)
	}
}

// unpoll (an IVR closing) and Close of the same leg at once, while the
// Poller's rounds go on: Close must not close the descriptor while a round
// can still read it (the race detector sees it if it does).
func TestPollerUnpollRacesClose(t *testing.T) {
	requirePolling(t)
	p, _ := startPoller(t, 200*time.Microsecond)
	ph := newPhone(t, "127.0.0.1")
	for range 200 {
		l := newTestLeg(t, "127.0.0.1", nil)
		l.SetHandler(&countingHandler{})
		l.poll(p)
		eventually(t, "the hand-over", func() bool { return p.Len() == 1 })
		ph.send(l.LocalAddr(), pkt(8, 1, 160, 1, frame(0xd5)))
		var wg sync.WaitGroup
		wg.Go(l.unpoll)
		wg.Go(func() { l.Close() })
		wg.Wait()
		if n := p.Len(); n != 0 {
			t.Fatalf("poller still has %d legs after unpoll and Close", n)
		}
	}
}

// requirePolling skips where polling is not built (it reads bare sockets
// with Linux system calls; elsewhere every leg reads on its own goroutine
// and there is nothing to test). CI runs on Linux.
func requirePolling(t *testing.T) {
	t.Helper()
	if !pollSupported {
		t.Skip("polling is Linux-only; other systems read every leg on its own goroutine")
	}
}
