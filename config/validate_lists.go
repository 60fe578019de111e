package config

// Checks of the trunk, extension and tenant lists, which refer to each other.

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"
)

// calledSources are the valid Trunk.CalledNumber entries.
func calledSources() []string {
	return []string{CalledRequestURI, CalledTo, CalledDiversion, CalledHistoryInfo}
}

// managedHeader reports whether Centralino builds header h itself for each
// call leg; copying it from the other leg would break the dialog.
func managedHeader(h string) bool {
	switch strings.ToLower(h) {
	case "via", "from", "to", "call-id", "cseq", "contact", "max-forwards",
		"content-length", "content-type", "route", "record-route",
		"authorization", "proxy-authorization", "www-authenticate", "proxy-authenticate",
		"v", "f", "t", "i", "m", "l", "c": // compact forms
		return true
	}
	return false
}

func (c *checker) trunk(t *Trunk, i int, idx *index) {
	p := itemPath("trunks", i)
	if c.id(p+".name", t.Name, "trunk names", idx.trunks, func(j int) string { return itemPath("trunks", j) + ".name" }) {
		idx.trunks[t.Name] = i
	}
	modeOK := c.oneOf(p+".mode", &t.Mode, TrunkRegister, TrunkIP)
	if !c.isSet(p + ".transport") {
		t.Transport = defaultTransport
	}
	c.oneOf(p+".transport", &t.Transport, "udp", "tcp", "tls")
	hostOK := false
	if t.Host != "" {
		if err := checkHostPort(t.Host); err != nil {
			c.errorf(p+".host", "%v", err)
		} else {
			hostOK = true
		}
	}
	c.text(p+".username", t.Username, false)
	c.text(p+".auth_username", t.AuthUsername, false)
	if modeOK && t.Mode == TrunkRegister {
		for _, req := range []struct{ key, val string }{{"host", t.Host}, {"username", t.Username}, {"password", t.Password}} {
			if req.val == "" {
				c.errorf(p+"."+req.key, "required in register mode")
			}
		}
	}
	if modeOK && t.Mode == TrunkIP && len(t.Allow) == 0 {
		c.errorf(p+".allow", "required in ip mode: list the provider's addresses (CIDR like 192.0.2.0/24, or single IPs)")
	}
	t.AllowPrefixes = nil
	for j, a := range t.Allow {
		pr, err := parseAllow(a)
		if err != nil {
			c.errorf(itemPath(p+".allow", j), "%v", err)
			continue
		}
		t.AllowPrefixes = append(t.AllowPrefixes, pr)
	}
	if !c.isSet(p + ".expires") {
		t.Expires = defaultTrunkExpires
	}
	c.expires(p+".expires", t.Expires, 60*time.Second)
	if !c.isSet(p+".called_number") && modeOK {
		t.CalledNumber = defaultCalledNumber(t.Mode)
	}
	if c.isSet(p+".called_number") && len(t.CalledNumber) == 0 {
		c.errorf(p+".called_number", "must list at least one of %s", strings.Join(calledSources(), ", "))
	}
	for j := range t.CalledNumber {
		jp := itemPath(p+".called_number", j)
		// Four values at most once valid: a linear search is fine.
		if c.oneOf(jp, &t.CalledNumber[j], calledSources()...) && slices.Index(t.CalledNumber, t.CalledNumber[j]) < j {
			c.errorf(jp, "%s is listed twice", t.CalledNumber[j])
		}
	}
	if !c.isSet(p + ".dial_format") {
		t.DialFormat = defaultDialFormat
	}
	c.oneOf(p+".dial_format", &t.DialFormat, DialE164, DialNational, DialInternational)
	if !c.isSet(p + ".caller_id.header") {
		t.CallerID.Header = defaultCallerIDHeader
	}
	c.oneOf(p+".caller_id.header", &t.CallerID.Header, CallerIDFrom, CallerIDPAI, CallerIDPPI)
	c.text(p+".caller_id.from_user", t.CallerID.FromUser, false)
	for j, h := range t.CopyHeaders {
		jp := itemPath(p+".copy_headers", j)
		switch {
		case !headerRe.MatchString(h):
			c.errorf(jp, "%q is not a valid header name", h)
		case managedHeader(h):
			c.errorf(jp, "%s is managed by Centralino for each call leg and cannot be copied", h)
		}
	}
	if t.Domain != "" {
		if _, err := netip.ParseAddr(t.Domain); err != nil && !validHostname(t.Domain) {
			c.errorf(p+".domain", "%q is not a valid host name or IP (no port here)", t.Domain)
		}
	} else if hostOK {
		t.Domain = hostOnly(t.Host)
	}
	if t.AuthUsername == "" {
		t.AuthUsername = t.Username
	}
	if t.CallerID.FromUser == "" {
		t.CallerID.FromUser = t.Username
	}
}

