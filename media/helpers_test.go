package media

import (
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/zaf/g711"
)

var (
	pcmu = Codec{Name: "PCMU", PayloadType: 0, ClockRate: 8000}
	pcma = Codec{Name: "PCMA", PayloadType: 8, ClockRate: 8000}
)

// waitTimeout bounds every wait in these tests; nothing should come close.
const waitTimeout = 5 * time.Second

// fakeClock is a settable clock for legs and watchdogs.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// phone is a plain UDP socket standing in for a SIP phone's RTP stack.
type phone struct {
	t    testing.TB
	conn *net.UDPConn
	addr netip.AddrPort
	buf  []byte
}

func newPhone(t testing.TB, ip string) *phone {
	t.Helper()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), 0)))
	if err != nil {
		t.Fatalf("phone listen on %s: %v", ip, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &phone{t: t, conn: conn, addr: conn.LocalAddr().(*net.UDPAddr).AddrPort(), buf: make([]byte, 2048)}
}

func (p *phone) send(to netip.AddrPort, pkt []byte) {
	p.t.Helper()
	if _, err := p.conn.WriteToUDPAddrPort(pkt, to); err != nil {
		p.t.Fatalf("phone %s send to %s: %v", p.addr, to, err)
	}
}

// recv returns the next packet, failing the test if none comes in time.
func (p *phone) recv() (*rtp.Packet, netip.AddrPort) {
	p.t.Helper()
	if err := p.conn.SetReadDeadline(time.Now().Add(waitTimeout)); err != nil {
		p.t.Fatal(err)
	}
	n, from, err := p.conn.ReadFromUDPAddrPort(p.buf)
	if err != nil {
		p.t.Fatalf("phone %s: no packet: %v", p.addr, err)
	}
	var pkt rtp.Packet
	if err := pkt.Unmarshal(append([]byte(nil), p.buf[:n]...)); err != nil {
		p.t.Fatalf("phone %s: received a bad rtp packet: %v", p.addr, err)
	}
	return &pkt, from
}

// newTestLeg returns a started leg on ip, closed at the end of the test,
// reading the time from clock when it is not nil.
func newTestLeg(t testing.TB, ip string, clock *fakeClock) *Leg {
	t.Helper()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), 0)))
	if err != nil {
		t.Fatalf("leg listen on %s: %v", ip, err)
	}
	l := NewLeg(conn, nil)
	if clock != nil {
		l.now = clock.Now
	}
	l.Start()
	t.Cleanup(func() { l.Close() })
	return l
}

// pkt builds an RTP packet.
func pkt(pt uint8, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	b, err := (&rtp.Packet{
		Header:  rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc},
		Payload: payload,
	}).Marshal()
	if err != nil {
		panic(err)
	}
	return b
}

// frame returns a 160-byte payload filled with v.
func frame(v byte) []byte {
	b := make([]byte, samplesPerPacket)
	for i := range b {
		b[i] = v
	}
	return b
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond) // poll interval, not a wait for something to happen
	}
}

// canBind reports whether a UDP socket can be bound on ip.
func canBind(ip string) error {
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(ip), 0)))
	if err != nil {
		return err
	}
	return conn.Close()
}

func decodeAlaw(b byte) int { return int(g711.DecodeAlawFrame(b)) }
func decodeUlaw(b byte) int { return int(g711.DecodeUlawFrame(b)) }
