package config

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	idRe     = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	extRe    = regexp.MustCompile(`^[0-9]{2,8}$`)
	e164Re   = regexp.MustCompile(`^\+[1-9][0-9]{5,14}$`)
	hexRe    = regexp.MustCompile(`^[0-9a-fA-F]*$`)
	hostRe   = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	headerRe = regexp.MustCompile("^[A-Za-z0-9.!%*_+`'~-]+$") // RFC 3261 token
)

// checker validates the main file's settings of a decoded Config, fills
// the defaults that depend on other settings, and records problems with
// their location. Tenants have checks of their own (tenant_check.go).
type checker struct {
	file string
	tree *tree
	env  map[string]string // path → variable that set it
	errs []*Error
}

// isSet reports whether the admin set path, in the file or the environment.
func (c *checker) isSet(path string) bool {
	_, env := c.env[path]
	return env || c.tree.present[path]
}

// locate finds what to blame for path: the variable that set it (or its
// list), else the line of the nearest key the file has.
func (c *checker) locate(path string) (file string, line, col int) {
	for p := path; p != ""; p = parentPath(p) {
		if name, ok := c.env[p]; ok {
			return name, 0, 0
		}
	}
	for p := path; p != ""; p = parentPath(p) {
		if pos, ok := c.tree.pos[p]; ok {
			return c.file, pos.line, pos.col
		}
	}
	return c.file, 0, 0
}

// where describes path's location for "already used at ..." messages.
func (c *checker) where(path string) string {
	file, line, _ := c.locate(path)
	if line > 0 {
		return fmt.Sprintf("line %d", line)
	}
	return file
}