// parseAllow parses a CIDR or a single IP.
func parseAllow(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a valid network: write a CIDR like 192.0.2.0/24, or a single IP", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or a CIDR like 192.0.2.0/24", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// id checks a name or number that must be unique among its peers; first
// finds the path of the earlier holder. It reports whether v may be indexed.
func (c *checker) id(p, v, what string, seen map[string]int, first func(int) string) bool {
	switch {
	case v == "":
		c.errorf(p, "required")
		return false
	case !idRe.MatchString(v):
		c.errorf(p, `%q must be lower-case letters, digits, "-" or "_", starting with a letter or digit`, v)
		return false
	}
	if j, dup := seen[v]; dup {
		f := first(j)
		c.errorf(p, "%q is already used by %s (%s); %s must be unique", v, parentPath(f), c.where(f), what)
		return false
	}
	return true
}

func (c *checker) extension(e *Extension, i int, s *SIP, idx *index) {
	p := itemPath("extensions", i)
	switch {
	case e.Number == "":
		c.errorf(p+".number", "required")
	case !extRe.MatchString(e.Number):
		c.errorf(p+".number", "%q must be 2 to 8 digits", e.Number)
	default:
		if j, dup := idx.extensions[e.Number]; dup {
			f := itemPath("extensions", j) + ".number"
			c.errorf(p+".number", "%q is already used by %s (%s); extension numbers must be unique", e.Number, parentPath(f), c.where(f))
		} else {
			idx.extensions[e.Number] = i
		}
	}
	c.text(p+".name", e.Name, false)

	// Credentials. Values are never echoed: they are secrets.
	hasPw, hasMD5, hasSHA := e.Password != "", e.HA1 != "", e.HA1SHA256 != ""
	switch {
	case !hasPw && !hasMD5 && !hasSHA:
		c.errorf(p, "no credentials: set password, or ha1 and/or ha1_sha256")
	case hasPw && (hasMD5 || hasSHA):
		blame := p + ".ha1"
		if !hasMD5 {
			blame = p + ".ha1_sha256"
		}
		c.errorAt(blame, p, "set either password or ha1/ha1_sha256, not both")
	}
	if hasMD5 {
		if len(e.HA1) != 32 || !hexRe.MatchString(e.HA1) {
			c.errorf(p+".ha1", "must be 32 hex digits (the MD5 of \"number:realm:password\")")
		}
		e.HA1 = strings.ToLower(e.HA1)
	}
	if hasSHA {
		if len(e.HA1SHA256) != 64 || !hexRe.MatchString(e.HA1SHA256) {
			c.errorf(p+".ha1_sha256", "must be 64 hex digits (the SHA-256 of \"number:realm:password\")")
		}
		e.HA1SHA256 = strings.ToLower(e.HA1SHA256)
	}
	c.authAlgorithms(e, p, s, hasPw, hasMD5, hasSHA)

	if !c.isSet(p + ".allow_outbound") {
		e.AllowOutbound = defaultAllowOutbound()
	}
	c.patterns(p+".allow_outbound", e.AllowOutbound)
	if e.CallerID != "" && !e164Re.MatchString(e.CallerID) {
		c.errorf(p+".caller_id", "%q must be an E.164 number like +390212345678", e.CallerID)
	}
	if !c.isSet(p + ".max_contacts") {
		e.MaxContacts = defaultMaxContacts
	}
	if e.MaxContacts < 1 || e.MaxContacts > 100 {
		c.errorf(p+".max_contacts", "%d must be from 1 to 100", e.MaxContacts)
	}
}

// authAlgorithms settles an extension's effective algorithms: its own list,
// or the SIP list narrowed to what its stored hashes can verify.
func (c *checker) authAlgorithms(e *Extension, p string, s *SIP, hasPw, hasMD5, hasSHA bool) {
	can := func(alg string) bool {
		return hasPw || (alg == AlgMD5 && hasMD5) || (alg == AlgSHA256 && hasSHA)
	}
	need := func(alg string) string {
		if alg == AlgMD5 {
			return "ha1"
		}
		return "ha1_sha256"
	}
	if !hasPw && !hasMD5 && !hasSHA {
		e.AuthAlgorithms = nil // already reported
		return
	}
	if c.isSet(p + ".auth_algorithms") {
		e.AuthAlgorithms = c.algorithms(p+".auth_algorithms", e.AuthAlgorithms)
		for j, alg := range e.AuthAlgorithms {
			if !can(alg) {
				c.errorf(itemPath(p+".auth_algorithms", j), "%s needs %s (or a password)", alg, need(alg))
			}
		}
		return
	}
	var eff []string
	for _, alg := range s.AuthAlgorithms {
		if can(alg) {
			eff = append(eff, alg)
		}
	}
	if len(eff) == 0 && !c.isSet("sip.auth_algorithms") && hasSHA {
		// Only a SHA-256 hash was given and the global list is the default:
		// the admin's intent is plain, use SHA-256 for this phone.
		eff = []string{AlgSHA256}
	}
	if len(eff) == 0 && len(s.AuthAlgorithms) > 0 {
		blame := p + ".ha1"
		if !hasMD5 {
			blame = p + ".ha1_sha256"
		}
		c.errorf(blame, "sip.auth_algorithms offers only %s, which needs %s (or a password): add it, or set auth_algorithms for this extension",
			strings.Join(s.AuthAlgorithms, ", "), need(s.AuthAlgorithms[0]))
	}
	e.AuthAlgorithms = eff
}
