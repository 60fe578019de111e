package pbx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/icholy/digest"

	"github.com/centralino/centralino/config"
)

// Trunk registration states, as shown by the API and the CLI.
const (
	trunkIP          = "ip"          // IP-authenticated: nothing to register
	trunkRegistering = "registering" // first attempt in progress
	trunkRegistered  = "registered"
	trunkFailing     = "failing"
	trunkStopped     = "stopped"
)

// TrunkStatus is what the API reports about a trunk.
type TrunkStatus struct {
	Name            string    `json:"name"`
	Mode            string    `json:"mode"`
	Host            string    `json:"host"`
	State           string    `json:"state"`
	LastCode        int       `json:"last_code"`
	LastError       string    `json:"last_error"`
	RegisteredUntil time.Time `json:"registered_until"`
	NextAttempt     time.Time `json:"next_attempt"`
	Contact         string    `json:"contact"`
	Failures        int       `json:"failures"`
}

const (
	trunkRetryMin  = 5 * time.Second
	trunkRetryMax  = 5 * time.Minute
	trunkReqTimout = 10 * time.Second
)

// trunkManager keeps every register-mode trunk registered and knows which
// source addresses belong to which trunk.
type trunkManager struct {
	srv *Server
	log *slog.Logger

	mu     sync.Mutex
	status map[string]*TrunkStatus
	addrs  map[string][]netip.Addr // resolved registrar addresses per trunk
	regs   map[string]*trunkRegistration
}

func newTrunkManager(s *Server) *trunkManager {
	m := &trunkManager{
		srv: s, log: s.log.With("component", "trunks"),
		status: map[string]*TrunkStatus{}, addrs: map[string][]netip.Addr{}, regs: map[string]*trunkRegistration{},
	}
	for _, t := range s.config().Trunks {
		st := &TrunkStatus{Name: t.Name, Mode: t.Mode, Host: t.Host, State: trunkIP}
		if t.Mode == config.TrunkRegister {
			st.State = trunkRegistering
		}
		m.status[t.Name] = st
	}
	return m
}

// run registers every register-mode trunk until ctx ends. Each trunk has
// its own goroutine, owned here.
func (m *trunkManager) run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, t := range m.srv.config().Trunks {
		if t.Mode != config.TrunkRegister {
			continue
		}
		reg := newTrunkRegistration(m, t)
		m.mu.Lock()
		m.regs[t.Name] = reg
		m.mu.Unlock()
		wg.Add(1)
		go func() { defer wg.Done(); reg.loop(ctx) }()
	}
	wg.Wait()
}

// unregisterAll sends Expires: 0 for every registered trunk, bounded in
// time: a provider that keeps routing calls to a stopped node loses them.
func (m *trunkManager) unregisterAll(timeout time.Duration) {
	m.mu.Lock()
	regs := make([]*trunkRegistration, 0, len(m.regs))
	for _, r := range m.regs {
		regs = append(regs, r)
	}
	m.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, r := range regs {
		if m.get(r.trunk.Name).State != trunkRegistered {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := r.register(ctx, 0); err != nil {
				m.log.Warn("trunk unregister failed", "trunk", r.trunk.Name, "error", err)
			}
			m.update(r.trunk.Name, func(st *TrunkStatus) { st.State = trunkStopped })
		}()
	}
	wg.Wait()
}

func (m *trunkManager) get(name string) TrunkStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	if st, ok := m.status[name]; ok {
		return *st
	}
	return TrunkStatus{Name: name}
}

func (m *trunkManager) update(name string, f func(*TrunkStatus)) {
	m.mu.Lock()
	st, ok := m.status[name]
	if ok {
		f(st)
	}
	m.mu.Unlock()
	if ok {
		m.srv.metrics.setTrunk(name, st.State == trunkRegistered)
	}
}

// list returns every trunk's status in configuration order.
func (m *trunkManager) list() []TrunkStatus {
	out := make([]TrunkStatus, 0)
	for _, t := range m.srv.config().Trunks {
		out = append(out, m.get(t.Name))
	}
	return out
}