// errorAt reports a problem with path, located at blame.
func (c *checker) errorAt(blame, path, format string, args ...any) {
	file, line, col := c.locate(blame)
	c.errs = append(c.errs, &Error{File: file, Line: line, Column: col, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (c *checker) errorf(path, format string, args ...any) {
	c.errorAt(path, path, format, args...)
}

// validate checks cfg, fills the defaults of list items and derived
// settings, and returns the lookup index.
func (c *checker) validate(cfg *Config) *index {
	sipListen, sipOK := c.sip(&cfg.SIP)
	c.rtp(&cfg.RTP, &cfg.SIP, sipListen, sipOK)
	httpListen, httpOK := c.http(&cfg.HTTP, sipListen, sipOK)
	if cfg.Data == "" {
		c.errorf("data", "must not be empty: it is the folder for the database and audio files")
	}
	if cfg.TenantsDir == "" {
		c.errorf("tenants_dir", "must not be empty: it is the folder of the tenant files (default %q)", defaultTenantsDirectory)
	}
	c.oneOf("log.level", &cfg.Log.Level, "debug", "info", "warn", "error")
	c.oneOf("log.format", &cfg.Log.Format, "text", "json")

	idx := &index{
		tenants:           map[string]int{},
		trunks:            map[string]int{},
		extensions:        map[string]int{},
		tenantOfExtension: map[string]int{},
		tenantOfNumber:    map[string]int{},
		operators:         map[string]int{},
		outbound:          -1,
	}
	for i := range cfg.Trunks {
		c.trunk(&cfg.Trunks[i], i, idx)
		if idx.outbound < 0 && cfg.Trunks[i].Host != "" {
			idx.outbound = i
		}
	}
	for i := range cfg.Extensions {
		c.extension(&cfg.Extensions[i], i, &cfg.SIP, idx)
	}
	c.features(&cfg.Features)
	for i := range cfg.Operators {
		c.operator(&cfg.Operators[i], i, idx)
	}
	c.console(cfg, httpListen, httpOK, sipListen, sipOK)
	return idx
}

// crossRefs checks and fills what depends on the tenants, once they are
// all known.
func (c *checker) crossRefs(cfg *Config, idx *index) {
	for i, t := range cfg.Trunks {
		if t.DefaultTenant == "" {
			continue
		}
		if _, ok := idx.tenants[t.DefaultTenant]; !ok {
			c.errorf(itemPath("trunks", i)+".default_tenant", "tenant %q is not defined (inline under tenants, or as %s.yaml in tenants_dir %s)", t.DefaultTenant, t.DefaultTenant, cfg.TenantsDir)
		}
	}
	for i := range cfg.Extensions {
		e := &cfg.Extensions[i]
		if e.CallerID != "" {
			continue
		}
		if ti, ok := idx.tenantOfExtension[e.Number]; ok && len(cfg.Tenants[ti].Numbers) > 0 {
			e.CallerID = cfg.Tenants[ti].Numbers[0]
		}
	}
	c.operatorTenants(cfg, idx)
}

// features checks the feature codes: each is dialled from a phone, so
// two features cannot share one.
func (c *checker) features(f *Features) {
	codes := []struct {
		path string
		code string
	}{
		{"features.available", f.Available},
		{"features.meeting", f.Meeting},
		{"features.away", f.Away},
		{"features.dnd", f.DND},
	}
	for i, x := range codes {
		if !featureRe.MatchString(x.code) {
			c.errorf(x.path, `%q must be * and 1 to 4 digits, like "*30" (in quotes: YAML reads *30 as an alias)`, x.code)
			continue
		}
		for _, y := range codes[:i] {
			if y.code == x.code {
				c.errorAt(c.blame(x.path, y.path), x.path, "%s is also the code of %s: each feature needs its own code", x.code, y.path)
				break
			}
		}
	}
}

// sip checks the SIP section and returns the parsed listen address.
func (c *checker) sip(s *SIP) (netip.AddrPort, bool) {
	listen, listenOK := c.listen("sip.listen", s.Listen, "192.168.1.10:5060", false)
	c.tls(s, listen, listenOK)
	switch {
	case s.PublicAddress == "":
		s.PublicAddress = s.Listen
	default:
		if err := checkHostPort(s.PublicAddress); err != nil {
			c.errorf("sip.public_address", "%v", err)
		}
	}
	c.text("sip.realm", s.Realm, true)
	if strings.ContainsAny(s.Realm, `"\`) {
		c.errorf("sip.realm", `must not contain " or \`)
	}
	c.text("sip.user_agent", s.UserAgent, true)
	s.AuthAlgorithms = c.algorithms("sip.auth_algorithms", s.AuthAlgorithms)
	c.atLeast("sip.nonce_ttl", s.NonceTTL, 10*time.Second)
	c.atLeast("sip.ring_timeout", s.RingTimeout, time.Second)
	minOK := c.expires("sip.min_expires", s.MinExpires, time.Second)
	defOK := c.expires("sip.default_expires", s.DefaultExpires, time.Second)
	maxOK := c.expires("sip.max_expires", s.MaxExpires, time.Second)
	// Blame the setting the admin wrote: a default cannot be the mistake.
	if minOK && defOK && s.DefaultExpires < s.MinExpires {
		if c.isSet("sip.default_expires") {
			c.errorf("sip.default_expires", "%s is less than sip.min_expires (%s)", fmtDuration(s.DefaultExpires), fmtDuration(s.MinExpires))
		} else {
			c.errorf("sip.min_expires", "%s is more than sip.default_expires (%s, the default): lower it or set default_expires", fmtDuration(s.MinExpires), fmtDuration(s.DefaultExpires))
		}
	}
	if defOK && maxOK && s.MaxExpires < s.DefaultExpires {
		if c.isSet("sip.max_expires") {
			c.errorf("sip.max_expires", "%s is less than sip.default_expires (%s)", fmtDuration(s.MaxExpires), fmtDuration(s.DefaultExpires))
		} else {
			c.errorf("sip.default_expires", "%s is more than sip.max_expires (%s, the default): lower it or set max_expires", fmtDuration(s.DefaultExpires), fmtDuration(s.MaxExpires))
		}
	}
	c.patterns("sip.outbound_deny", s.OutboundDeny)
	return listen, listenOK
}

// blame picks, among settings that clash, the first one the admin set: a
// default cannot be the mistake (and has no line to point at).
func (c *checker) blame(paths ...string) string {
	for _, p := range paths {
		if c.isSet(p) {
			return p
		}
	}
	return paths[0]
}

// listen checks an IP:port to listen on. anyAddr allows 0.0.0.0 and ::.
func (c *checker) listen(path, v, example string, anyAddr bool) (netip.AddrPort, bool) {
	if v == "" {
		c.errorf(path, "required: an IP:port like %q", example)
		return netip.AddrPort{}, false
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		c.errorf(path, "%q must be IP:port, like %q", v, example)
		return netip.AddrPort{}, false
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		c.errorf(path, "%q is not an IP address: use the machine's IP, like %q (host names are not allowed here)", host, example)
		return netip.AddrPort{}, false
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		c.errorf(path, "port %q must be a number from 1 to 65535", port)
		return netip.AddrPort{}, false
	}
	if !anyAddr && addr.IsUnspecified() {
		c.errorf(path, "%s listens on every address, which is not allowed: Centralino sends SIP from the address it listens on; use the machine's IP, like %q", v, example)
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(addr, uint16(n)), true
}

func (c *checker) tls(s *SIP, sipListen netip.AddrPort, sipOK bool) {
	keys := []struct{ path, val string }{
		{"sip.tls_listen", s.TLSListen},
		{"sip.tls_cert", s.TLSCert},
		{"sip.tls_key", s.TLSKey},
	}
	var set, missing []string
	for _, k := range keys {
		if k.val != "" {
			set = append(set, k.path)
		} else {
			missing = append(missing, k.path)
		}
	}
	if len(set) == 0 {
		return
	}
	if len(missing) > 0 {
		for _, m := range missing {
			c.errorAt(set[0], m, "required because %s is set: set all of tls_listen, tls_cert and tls_key, or none", set[0])
		}
		return
	}
	if ap, ok := c.listen("sip.tls_listen", s.TLSListen, "192.168.1.10:5061", true); ok && sipOK && sameTCPPort(ap, sipListen) {
		c.errorAt(c.blame("sip.tls_listen", "sip.listen"), "sip.tls_listen", "%s clashes with sip.listen (%s): SIP over TCP already uses that port", ap, sipListen)
	}
	certOK := c.fileExists("sip.tls_cert", s.TLSCert)
	keyOK := c.fileExists("sip.tls_key", s.TLSKey)
	if certOK && keyOK {
		if _, err := tls.LoadX509KeyPair(s.TLSCert, s.TLSKey); err != nil {
			c.errorf("sip.tls_cert", "cannot load the certificate with sip.tls_key: %v", err)
		}
	}
}

func (c *checker) fileExists(path, name string) bool {
	fi, err := os.Stat(name)
	switch {
	case err != nil:
		// The path is in the message already; keep only the reason.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		c.errorf(path, "cannot read %s: %v", name, err)
		return false
	case !fi.Mode().IsRegular():
		c.errorf(path, "%s is not a regular file", name)
		return false
	}
	return true
}

// sameTCPPort reports whether two listeners would fight over a port.
func sameTCPPort(a, b netip.AddrPort) bool {
	if a.Port() != b.Port() {
		return false
	}
	return a.Addr() == b.Addr() || a.Addr().IsUnspecified() || b.Addr().IsUnspecified()
}

func (c *checker) rtp(r *RTP, s *SIP, sipListen netip.AddrPort, sipOK bool) {
	lo, hi, err := parsePortRange(r.Ports)
	if err != nil {
		c.errorf("rtp.ports", "%v", err)
	} else {
		r.PortMin, r.PortMax = lo, hi
		if p := int(sipListen.Port()); sipOK && p >= lo && p <= hi {
			c.errorAt(c.blame("rtp.ports", "sip.listen"), "rtp.ports", "%s includes the SIP port %d (sip.listen)", r.Ports, p)
		}
	}
	switch {
	case r.PublicAddress != "":
		a, err := netip.ParseAddr(r.PublicAddress)
		switch {
		case err != nil:
			c.errorf("rtp.public_address", "%q must be an IP address (the one phones and the provider send audio to)", r.PublicAddress)
		case a.IsUnspecified():
			c.errorf("rtp.public_address", "%s is not an address phones can send audio to: use the machine's public IP", a)
		}
	default:
		r.PublicAddress = defaultRTPAddress(s)
	}
	c.atLeast("rtp.timeout", r.Timeout, time.Second)
}

// defaultRTPAddress is the SIP public address when it is an IP, else the SIP
// listen IP; "" when neither is usable (validation reports why).
func defaultRTPAddress(s *SIP) string {
	host := s.PublicAddress
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if a, err := netip.ParseAddr(host); err == nil && !a.IsUnspecified() {
		return a.String()
	}
	if ap, err := netip.ParseAddrPort(s.Listen); err == nil {
		return ap.Addr().String()
	}
	return ""
}

func parsePortRange(s string) (lo, hi int, err error) {
	a, b, ok := strings.Cut(s, "-")
	lo, errA := strconv.Atoi(strings.TrimSpace(a))
	hi, errB := strconv.Atoi(strings.TrimSpace(b))
	switch {
	case !ok || errA != nil || errB != nil:
		return 0, 0, fmt.Errorf(`%q must be a range MIN-MAX, like "20000-20999"`, s)
	case lo < 1024:
		return 0, 0, fmt.Errorf("%s: the lowest port must be at least 1024", s)
	case hi > 65535:
		return 0, 0, fmt.Errorf("%s: the highest port must be at most 65535", s)
	case lo >= hi:
		return 0, 0, fmt.Errorf("%s: the first port must be lower than the second", s)
	case hi-lo+1 < 4:
		return 0, 0, fmt.Errorf("%s: the range must hold at least 4 ports", s)
	}
	return lo, hi, nil
}

// http checks the HTTP section and returns the parsed listen address.
func (c *checker) http(h *HTTP, sipListen netip.AddrPort, sipOK bool) (netip.AddrPort, bool) {
	c.httpTLS(h)
	c.trustedProxies(h)
	ap, ok := c.listen("http.listen", h.Listen, "127.0.0.1:8080", true)
	if !ok {
		return ap, false
	}
	if sipOK && sameTCPPort(ap, sipListen) {
		c.errorAt(c.blame("http.listen", "sip.listen"), "http.listen", "%s clashes with sip.listen (%s): SIP over TCP already uses that port", ap, sipListen)
	}
	if !ap.Addr().IsLoopback() && h.Token == "" {
		c.errorAt("http.listen", "http.token", "the API is reachable from other hosts (http.listen is %s): set http.token", h.Listen)
	}
	return ap, true
}

// oneOf checks that *v is one of allowed (any case) and normalises it.
func (c *checker) oneOf(path string, v *string, allowed ...string) bool {
	return checkOneOf(c.errorf, path, v, allowed)
}

// checkOneOf is oneOf for both checkers (main file and tenant files),
// reporting through errorf.
func checkOneOf(errorf func(path, format string, args ...any), path string, v *string, allowed []string) bool {
	if l := strings.ToLower(*v); slices.Contains(allowed, l) {
		*v = l
		return true
	}
	if *v == "" {
		errorf(path, "required: one of %s", strings.Join(allowed, ", "))
	} else {
		errorf(path, "%q is not one of %s", *v, strings.Join(allowed, ", "))
	}
	return false
}

// algorithms checks and normalises a digest algorithm list.
func (c *checker) algorithms(path string, algs []string) []string {
	if len(algs) == 0 {
		c.errorf(path, "must list at least one of %s, %s", AlgMD5, AlgSHA256)
		return nil
	}
	out := make([]string, 0, len(algs))
	for i, a := range algs {
		ip := itemPath(path, i)
		var n string
		switch strings.ToUpper(a) {
		case AlgMD5:
			n = AlgMD5
		case AlgSHA256:
			n = AlgSHA256
		default:
			c.errorf(ip, "%q is not one of %s, %s", a, AlgMD5, AlgSHA256)
			continue
		}
		if slices.Contains(out, n) {
			c.errorf(ip, "%s is listed twice", n)
			continue
		}
		out = append(out, n)
	}
	return out
}

// fmtDuration prints 1h rather than time's 1h0m0s.
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func (c *checker) atLeast(path string, d, least time.Duration) bool {
	if d < least {
		c.errorf(path, "%s is too short: must be at least %s", fmtDuration(d), fmtDuration(least))
		return false
	}
	return true
}

// expires checks an Expires-like duration: SIP carries whole seconds.
func (c *checker) expires(path string, d, least time.Duration) bool {
	if !c.atLeast(path, d, least) {
		return false
	}
	if d%time.Second != 0 {
		c.errorf(path, "%s must be a whole number of seconds", fmtDuration(d))
		return false
	}
	return true
}

// patterns checks path.Match patterns for dialled numbers.
func (c *checker) patterns(p string, pats []string) {
	for i, pat := range pats {
		if msg := patternProblem(pat); msg != "" {
			c.errorf(itemPath(p, i), "%s", msg)
		}
	}
}

// patternProblem says what is wrong with a number pattern, "" if nothing.
func patternProblem(pat string) string {
	if pat == "" {
		return "empty pattern"
	}
	if _, err := path.Match(pat, ""); err != nil {
		return fmt.Sprintf("%q is not a valid pattern: use * for any digits, ? for one digit, [0-9] for a set", pat)
	}
	return ""
}

// text checks a value that ends up in SIP headers or logs: control
// characters (a CR LF above all) would let it forge a header. The value is
// not echoed: it may be a name the admin considers private.
func (c *checker) text(path, v string, required bool) {
	if v == "" {
		if required {
			c.errorf(path, "required")
		}
		return
	}
	if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		c.errorf(path, "must not contain control characters (line breaks, tabs, ...)")
	}
}

// checkHostPort accepts a host name or IP, optionally with a port.
func checkHostPort(s string) error {
	if s == "" {
		return fmt.Errorf("must not be empty")
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return nil // a bare IP, IPv6 included
	}
	host := s
	if strings.Contains(s, ":") {
		h, port, err := net.SplitHostPort(s)
		if err != nil {
			return fmt.Errorf("%q must be a host name or IP, optionally with :port", s)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: port must be a number from 1 to 65535", s)
		}
		host = h
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return nil
	}
	if !validHostname(host) {
		return fmt.Errorf("%q is not a valid host name or IP", s)
	}
	return nil
}

func validHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if !hostRe.MatchString(label) {
			return false
		}
	}
	return true
}

// hostOnly strips the port from a host[:port] that checkHostPort accepted.
func hostOnly(s string) string {
	if _, err := netip.ParseAddr(s); err == nil {
		return s
	}
	if h, _, err := net.SplitHostPort(s); err == nil {
		return h
	}
	return s
}
