package webauth

import (
	"net/http"
	"net/netip"
	"strings"
)

// ClientIP returns the address of the browser. X-Forwarded-For counts only
// when the peer is a trusted proxy: its entries are read from the right
// (the one the peer added) and the first address that is not itself a
// trusted proxy is the client; a malformed entry stops the walk at the
// last good one. The zero Addr means the peer's address could not be read.
func (m *Manager) ClientIP(r *http.Request) netip.Addr {
	peer := parseHost(r.RemoteAddr)
	if !m.isTrusted(peer) {
		return peer
	}
	var hops []string
	for _, v := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(v, ",")...)
	}
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a := parseHost(strings.TrimSpace(hops[i]))
		if !a.IsValid() {
			break
		}
		client = a
		if !m.isTrusted(a) {
			break
		}
	}
	return client
}

// IsHTTPS tells whether the browser reached us over HTTPS: directly, or
// through a trusted proxy that says so in X-Forwarded-Proto (its last
// value, the one the proxy itself set, counts).
func (m *Manager) IsHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if !m.isTrusted(parseHost(r.RemoteAddr)) {
		return false
	}
	vals := r.Header.Values("X-Forwarded-Proto")
	if len(vals) == 0 {
		return false
	}
	last := vals[len(vals)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	return strings.EqualFold(strings.TrimSpace(last), "https")
}

func (m *Manager) isTrusted(a netip.Addr) bool {
	return a.IsValid() && m.trusted(a)
}

// parseHost reads "ip", "ip:port" or "[ipv6]:port", IPv4-mapped IPv6
// addresses as IPv4.
func parseHost(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap()
	}
	return netip.Addr{}
}
