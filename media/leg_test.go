package media

import (
	"bytes"
	"errors"
	"net/netip"
	"runtime"
	"sync"
	"testing"
)

// TestLatching checks symmetric RTP: the leg sends where packets come from,
// ignores other sources once latched, and unlatches when the peer moves.
func TestLatching(t *testing.T) {
	const ip = "127.0.0.1"
	clock := newFakeClock()
	sdp, a, b, c := newPhone(t, ip), newPhone(t, ip), newPhone(t, ip), newPhone(t, ip)
	la, lb := newTestLeg(t, ip, clock), newTestLeg(t, ip, clock)
	// The peer's SDP names one address but its packets come from another,
	// as with a phone behind NAT.
	la.SetRemote(Remote{Addr: sdp.addr, Codec: pcmu})
	lb.SetRemote(Remote{Addr: b.addr, Codec: pcmu})
	defer Bridge(la, lb)()

	fromB := func(v byte) { b.send(lb.LocalAddr(), pkt(0, uint16(v), uint32(v)*160, 0xb, frame(v))) }
	expect := func(p *phone, v byte, what string) {
		t.Helper()
		if got, _ := p.recv(); !bytes.Equal(got.Payload, frame(v)) {
			t.Fatalf("%s: phone %s got payload %#x, want %#x", what, p.addr, got.Payload[0], v)
		}
	}
	strays := func() uint64 {
		la.mu.Lock()
		defer la.mu.Unlock()
		return la.strays
	}

	fromB(1)
	expect(sdp, 1, "before latching, send to the SDP address")

	a.send(la.LocalAddr(), pkt(0, 1, 0, 0xa, frame(2)))
	expect(b, 2, "first packet from A is relayed")
	fromB(3)
	expect(a, 3, "after latching, send to A")
	if got := la.Stats().Source; got != a.addr {
		t.Errorf("Source = %s, want %s", got, a.addr)
	}

	// C is not the latched source: its packet is dropped, so the next
	// packet B gets is A's.
	c.send(la.LocalAddr(), pkt(0, 1, 0, 0xc, frame(4)))
	a.send(la.LocalAddr(), pkt(0, 2, 160, 0xa, frame(5)))
	expect(b, 5, "a stray packet from C is dropped")
	if got := strays(); got != 1 {
		t.Errorf("strays = %d, want 1", got)
	}

	// The peer moves to C (a re-INVITE). A's packets still in flight must
	// not latch again; C's do.
	la.SetRemote(Remote{Addr: c.addr, Codec: pcmu})
	a.send(la.LocalAddr(), pkt(0, 3, 320, 0xa, frame(6)))
	c.send(la.LocalAddr(), pkt(0, 2, 160, 0xc, frame(7)))
	expect(b, 7, "after SetRemote, the old source does not relatch")
	fromB(8)
	expect(c, 8, "after relatching, send to C")
	if got := strays(); got != 2 {
		t.Errorf("strays = %d, want 2", got)
	}

	// After the grace period the previous source may latch again: a peer
	// behind NAT can keep its source while its SDP address changes.
	la.SetRemote(Remote{Addr: sdp.addr, Codec: pcmu})
	clock.Advance(relatchGrace)
	c.send(la.LocalAddr(), pkt(0, 3, 320, 0xc, frame(9)))
	expect(b, 9, "after the grace period, the old source latches again")
	if got := la.Stats().Source; got != c.addr {
		t.Errorf("Source = %s, want %s", got, c.addr)
	}

	// An RFC 2543 hold and resume to the same address is not a move.
	la.SetRemote(Remote{Addr: netip.MustParseAddrPort("0.0.0.0:9"), Codec: pcmu})
	la.SetRemote(Remote{Addr: sdp.addr, Codec: pcmu})
	if got := la.Stats().Source; got != c.addr {
		t.Errorf("after hold and resume, Source = %s, want %s", got, c.addr)
	}

	// Learning the address for the first time does not unlatch.
	ld := newTestLeg(t, ip, clock)
	a.send(ld.LocalAddr(), pkt(0, 1, 0, 0xa, frame(1)))
	eventually(t, "leg D latches", func() bool { return ld.Stats().Source == a.addr })
	ld.SetRemote(Remote{Addr: sdp.addr, Codec: pcmu})
	if got := ld.Stats().Source; got != a.addr {
		t.Errorf("first SetRemote unlatched leg D: Source = %s, want %s", got, a.addr)
	}
}

