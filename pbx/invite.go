package pbx

import (
	"net/netip"
	"net/url"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/centralino/centralino/config"
	"github.com/centralino/centralino/dialplan"
	"github.com/centralino/centralino/pbx/number"
	"github.com/centralino/centralino/pbx/sipauth"
)

// Call directions, as recorded in CDRs.
const (
	dirInbound  = "inbound"  // from a trunk
	dirOutbound = "outbound" // from an extension to a trunk
	dirInternal = "internal" // from an extension to extensions
)

// route is the decision of where a new call goes. It is made before any
// dialog exists so that a refused call costs nothing.
type route struct {
	direction  string
	tenant     *config.Tenant
	trunk      *config.Trunk     // inbound trunk, or the outbound one
	fromExt    *config.Extension // the calling extension, if any
	caller     string            // normalised calling number (or extension)
	callerName string
	called     string // normalised dialled number (or extension)
	// source is where the INVITE came from (a phone's own contacts there
	// are not rung).
	source netip.AddrPort
	// targets are what a plain call between extensions rings, or an
	// outbound call's trunk branch.
	targets []dialTarget
	// decision is the tenant's plan for this call (nil for calls between
	// extensions and outbound calls).
	decision *dialplan.Decision
	// feature is the status a feature code sets ("" for a normal call).
	feature string
}

// dialTarget is one branch to ring.
type dialTarget struct {
	label     string // for logs and CDR: the extension number, or "trunk:<name>"
	ruri      sip.Uri
	dest      string // where to send ("" = resolve the Request-URI)
	transport string
	trunk     *config.Trunk // when the branch goes through a trunk
}

// rejection is a final answer for a call that cannot be routed.
type rejection struct {
	code   int
	reason string
}

// onInvite handles every INVITE: in-dialog ones are re-INVITEs; new ones
// are authenticated, routed, and then become a call, whose goroutine this
// handler stays for the whole call (sipgo ends the transaction when the
// handler returns).
func (s *Server) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		s.onReInvite(req, tx)
		return
	}
	if req.From() == nil || req.To() == nil || req.CallID() == nil || req.CSeq() == nil {
		respond(tx, req, sip.StatusBadRequest, "Missing Mandatory Header", nil)
		return
	}
	if req.Contact() == nil {
		respond(tx, req, sip.StatusBadRequest, "Missing Contact", nil)
		return
	}
	if mf := req.MaxForwards(); mf != nil && *mf == 0 {
		respond(tx, req, sip.StatusTooManyHops, "Too Many Hops", nil)
		return
	}
	snap := s.snap.Load()
	cfg := snap.cfg
	rt, rej := s.route(snap, req, tx)
	if rt == nil {
		if rej != nil {
			s.metrics.callsTotal.WithLabelValues("rejected").Inc()
			respond(tx, req, rej.code, rej.reason, nil)
		}
		return
	}
	c := newCall(s, cfg, req, rt)
	c.run(req, tx)
}

// route authenticates the caller and decides the targets. A nil route with
// a nil rejection means a response (a challenge) was already sent.
func (s *Server) route(snap *snapshot, req *sip.Request, tx sip.ServerTransaction) (*route, *rejection) {
	cfg := snap.cfg
	src, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return nil, &rejection{sip.StatusBadRequest, "Bad Source"}
	}
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())

	// A registered phone is recognised by its source before any trunk ACL:
	// phones and an IP trunk may share a network (the demo trunk accepts
	// all of 127.0.0.0/8).
	_, fromPhone := s.registrar.loc.aorAt(src)
	hasCreds := req.GetHeader("Proxy-Authorization") != nil || req.GetHeader("Authorization") != nil
	var rt *route
	var rej *rejection
	if !fromPhone && !hasCreds {
		if t := s.trunks.match(cfg, src.Addr()); t != nil {
			rt, rej = s.routeFromTrunk(cfg, req, t)
		}
	}
	if rt == nil && rej == nil {
		ext := s.authenticateInvite(cfg, req, tx)
		if ext == nil {
			return nil, nil
		}
		rt, rej = s.routeFromExtension(cfg, req, src, ext)
	}
	if rt == nil {
		return nil, rej
	}
	rt.source = src
	if rt.tenant != nil && rt.decision == nil && rt.feature == "" && rt.targets == nil {
		s.decide(snap, rt)
	}
	return rt, nil
}

