package media

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"testing"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// freeRange finds n consecutive ports, starting at an even one, that are
// free on the loopback right now.
func freeRange(t *testing.T, n int) int {
	t.Helper()
	for range 100 {
		base := 20000 + 2*rand.IntN(15000)
		var conns []*net.UDPConn
		for p := base; p < base+n; p++ {
			c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, uint16(p))))
			if err != nil {
				break
			}
			conns = append(conns, c)
		}
		for _, c := range conns {
			c.Close()
		}
		if len(conns) == n {
			return base
		}
	}
	t.Fatalf("no %d free consecutive ports", n)
	return 0
}

func port(c *net.UDPConn) int { return c.LocalAddr().(*net.UDPAddr).Port }

func TestPortAllocatorEvenPortsAndExhaustion(t *testing.T) {
	base := freeRange(t, 10)
	// Odd bounds: the usable ports are base+2 .. base+8.
	a, err := NewPortAllocator(loopback, base+1, base+9)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	var conns []*net.UDPConn
	for range 4 {
		c, err := a.Listen()
		if err != nil {
			t.Fatalf("Listen: %v", err)
		}
		defer c.Close()
		p := port(c)
		if p%2 != 0 || p < base+2 || p > base+8 || seen[p] {
			t.Errorf("got port %d, want a new even port in %d-%d", p, base+2, base+8)
		}
		seen[p] = true
		conns = append(conns, c)
	}
	if c, err := a.Listen(); !errors.Is(err, ErrNoPorts) {
		t.Fatalf("Listen on a full range = %v, %v; want ErrNoPorts", c, err)
	}
	freed := port(conns[2])
	conns[2].Close()
	c, err := a.Listen()
	if err != nil {
		t.Fatalf("Listen after a Close: %v", err)
	}
	defer c.Close()
	if port(c) != freed {
		t.Errorf("got port %d, want the freed %d", port(c), freed)
	}
}

func TestPortAllocatorSkipsBusyPorts(t *testing.T) {
	base := freeRange(t, 4)
	busy, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(loopback, uint16(base))))
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	a, err := NewPortAllocator(loopback, base, base+3)
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		c, err := a.Listen()
		if err != nil {
			t.Fatalf("Listen: %v", err)
		}
		if port(c) != base+2 {
			t.Errorf("got port %d, want %d (%d is busy)", port(c), base+2, base)
		}
		c.Close()
	}
}

func TestPortAllocatorConcurrent(t *testing.T) {
	const n = 32
	base := freeRange(t, 2*n)
	a, err := NewPortAllocator(loopback, base, base+2*n-1)
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		ports = map[int]bool{}
		fails int
	)
	for range n + 4 {
		wg.Go(func() {
			c, err := a.Listen()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if !errors.Is(err, ErrNoPorts) {
					t.Errorf("Listen: %v", err)
				}
				fails++
				return
			}
			t.Cleanup(func() { c.Close() })
			if ports[port(c)] {
				t.Errorf("port %d handed out twice", port(c))
			}
			ports[port(c)] = true
		})
	}
	wg.Wait()
	if len(ports) != n || fails != 4 {
		t.Errorf("%d sockets and %d ErrNoPorts, want %d and 4", len(ports), fails, n)
	}
}

func TestNewPortAllocator(t *testing.T) {
	tests := []struct {
		ip       netip.Addr
		min, max int
		ok       bool
		network  string
	}{
		{loopback, 10000, 20000, true, "udp4"},
		{netip.IPv4Unspecified(), 10000, 10000, true, "udp4"},
		{netip.IPv6Unspecified(), 10000, 10001, true, "udp"},
		{netip.MustParseAddr("::1"), 10000, 10001, true, "udp6"},
		{netip.MustParseAddr("::ffff:127.0.0.1"), 10000, 10001, true, "udp4"},
		{loopback, 10001, 10001, false, ""}, // no even port
		{loopback, 20000, 10000, false, ""},
		{loopback, 0, 10000, false, ""},
		{loopback, 10000, 70000, false, ""},
		{netip.Addr{}, 10000, 20000, false, ""},
	}
	for _, tt := range tests {
		a, err := NewPortAllocator(tt.ip, tt.min, tt.max)
		if (err == nil) != tt.ok || (tt.ok && a.network != tt.network) {
			t.Errorf("NewPortAllocator(%v, %d, %d) = %+v, %v; want ok=%v network %q", tt.ip, tt.min, tt.max, a, err, tt.ok, tt.network)
		}
	}
}
