package config

// Checks of the operator console's settings: HTTPS and proxies in front of
// it, the operators, and the console section.

import (
	"crypto/tls"
	"net/netip"
	"regexp"
	"slices"
)

// usernameRe: an operator's login name.
var usernameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// httpTLS checks http.tls_cert and http.tls_key: both or neither, and a
// pair that loads.
func (c *checker) httpTLS(h *HTTP) {
	switch {
	case h.TLSCert == "" && h.TLSKey == "":
		return
	case h.TLSKey == "":
		c.errorAt("http.tls_cert", "http.tls_key", "required because http.tls_cert is set: set both tls_cert and tls_key, or neither")
		return
	case h.TLSCert == "":
		c.errorAt("http.tls_key", "http.tls_cert", "required because http.tls_key is set: set both tls_cert and tls_key, or neither")
		return
	}
	certOK := c.fileExists("http.tls_cert", h.TLSCert)
	keyOK := c.fileExists("http.tls_key", h.TLSKey)
	if certOK && keyOK {
		if _, err := tls.LoadX509KeyPair(h.TLSCert, h.TLSKey); err != nil {
			c.errorf("http.tls_cert", "cannot load the certificate with http.tls_key: %v", err)
		}
	}
}

// trustedProxies parses http.trusted_proxies into ProxyPrefixes.
func (c *checker) trustedProxies(h *HTTP) {
	h.ProxyPrefixes = nil
	for i, s := range h.TrustedProxies {
		ip := itemPath("http.trusted_proxies", i)
		pr, err := parseAllow(s)
		switch {
		case err != nil:
			c.errorf(ip, "%v", err)
			continue
		case pr.Bits() == 0:
			c.errorf(ip, "%s trusts every address, so any client could forge X-Forwarded-For: list the proxies' own addresses", s)
			continue
		}
		if slices.Contains(h.ProxyPrefixes, pr) {
			c.errorf(ip, "%s is listed twice", pr)
			continue
		}
		h.ProxyPrefixes = append(h.ProxyPrefixes, pr)
	}
}

// operator checks operators[i] and indexes it by username. Its tenants
// are checked once the tenants are known (operatorTenants).
func (c *checker) operator(o *Operator, i int, idx *index) {
	p := itemPath("operators", i)
	switch {
	case o.Username == "":
		c.errorf(p+".username", "required")
	case len(o.Username) > maxUsernameLen || !usernameRe.MatchString(o.Username):
		c.errorf(p+".username", `%q must be lower-case letters, digits, ".", "-" or "_", starting with a letter or digit, at most %d characters`, o.Username, maxUsernameLen)
	default:
		if j, dup := idx.operators[o.Username]; dup {
			f := itemPath("operators", j) + ".username"
			c.errorf(p+".username", "%q is already used by %s (%s); operator usernames must be unique", o.Username, parentPath(f), c.where(f))
		} else {
			idx.operators[o.Username] = i
		}
	}
	c.text(p+".name", o.Name, false)
	if o.Name == "" {
		o.Name = o.Username
	}
	if len(o.Tenants) == 0 {
		c.errorf(p+".tenants", `required: the ids of the tenants this operator answers for, or ["*"] for all`)
	}
	for j, id := range o.Tenants {
		jp := itemPath(p+".tenants", j)
		switch {
		case id == AllTenants && len(o.Tenants) > 1:
			c.errorf(jp, `"*" already means every tenant: list it alone`)
		case id == AllTenants:
		case !idRe.MatchString(id):
			c.errorf(jp, `%q is not a tenant id: lower-case letters, digits, "-" or "_" (or "*" alone for every tenant)`, id)
		case slices.Index(o.Tenants, id) < j:
			c.errorf(jp, "%s is listed twice", id)
		}
	}
	if msg := passwordHashProblem(o.PasswordHash); msg != "" {
		c.errorf(p+".password_hash", "%s", msg)
	}
	if !c.isSet(p + ".language") {
		o.Language = defaultLanguage
	}
	c.oneOf(p+".language", &o.Language, "it", "en")
}

// operatorTenants checks, once the tenants are known, that operators name
// existing ones.
func (c *checker) operatorTenants(cfg *Config, idx *index) {
	for i, o := range cfg.Operators {
		for j, id := range o.Tenants {
			if id == AllTenants || !idRe.MatchString(id) {
				continue // "*", or reported already
			}
			if _, ok := idx.tenants[id]; !ok {
				c.errorf(itemPath(itemPath("operators", i)+".tenants", j), "tenant %q is not defined (inline under tenants, or as %s.yaml in tenants_dir %s)", id, id, cfg.TenantsDir)
			}
		}
	}
}