// match returns the trunk a request from src belongs to, or nil.
func (m *trunkManager) match(cfg *config.Config, src netip.Addr) *config.Trunk {
	src = src.Unmap()
	for i := range cfg.Trunks {
		t := &cfg.Trunks[i]
		for _, p := range t.AllowPrefixes {
			if p.Contains(src) {
				return t
			}
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range cfg.Trunks {
		t := &cfg.Trunks[i]
		for _, a := range m.addrs[t.Name] {
			if a == src {
				return t
			}
		}
	}
	return nil
}

// trunkRegistration is one trunk's outbound registration (RFC 3261 §10.2):
// same Call-ID and From tag for every refresh, CSeq increasing.
type trunkRegistration struct {
	m      *trunkManager
	trunk  config.Trunk
	log    *slog.Logger
	callID string
	tag    string
	cseq   uint32
	// contactHost/Port start as our public address and follow the
	// received/rport the registrar saw (we may be behind NAT).
	contactHost string
	contactPort int
}

func newTrunkRegistration(m *trunkManager, t config.Trunk) *trunkRegistration {
	return &trunkRegistration{
		m: m, trunk: t, log: m.log.With("trunk", t.Name),
		callID: sip.GenerateTagN(24), tag: sip.GenerateTagN(12), cseq: 1,
		contactHost: m.srv.publicHost, contactPort: m.srv.publicPort,
	}
}

func (r *trunkRegistration) loop(ctx context.Context) {
	backoff := trunkRetryMin
	for {
		granted, retryAfter, err := r.register(ctx, r.trunk.Expires)
		var wait time.Duration
		now := r.m.srv.now()
		if err == nil {
			backoff = trunkRetryMin
			// Refresh well before expiry so that one lost REGISTER and its
			// retransmissions still fit.
			wait = max(granted*3/4, granted-2*time.Minute, time.Second)
			r.m.update(r.trunk.Name, func(st *TrunkStatus) {
				st.State, st.LastError, st.Failures = trunkRegistered, "", 0
				st.RegisteredUntil = now.Add(granted)
				st.NextAttempt = now.Add(wait)
				cu := r.contactURI()
				st.Contact = cu.String()
			})
			r.log.Info("trunk registered", "expires", granted, "next_refresh", wait)
		} else {
			if ctx.Err() != nil {
				return
			}
			wait = max(backoff, retryAfter)
			backoff = min(backoff*2, trunkRetryMax)
			r.m.update(r.trunk.Name, func(st *TrunkStatus) {
				st.State = trunkFailing
				st.LastError = err.Error()
				st.Failures++
				st.NextAttempt = now.Add(wait)
				st.RegisteredUntil = time.Time{}
			})
			r.log.Warn("trunk registration failed", "error", err, "retry_in", wait)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// registerError carries the provider's status code.
type registerError struct {
	code   int
	reason string
}

func (e *registerError) Error() string { return fmt.Sprintf("%d %s", e.code, e.reason) }

func (r *trunkRegistration) contactURI() sip.Uri {
	u := sip.Uri{Scheme: "sip", User: r.trunk.Username, Host: r.contactHost, Port: r.contactPort}
	if tr := strings.ToLower(r.trunk.Transport); tr != "udp" && tr != "" {
		u.UriParams = sip.NewParams()
		u.UriParams.Add("transport", tr)
	}
	return u
}

func (r *trunkRegistration) domain() string {
	if r.trunk.Domain != "" {
		return r.trunk.Domain
	}
	host, _, err := net.SplitHostPort(r.trunk.Host)
	if err != nil {
		return r.trunk.Host
	}
	return host
}

func (r *trunkRegistration) newRequest(expires time.Duration) (*sip.Request, error) {
	host, port := splitHostPort(r.trunk.Host)
	ruri := sip.Uri{Scheme: "sip", Host: host, Port: port}
	req := sip.NewRequest(sip.REGISTER, ruri)
	req.SetTransport(strings.ToUpper(r.trunk.Transport))
	aor := sip.Uri{Scheme: "sip", User: r.trunk.Username, Host: r.domain()}
	fromParams := sip.NewParams()
	fromParams.Add("tag", r.tag)
	req.AppendHeader(&sip.FromHeader{Address: aor, Params: fromParams})
	req.AppendHeader(&sip.ToHeader{Address: aor, Params: sip.NewParams()})
	cid := sip.CallIDHeader(r.callID)
	req.AppendHeader(&cid)
	r.cseq++
	req.AppendHeader(&sip.CSeqHeader{SeqNo: r.cseq, MethodName: sip.REGISTER})
	req.AppendHeader(&sip.ContactHeader{Address: r.contactURI()})
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(expires/time.Second))))
	req.AppendHeader(sip.NewHeader("User-Agent", r.m.srv.config().SIP.UserAgent))
	r.m.srv.setLocalAddr(req)
	return req, nil
}

// withRport builds the remaining headers and asks for rport (RFC 3581),
// so the provider's answer tells us our public address.
func withRport(c *sipgo.Client, req *sip.Request) error {
	if err := sipgo.ClientRequestBuild(c, req); err != nil {
		return err
	}
	req.Via().Params.Add("rport", "")
	return nil
}

// register sends one REGISTER (answering a digest challenge) and returns
// the expiry granted. expires 0 unregisters.
func (r *trunkRegistration) register(ctx context.Context, expires time.Duration) (granted, retryAfter time.Duration, err error) {
	r.resolve(ctx)
	var authz sip.Header
	natFixed := false
	for attempt := 0; attempt < 4; attempt++ {
		req, err := r.newRequest(expires)
		if err != nil {
			return 0, 0, err
		}
		if authz != nil {
			req.AppendHeader(authz)
		}
		rctx, cancel := context.WithTimeout(ctx, trunkReqTimout)
		res, err := r.m.srv.client.Do(rctx, req, withRport)
		cancel()
		if err != nil {
			r.setCode(408)
			return 0, 0, fmt.Errorf("no answer from %s: %w", r.trunk.Host, err)
		}
		r.setCode(res.StatusCode)
		switch {
		case res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired:
			if authz != nil && !isStale(res) {
				return 0, 0, &registerError{res.StatusCode, "credentials refused by the provider"}
			}
			authz, err = r.authorization(req, res)
			if err != nil {
				return 0, 0, err
			}
		case res.StatusCode == sip.StatusIntervalToBrief:
			h := res.GetHeader("Min-Expires")
			n, perr := 0, errors.New("no Min-Expires")
			if h != nil {
				n, perr = strconv.Atoi(strings.TrimSpace(h.Value()))
			}
			if perr != nil || n <= 0 || time.Duration(n)*time.Second <= expires {
				return 0, 0, &registerError{res.StatusCode, "interval too brief"}
			}
			expires = time.Duration(n) * time.Second
		case res.IsSuccess():
			if expires > 0 && !natFixed && r.fixContact(res) {
				// The registrar saw us at another address: register that
				// one, or calls would be sent where we cannot receive them.
				natFixed = true
				r.log.Info("trunk contact follows NAT", "host", r.contactHost, "port", r.contactPort)
				continue
			}
			return grantedExpiry(res, r.contactURI(), expires), 0, nil
		default:
			return 0, retryAfterOf(res), &registerError{res.StatusCode, res.Reason}
		}
	}
	return 0, 0, errors.New("registration did not complete after repeated challenges")
}

func (r *trunkRegistration) setCode(code int) {
	r.m.update(r.trunk.Name, func(st *TrunkStatus) { st.LastCode = code })
}

// authorization answers a 401/407 challenge with the trunk's credentials.
func (r *trunkRegistration) authorization(req *sip.Request, res *sip.Response) (sip.Header, error) {
	name, hname := "WWW-Authenticate", "Authorization"
	if res.StatusCode == sip.StatusProxyAuthRequired {
		name, hname = "Proxy-Authenticate", "Proxy-Authorization"
	}
	var chal *digest.Challenge
	for _, h := range res.GetHeaders(name) {
		c, err := digest.ParseChallenge(h.Value())
		if err == nil && digest.CanDigest(c) {
			chal = c
			break
		}
	}
	if chal == nil {
		return nil, &registerError{res.StatusCode, "no usable digest challenge"}
	}
	user := r.trunk.AuthUsername
	if user == "" {
		user = r.trunk.Username
	}
	cred, err := digest.Digest(chal, digest.Options{
		Method: string(sip.REGISTER), URI: req.Recipient.Addr(), Username: user, Password: r.trunk.Password,
	})
	if err != nil {
		return nil, fmt.Errorf("digest: %w", err)
	}
	return sip.NewHeader(hname, cred.String()), nil
}

func isStale(res *sip.Response) bool {
	for _, name := range []string{"WWW-Authenticate", "Proxy-Authenticate"} {
		for _, h := range res.GetHeaders(name) {
			if c, err := digest.ParseChallenge(h.Value()); err == nil && c.Stale {
				return true
			}
		}
	}
	return false
}

// fixContact adopts the received/rport of our Via in a response and
// reports whether the contact changed.
func (r *trunkRegistration) fixContact(res *sip.Response) bool {
	via := res.Via()
	if via == nil {
		return false
	}
	host, port := r.contactHost, r.contactPort
	if v, ok := via.Params.Get("received"); ok && v != "" {
		host = v
	}
	if v, ok := via.Params.Get("rport"); ok && v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			port = n
		}
	}
	if host == r.contactHost && port == r.contactPort {
		return false
	}
	r.contactHost, r.contactPort = host, port
	return true
}