// authenticateInvite challenges with 407 (RFC 3261 §22.3) and verifies the
// answer. Strangers get the same challenge and the same 403 whether or not
// the user they claim exists.
func (s *Server) authenticateInvite(cfg *config.Config, req *sip.Request, tx sip.ServerTransaction) *config.Extension {
	h := req.GetHeader("Proxy-Authorization")
	if h == nil {
		h = req.GetHeader("Authorization")
	}
	if h == nil {
		s.challengeInvite(cfg, req, tx, false)
		return nil
	}
	res := s.auth.Verify(string(sip.INVITE), h.Value(), func(u string) (sipauth.Credentials, bool) { return s.credentials(cfg, u) })
	switch {
	case res.Stale:
		s.challengeInvite(cfg, req, tx, true)
		return nil
	case !res.OK:
		s.metrics.authFailures.WithLabelValues("invite").Inc()
		s.log.Info("invite refused", "user", res.Username, "source", req.Source(), "reason", res.Reason, "call_id", callID(req))
		respond(tx, req, sip.StatusForbidden, "Forbidden", nil)
		return nil
	}
	return cfg.Extension(res.Username)
}

func (s *Server) challengeInvite(cfg *config.Config, req *sip.Request, tx sip.ServerTransaction, stale bool) {
	algs := cfg.SIP.AuthAlgorithms
	if ext := cfg.Extension(req.From().Address.User); ext != nil && len(ext.AuthAlgorithms) > 0 {
		algs = ext.AuthAlgorithms
	}
	var hdrs []sip.Header
	for _, v := range s.auth.Challenge(algs, stale) {
		hdrs = append(hdrs, sip.NewHeader("Proxy-Authenticate", v))
	}
	respond(tx, req, sip.StatusProxyAuthRequired, "Proxy Authentication Required", nil, hdrs...)
}

// routeFromTrunk finds the tenant of a call from a provider and rings all
// the registered phones of the tenant's extensions.
func (s *Server) routeFromTrunk(cfg *config.Config, req *sip.Request, t *config.Trunk) (*route, *rejection) {
	rt := &route{direction: dirInbound, trunk: t}
	rt.caller, rt.callerName = callerOf(req)
	candidates := calledCandidates(req, t.CalledNumber)
	for _, cand := range candidates {
		n, _ := number.Normalize(cand)
		if ten := cfg.TenantByNumber(n); ten != nil {
			rt.tenant, rt.called = ten, n
			break
		}
	}
	if rt.tenant == nil {
		if len(candidates) > 0 {
			rt.called, _ = number.Normalize(candidates[0])
		}
		if t.DefaultTenant != "" {
			rt.tenant = cfg.Tenant(t.DefaultTenant)
		}
	}
	if rt.tenant == nil {
		s.log.Info("inbound call for no tenant", "trunk", t.Name, "called", rt.called, "caller", rt.caller, "call_id", callID(req))
		return nil, &rejection{sip.StatusNotFound, "Not Found"}
	}
	return rt, nil
}

// decide runs the tenant's plan for the call.
func (s *Server) decide(snap *snapshot, rt *route) {
	plan := snap.plans[rt.tenant.ID]
	if plan == nil {
		return
	}
	d := plan.Decide(dialplan.Call{Caller: rt.caller, CallerName: rt.callerName, Called: rt.called}, s.state(rt.tenant.ID), s.now())
	rt.decision = &d
}

// routeFromExtension routes a call placed by an authenticated extension:
// to another extension, to a tenant's number, or out through a trunk.
func (s *Server) routeFromExtension(cfg *config.Config, req *sip.Request, src netip.AddrPort, ext *config.Extension) (*route, *rejection) {
	rt := &route{direction: dirInternal, fromExt: ext, caller: ext.Number, callerName: ext.Name}
	rt.tenant = cfg.TenantOfExtension(ext.Number)
	dialled := uriUser(req.Recipient)
	if dialled == "" {
		return nil, &rejection{sip.StatusAddressIncomplete, "Address Incomplete"}
	}
	if state := featureState(cfg.Features, dialled); state != "" {
		rt.feature, rt.called = state, dialled
		return rt, nil
	}
	if cfg.Extension(dialled) != nil {
		rt.called = dialled
		rt.targets = s.phoneTargets(dialled, src)
		if len(rt.targets) == 0 {
			return nil, &rejection{sip.StatusTemporarilyUnavailable, "Temporarily Unavailable"}
		}
		return rt, nil
	}
	n, public := number.Normalize(dialled)
	rt.called = n
	if ten := cfg.TenantByNumber(n); ten != nil {
		// Dialling a tenant's number from inside runs its plan, as a call
		// from outside would, without paying for a trunk.
		rt.tenant = ten
		return rt, nil
	}
	if !public && !number.MatchAny(ext.AllowOutbound, n) {
		return nil, &rejection{sip.StatusNotFound, "Not Found"}
	}
	if number.MatchAny(cfg.SIP.OutboundDeny, n) || !number.MatchAny(ext.AllowOutbound, n) {
		s.log.Info("outbound call denied by policy", "extension", ext.Number, "number", n, "call_id", callID(req))
		return nil, &rejection{sip.StatusForbidden, "Destination Not Allowed"}
	}
	t := cfg.OutboundTrunk(rt.tenant)
	if t == nil {
		s.log.Warn("outbound call: no trunk to send it through", "extension", ext.Number, "number", n)
		return nil, &rejection{sip.StatusServiceUnavailable, "No Outbound Trunk"}
	}
	rt.direction, rt.trunk = dirOutbound, t
	host, port := splitHostPort(t.Host)
	ruri := sip.Uri{Scheme: "sip", User: number.Format(n, t.DialFormat), Host: host, Port: port}
	rt.targets = []dialTarget{{label: "trunk:" + t.Name, ruri: ruri, transport: strings.ToUpper(t.Transport), trunk: t}}
	return rt, nil
}