// TestWriteRTPDirection checks when WriteRTP sends and when it drops.
func TestWriteRTPDirection(t *testing.T) {
	const ip = "127.0.0.1"
	peer := newPhone(t, ip)
	tests := []struct {
		name   string
		remote *Remote // nil: SetRemote never called
		sent   bool
	}{
		{"nothing negotiated", nil, false},
		{"no address yet", &Remote{Codec: pcmu}, false},
		{"sendrecv", &Remote{Addr: peer.addr, Codec: pcmu}, true},
		{"peer recvonly", &Remote{Addr: peer.addr, Codec: pcmu, Direction: RecvOnly}, true},
		{"peer sendonly (holds us)", &Remote{Addr: peer.addr, Codec: pcmu, Direction: SendOnly}, false},
		{"peer inactive", &Remote{Addr: peer.addr, Codec: pcmu, Direction: Inactive}, false},
		{"RFC 2543 hold address", &Remote{Addr: netip.MustParseAddrPort("0.0.0.0:4000"), Codec: pcmu}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newTestLeg(t, ip, nil)
			if tt.remote != nil {
				l.SetRemote(*tt.remote)
			}
			if err := l.WriteRTP(pkt(0, 1, 0, 0xa, frame(3))); err != nil {
				t.Fatalf("WriteRTP: %v", err)
			}
			if got := l.Stats().PacketsOut; got != map[bool]uint64{true: 1}[tt.sent] {
				t.Fatalf("PacketsOut = %d, want sent=%v", got, tt.sent)
			}
			if tt.sent {
				if got, _ := peer.recv(); !bytes.Equal(got.Payload, frame(3)) {
					t.Errorf("peer got payload %x", head(got.Payload))
				}
			}
		})
	}

	l := newTestLeg(t, ip, nil)
	l.SetRemote(Remote{Addr: peer.addr, Codec: pcmu})
	for _, bad := range [][]byte{nil, {0x80, 0}, frame(0x80)[:11], frame(0x40)[:12]} {
		if err := l.WriteRTP(bad); !errors.Is(err, errNotRTP) {
			t.Errorf("WriteRTP(% x) = %v, want errNotRTP", bad, err)
		}
	}
}

// TestLegLifecycle checks that Close is idempotent and leaves no goroutine.
func TestLegLifecycle(t *testing.T) {
	const ip = "127.0.0.1"
	before := runtime.NumGoroutine()

	a := newPhone(t, ip)
	alloc, err := NewPortAllocator(netip.MustParseAddr(ip), 30000, 60000)
	if err != nil {
		t.Fatal(err)
	}
	var legs []*Leg
	for range 4 {
		conn, err := alloc.Listen()
		if err != nil {
			t.Fatal(err)
		}
		legs = append(legs, NewLeg(conn, nil))
	}
	for _, l := range legs[:3] {
		l.Start()
		l.Start() // a second Start is a no-op
		l.SetRemote(Remote{Addr: a.addr, Codec: pcmu})
	}
	unbridge := Bridge(legs[0], legs[1])
	a.send(legs[0].LocalAddr(), pkt(0, 1, 0, 0xa, frame(1)))
	a.recv()
	unbridge()
	unbridge()

	// Concurrent and repeated Close calls; the last leg was never started.
	var wg sync.WaitGroup
	for _, l := range legs {
		for range 3 {
			wg.Go(func() {
				if err := l.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
		}
	}
	wg.Wait()
	legs[3].Start() // after Close: must not start a reader
	eventually(t, "reader goroutines to exit", func() bool { return runtime.NumGoroutine() <= before })
	if err := legs[0].WriteRTP(pkt(0, 2, 160, 0xa, frame(1))); err == nil {
		t.Error("WriteRTP on a closed leg succeeded")
	}
}
