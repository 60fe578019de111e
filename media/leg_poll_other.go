//go:build !linux

package media

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
)

// Polling reads bare sockets with Linux's system calls; elsewhere every
// leg reads on its own goroutine and none of these is reached.
const pollSupported = false

var errNoPolling = errors.New("rtp polling is not supported on this system")

type rawSockaddr struct{}

func dupSocket(*net.UDPConn) (int, error) { return -1, errNoPolling }

func recvNoWait(int, []byte, *syscall.RawSockaddrAny) (int, netip.AddrPort, bool) {
	return 0, netip.AddrPort{}, false
}

func sendRaw(int, []byte, netip.AddrPort, bool, *rawSockaddr) (int, error) {
	return 0, errNoPolling
}

func closeRaw(int) error { return errNoPolling }