// phoneTargets returns a branch per live contact of extension ext, except
// the contact at skip (the caller's own phone).
func (s *Server) phoneTargets(ext string, skip netip.AddrPort) []dialTarget {
	var out []dialTarget
	for _, b := range s.registrar.loc.lookup(ext, s.now()) {
		if b.source == skip {
			continue
		}
		out = append(out, dialTarget{label: ext, ruri: b.contact, dest: b.source.String(), transport: b.transport})
	}
	return out
}

// callerOf returns the calling number (normalised when it is a public
// number) and display name, preferring P-Asserted-Identity.
func callerOf(req *sip.Request) (string, string) {
	name := req.From().DisplayName
	user := uriUser(req.From().Address)
	if h := req.GetHeader("P-Asserted-Identity"); h != nil {
		var u sip.Uri
		params := sip.NewParams()
		if dn, err := sip.ParseAddressValue(h.Value(), &u, &params); err == nil {
			if pu := uriUser(u); pu != "" {
				user = pu
			}
			if dn != "" {
				name = dn
			}
		}
	}
	if user == "" || strings.EqualFold(user, "anonymous") {
		return "anonymous", name
	}
	n, _ := number.Normalize(user)
	return n, name
}

// calledCandidates lists the numbers a trunk call may be for, in the
// order of the trunk's called_number sources. For Diversion and
// History-Info the original target (the last diversion, the first
// history entry) comes first: that is the professional who forwarded.
func calledCandidates(req *sip.Request, sources []string) []string {
	var out []string
	for _, src := range sources {
		switch src {
		case config.CalledRequestURI:
			out = append(out, uriUser(req.Recipient))
		case config.CalledTo:
			out = append(out, uriUser(req.To().Address))
		case config.CalledDiversion:
			var div []string
			for _, h := range req.GetHeaders("Diversion") {
				div = append(div, addressUsers(h.Value())...)
			}
			for i := len(div) - 1; i >= 0; i-- {
				out = append(out, div[i])
			}
		case config.CalledHistoryInfo:
			for _, h := range req.GetHeaders("History-Info") {
				out = append(out, addressUsers(h.Value())...)
			}
		}
	}
	return slicesCompactNonEmpty(out)
}

func slicesCompactNonEmpty(in []string) []string {
	out := in[:0]
	for _, v := range in {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// addressUsers parses a comma-separated list of name-addr values (as in
// Diversion and History-Info) and returns their URI user parts.
func addressUsers(v string) []string {
	var users []string
	for _, part := range splitAddressList(v) {
		var u sip.Uri
		params := sip.NewParams()
		if _, err := sip.ParseAddressValue(part, &u, &params); err != nil {
			continue
		}
		if user := uriUser(u); user != "" {
			users = append(users, user)
		}
	}
	return users
}

// splitAddressList splits on commas outside <> and quotes.
func splitAddressList(v string) []string {
	var parts []string
	depth, quoted, start := 0, false, 0
	for i, r := range v {
		switch {
		case r == '"':
			quoted = !quoted
		case quoted:
		case r == '<':
			depth++
		case r == '>':
			depth--
		case r == ',' && depth == 0:
			parts = append(parts, strings.TrimSpace(v[start:i]))
			start = i + 1
		}
	}
	if rest := strings.TrimSpace(v[start:]); rest != "" {
		parts = append(parts, rest)
	}
	return parts
}

// uriUser is the unescaped user part of a SIP URI, or the number of a
// tel: URI.
func uriUser(u sip.Uri) string {
	user := u.User
	if u.Scheme == "tel" {
		user, _, _ = strings.Cut(u.Raw(), ";")
	}
	if dec, err := url.PathUnescape(user); err == nil {
		user = dec
	}
	return user
}

// dialogUA returns the dialog user agent for a transport name.
func (s *Server) dialogUA(transport string) *sipgo.DialogUA {
	if d, ok := s.dialogUAs[strings.ToUpper(transport)]; ok {
		return d
	}
	return s.dialogUAs["UDP"]
}
