package media

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"syscall"
)

// PortAllocator hands out RTP sockets from a port range.
//
// It only uses even ports: peers send RTCP to the RTP port + 1 (RFC 3550
// §11), and if that odd port were another leg's RTP port its reader would
// receive a stranger's RTCP, or worse latch to it. The allocator keeps no
// list of ports in use: the kernel already knows, and binding is the only
// race-free way to ask, so a port busy for any reason (another leg, another
// program) is just skipped.
type PortAllocator struct {
	ip       netip.Addr
	network  string
	min, max int // even bounds, inclusive
}

// NewPortAllocator returns an allocator binding ip (which may be unspecified,
// 0.0.0.0 or ::) on the even ports of [min, max].
func NewPortAllocator(ip netip.Addr, min, max int) (*PortAllocator, error) {
	if !ip.IsValid() {
		return nil, errors.New("rtp ports: invalid ip")
	}
	if min < 1 || max > 65535 || min > max {
		return nil, fmt.Errorf("rtp ports %d-%d: want 1 <= min <= max <= 65535", min, max)
	}
	lo, hi := min+min%2, max-max%2
	if lo > hi {
		return nil, fmt.Errorf("rtp ports %d-%d: no even port in range", min, max)
	}
	network := "udp6"
	switch {
	case ip.Is4() || ip.Is4In6():
		ip, network = ip.Unmap(), "udp4"
	case ip.IsUnspecified():
		network = "udp" // "::" serves IPv4 peers too (dual stack)
	}
	return &PortAllocator{ip: ip, network: network, min: lo, max: hi}, nil
}

// Listen binds a UDP socket on a free even port of the range. It tries the
// ports in order from a random start, so that consecutive calls do not
// reuse a port whose last call's packets may still be in flight. It returns
// an error wrapping ErrNoPorts when every port is busy. It is safe for
// concurrent use.
func (a *PortAllocator) Listen() (*net.UDPConn, error) {
	n := (a.max-a.min)/2 + 1
	first := rand.IntN(n)
	for i := range n {
		port := a.min + 2*((first+i)%n)
		conn, err := net.ListenUDP(a.network, net.UDPAddrFromAddrPort(netip.AddrPortFrom(a.ip, uint16(port))))
		if err == nil {
			return conn, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, fmt.Errorf("rtp port %d: %w", port, err)
		}
	}
	return nil, fmt.Errorf("rtp ports %d-%d on %s: %w", a.min, a.max, a.ip, ErrNoPorts)
}
