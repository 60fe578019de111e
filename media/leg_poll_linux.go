package media

import (
	"encoding/binary"
	"net"
	"net/netip"
	"syscall"
	"unsafe"
)

const pollSupported = true

// rawSockaddr is room for a destination address, kept in the Leg so that
// sending through the bare descriptor does not allocate.
type rawSockaddr struct {
	in4 syscall.RawSockaddrInet4
	in6 syscall.RawSockaddrInet6
}

// dupSocket returns a close-on-exec duplicate of conn's descriptor (which
// shares its non-blocking mode).
func dupSocket(conn *net.UDPConn) (int, error) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	var errno syscall.Errno
	if err := rc.Control(func(s uintptr) {
		r, _, e := syscall.Syscall(syscall.SYS_FCNTL, s, syscall.F_DUPFD_CLOEXEC, 0)
		fd, errno = int(r), e
	}); err != nil {
		return -1, err
	}
	if errno != 0 {
		return -1, errno
	}
	return fd, nil
}

func closeRaw(fd int) error { return syscall.Close(fd) }

// recvNoWait reads one datagram into buf if one is waiting, with its source
// decoded without allocating (the syscall package's Recvfrom returns it as
// an allocated Sockaddr). ok is false when nothing is waiting, and on
// errors, which the next round tries again.
func recvNoWait(fd int, buf []byte, sa *syscall.RawSockaddrAny) (n int, from netip.AddrPort, ok bool) {
	for {
		alen := uint32(syscall.SizeofSockaddrAny)
		r, _, errno := syscall.RawSyscall6(syscall.SYS_RECVFROM, uintptr(fd),
			uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), syscall.MSG_DONTWAIT,
			uintptr(unsafe.Pointer(sa)), uintptr(unsafe.Pointer(&alen)))
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			return 0, netip.AddrPort{}, false
		}
		return int(r), rawAddrPort(sa), true
	}
}

// sendRaw sends pkt to dst on a socket of the family of its local address
// (an IPv6 socket takes IPv4 destinations as mapped addresses). A full
// send buffer drops the packet with EAGAIN rather than waiting: this is
// real-time audio.
func sendRaw(fd int, pkt []byte, dst netip.AddrPort, local4 bool, sa *rawSockaddr) (int, error) {
	var p unsafe.Pointer
	var size uintptr
	if local4 {
		if !dst.Addr().Unmap().Is4() {
			return 0, syscall.EAFNOSUPPORT
		}
		sa.in4 = syscall.RawSockaddrInet4{Family: syscall.AF_INET, Addr: dst.Addr().Unmap().As4()}
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.in4.Port))[:], dst.Port())
		p, size = unsafe.Pointer(&sa.in4), unsafe.Sizeof(sa.in4)
	} else {
		sa.in6 = syscall.RawSockaddrInet6{Family: syscall.AF_INET6, Addr: dst.Addr().As16()}
		binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&sa.in6.Port))[:], dst.Port())
		p, size = unsafe.Pointer(&sa.in6), unsafe.Sizeof(sa.in6)
	}
	if len(pkt) == 0 {
		return 0, nil
	}
	for {
		r, _, errno := syscall.RawSyscall6(syscall.SYS_SENDTO, uintptr(fd),
			uintptr(unsafe.Pointer(&pkt[0])), uintptr(len(pkt)), syscall.MSG_DONTWAIT,
			uintptr(p), size)
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			return 0, errno
		}
		return int(r), nil
	}
}

// rawAddrPort decodes an IPv4 or IPv6 socket address; the zero AddrPort
// for anything else.
func rawAddrPort(sa *syscall.RawSockaddrAny) netip.AddrPort {
	switch sa.Addr.Family {
	case syscall.AF_INET:
		in := (*syscall.RawSockaddrInet4)(unsafe.Pointer(sa))
		port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&in.Port))[:])
		return netip.AddrPortFrom(netip.AddrFrom4(in.Addr), port)
	case syscall.AF_INET6:
		in := (*syscall.RawSockaddrInet6)(unsafe.Pointer(sa))
		port := binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&in.Port))[:])
		return netip.AddrPortFrom(netip.AddrFrom16(in.Addr), port)
	}
	return netip.AddrPort{}
}