// defaultWebRTCListen is console.webrtc_listen when it is left out:
// http.listen's IP and port (for UDP). "" when http.listen is not a
// concrete IP:port.
func defaultWebRTCListen(httpListen string) string {
	ap, err := netip.ParseAddrPort(httpListen)
	if err != nil || ap.Addr().IsUnspecified() || ap.Port() == 0 {
		return ""
	}
	return ap.String()
}

// console checks the console section; its WebRTC address matters (and its
// clashes are checked) when there are operators or it is set.
func (c *checker) console(cfg *Config, httpListen netip.AddrPort, httpOK bool, sipListen netip.AddrPort, sipOK bool) {
	cn := &cfg.Console
	const path = "console.webrtc_listen"
	const example = "192.168.1.10:8080"
	used := len(cfg.Operators) > 0 || cn.WebRTCListen != ""
	derived := cn.WebRTCListen == ""
	if derived && httpOK {
		cn.WebRTCListen = defaultWebRTCListen(httpListen.String())
	}
	switch {
	case cn.WebRTCListen == "" && used && httpOK:
		c.errorAt(c.blame(path, "http.listen"), path, "required when http.listen (%s) listens on every address: the browsers' audio needs the machine's IP, like %q (UDP)", httpListen, example)
	case cn.WebRTCListen != "" && used:
		c.webrtcListen(cfg, derived, sipListen, sipOK)
	}
	seen := map[netip.Addr]bool{}
	for i, s := range cn.WebRTCAdvertise {
		ip := itemPath("console.webrtc_advertise", i)
		a, err := netip.ParseAddr(s)
		switch {
		case err != nil:
			c.errorf(ip, "%q is not an IP address: list the IPs browsers reach this server at (host names are not allowed here)", s)
		case a.IsUnspecified():
			c.errorf(ip, "%s is not an address browsers can send audio to: use the machine's public or LAN IP", a)
		case seen[a.Unmap()]:
			c.errorf(ip, "%s is listed twice", a)
		default:
			seen[a.Unmap()] = true
		}
	}
	c.atLeast("console.session_ttl", cn.SessionTTL, minSessionTTL)
	if cn.LoginFailures < 1 {
		c.errorf("console.login_failures", "%d must be at least 1", cn.LoginFailures)
	}
	c.atLeast("console.lockout", cn.Lockout, minLockout)
	q := &cn.Queue
	c.oneOf("console.queue.strategy", &q.Strategy, QueueRingAll, QueueLongestIdle)
	c.atLeast("console.queue.offer_timeout", q.OfferTimeout, minOfferTimeout)
	if q.MaxMisses < 0 {
		c.errorf("console.queue.max_misses", "%d must not be negative (0 = never pause an operator)", q.MaxMisses)
	}
	if q.WrapUp < 0 {
		c.errorf("console.queue.wrap_up", "%s must not be negative (0 = no wrap-up time)", fmtDuration(q.WrapUp))
	}
}

// webrtcListen checks console.webrtc_listen, as set or derived from
// http.listen, against the other UDP ports.
func (c *checker) webrtcListen(cfg *Config, derived bool, sipListen netip.AddrPort, sipOK bool) {
	const path = "console.webrtc_listen"
	v := cfg.Console.WebRTCListen
	ap, ok := c.listen(path, v, "192.168.1.10:8080", true)
	if !ok {
		return
	}
	if ap.Addr().IsUnspecified() {
		c.errorf(path, "%s listens on every address, which is not allowed: the browsers' audio is sent to the address in the ICE candidates; use the machine's IP, like %q, and webrtc_advertise for the public one", v, "192.168.1.10:8080")
		return
	}
	from := ""
	if derived {
		from = " (from http.listen: set console.webrtc_listen to use another port)"
	}
	if p := int(ap.Port()); cfg.RTP.PortMin > 0 && p >= cfg.RTP.PortMin && p <= cfg.RTP.PortMax {
		c.errorAt(c.blame(path, "rtp.ports", "http.listen"), path, "%s%s is inside rtp.ports (%s), which the calls' audio uses", v, from, cfg.RTP.Ports)
	}
	// Derived, it has http.listen's port, whose clash with sip.listen is
	// reported there.
	if sipOK && !derived && sameTCPPort(ap, sipListen) {
		c.errorAt(c.blame(path, "sip.listen", "http.listen"), path, "%s%s clashes with sip.listen (%s): SIP over UDP already uses that port", v, from, sipListen)
	}
}