// grantedExpiry reads the expiry the registrar granted our contact: the
// contact's expires parameter, else the Expires header, else what we asked.
func grantedExpiry(res *sip.Response, ours sip.Uri, asked time.Duration) time.Duration {
	for _, h := range res.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok || c.Address.Host != ours.Host || c.Address.Port != ours.Port {
			continue
		}
		if v, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return asked
}

func retryAfterOf(res *sip.Response) time.Duration {
	h := res.GetHeader("Retry-After")
	if h == nil {
		return 0
	}
	v, _, _ := strings.Cut(strings.TrimSpace(h.Value()), ";")
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, time.Hour)
}

// resolve records the registrar's addresses: the provider sends inbound
// calls from there, and that is how they are recognised.
func (r *trunkRegistration) resolve(ctx context.Context) {
	host, _ := splitHostPort(r.trunk.Host)
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip.Unmap()}
	} else {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		ips, err := net.DefaultResolver.LookupNetIP(rctx, "ip", host)
		cancel()
		if err != nil {
			r.log.Warn("resolve trunk host", "host", host, "error", err)
			return
		}
		for _, ip := range ips {
			addrs = append(addrs, ip.Unmap())
		}
	}
	r.m.mu.Lock()
	r.m.addrs[r.trunk.Name] = addrs
	r.m.mu.Unlock()
}

// splitHostPort splits "host[:port]"; port 0 means the default.
func splitHostPort(hp string) (string, int) {
	host, p, err := net.SplitHostPort(hp)
	if err != nil {
		return strings.Trim(hp, "[]"), 0
	}
	n, _ := strconv.Atoi(p)
	return host, n
}
