package pbx

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/centralino/centralino/config"
	"github.com/centralino/centralino/pbx/sipauth"
	"github.com/centralino/centralino/pbx/store"
)

// binding is one registered contact of an extension (an AOR).
type binding struct {
	aor       string
	contact   sip.Uri // as the phone gave it, used as the Request-URI
	raw       string  // the contact URI string, the key of the binding
	source    netip.AddrPort
	transport string // UDP, TCP, TLS
	callID    string
	cseq      uint32
	userAgent string
	expires   time.Time
	updated   time.Time
}

func (b *binding) record() store.Registration {
	return store.Registration{
		AOR:       b.aor,
		Contact:   b.raw,
		Source:    b.source.String(),
		Transport: b.transport,
		CallID:    b.callID,
		CSeq:      b.cseq,
		UserAgent: b.userAgent,
		Expires:   b.expires,
		Updated:   b.updated,
	}
}

func bindingFromRecord(r store.Registration) (*binding, error) {
	var u sip.Uri
	if err := sip.ParseUri(r.Contact, &u); err != nil {
		return nil, fmt.Errorf("contact %q: %w", r.Contact, err)
	}
	src, err := netip.ParseAddrPort(r.Source)
	if err != nil {
		return nil, fmt.Errorf("source %q: %w", r.Source, err)
	}
	return &binding{
		aor: r.AOR, contact: u, raw: r.Contact, source: src, transport: r.Transport,
		callID: r.CallID, cseq: r.CSeq, userAgent: r.UserAgent, expires: r.Expires, updated: r.Updated,
	}, nil
}

// location is the registrar's in-memory view of registrations; the store
// is written through on every change so that a restart loses nothing.
type location struct {
	mu       sync.RWMutex
	bindings map[string][]*binding // AOR → contacts
	bySource map[netip.AddrPort]string
}

func newLocation() *location {
	return &location{bindings: map[string][]*binding{}, bySource: map[netip.AddrPort]string{}}
}

// lookup returns the live bindings of aor at now (a copy, safe to use).
func (l *location) lookup(aor string, now time.Time) []binding {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []binding
	for _, b := range l.bindings[aor] {
		if b.expires.After(now) {
			out = append(out, *b)
		}
	}
	return out
}

// aorAt reports which AOR has a live binding whose observed source is src:
// that is how an INVITE from a registered phone is told from a trunk's.
func (l *location) aorAt(src netip.AddrPort) (string, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	aor, ok := l.bySource[src]
	return aor, ok
}

func (l *location) all(now time.Time) []binding {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var out []binding
	for _, bs := range l.bindings {
		for _, b := range bs {
			if b.expires.After(now) {
				out = append(out, *b)
			}
		}
	}
	slices.SortFunc(out, func(a, b binding) int {
		if c := strings.Compare(a.aor, b.aor); c != 0 {
			return c
		}
		return strings.Compare(a.raw, b.raw)
	})
	return out
}

func (l *location) count() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	n := 0
	for _, bs := range l.bindings {
		n += len(bs)
	}
	return n
}

// put replaces aor's bindings. l.mu must be held.
func (l *location) putLocked(aor string, bs []*binding) {
	for _, old := range l.bindings[aor] {
		if l.bySource[old.source] == aor {
			delete(l.bySource, old.source)
		}
	}
	if len(bs) == 0 {
		delete(l.bindings, aor)
		return
	}
	l.bindings[aor] = bs
	for _, b := range bs {
		l.bySource[b.source] = aor
	}
}

// expire drops bindings that expired at now and returns them.
func (l *location) expire(now time.Time) []*binding {
	l.mu.Lock()
	defer l.mu.Unlock()
	var gone []*binding
	for aor, bs := range l.bindings {
		keep := bs[:0:0]
		for _, b := range bs {
			if b.expires.After(now) {
				keep = append(keep, b)
			} else {
				gone = append(gone, b)
			}
		}
		if len(keep) != len(bs) {
			l.putLocked(aor, keep)
		}
	}
	return gone
}

// registrar answers REGISTER requests for the configured extensions.
type registrar struct {
	srv *Server
	loc *location
	log *slog.Logger
}

// restore loads the persisted bindings (the store drops expired ones).
func (r *registrar) restore(now time.Time) error {
	recs, err := r.srv.store.Registrations(now)
	if err != nil {
		return fmt.Errorf("load registrations: %w", err)
	}
	r.loc.mu.Lock()
	defer r.loc.mu.Unlock()
	byAOR := map[string][]*binding{}
	for _, rec := range recs {
		b, err := bindingFromRecord(rec)
		if err != nil {
			r.log.Warn("dropping unreadable stored registration", "aor", rec.AOR, "error", err)
			continue
		}
		byAOR[b.aor] = append(byAOR[b.aor], b)
	}
	for aor, bs := range byAOR {
		r.loc.putLocked(aor, bs)
	}
	r.log.Info("registrations restored", "count", len(recs))
	return nil
}

func (r *registrar) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	// Answer statelessly: a REGISTER is idempotent (a retransmission gets a
	// new challenge, or finds its binding already updated and is answered
	// with the same contacts), so there is no need to keep the transaction
	// for Timer J (32 s over UDP). At thousands of REGISTERs per second
	// those retained transactions would hold gigabytes.
	defer tx.Terminate()
	cfg := r.srv.config()
	to := req.To()
	if to == nil || req.CallID() == nil || req.CSeq() == nil || req.From() == nil {
		respond(tx, req, sip.StatusBadRequest, "Missing Mandatory Header", nil)
		return
	}
	aor := to.Address.User
	ext := cfg.Extension(aor)

	creds := func(user string) (sipauth.Credentials, bool) { return r.srv.credentials(cfg, user) }
	authz := req.GetHeader("Authorization")
	if authz == nil {
		r.challenge(tx, req, ext, false)
		return
	}
	res := r.srv.auth.Verify(string(sip.REGISTER), authz.Value(), creds)
	switch {
	case res.Stale:
		r.challenge(tx, req, ext, true)
		return
	case !res.OK:
		r.srv.metrics.authFailures.WithLabelValues("register").Inc()
		r.log.Info("register refused", "aor", aor, "user", res.Username, "source", req.Source(), "reason", res.Reason)
		respond(tx, req, sip.StatusForbidden, "Forbidden", nil)
		return
	case ext == nil || res.Username != aor:
		// Authenticated, but as someone else than the AOR being registered.
		r.srv.metrics.authFailures.WithLabelValues("register").Inc()
		r.log.Info("register refused: user may not register this AOR", "aor", aor, "user", res.Username, "source", req.Source())
		respond(tx, req, sip.StatusForbidden, "Forbidden", nil)
		return
	}

	code, reason, hdrs := r.update(cfg, ext, req)
	if code != sip.StatusOK {
		respond(tx, req, code, reason, nil, hdrs...)
		return
	}
	respond(tx, req, sip.StatusOK, "OK", nil, hdrs...)
}

func (r *registrar) challenge(tx sip.ServerTransaction, req *sip.Request, ext *config.Extension, stale bool) {
	algs := r.srv.config().SIP.AuthAlgorithms
	if ext != nil && len(ext.AuthAlgorithms) > 0 {
		algs = ext.AuthAlgorithms
	}
	var hdrs []sip.Header
	for _, v := range r.srv.auth.Challenge(algs, stale) {
		hdrs = append(hdrs, sip.NewHeader("WWW-Authenticate", v))
	}
	respond(tx, req, sip.StatusUnauthorized, "Unauthorized", nil, hdrs...)
}

// requestedExpiry returns the expiry a contact asks for: its expires
// parameter, else the Expires header, else def.
func requestedExpiry(c *sip.ContactHeader, req *sip.Request, def time.Duration) (time.Duration, bool) {
	if c != nil && c.Params != nil {
		if v, ok := c.Params.Get("expires"); ok {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return 0, false
			}
			return time.Duration(n) * time.Second, true
		}
	}
	if h := req.GetHeader("Expires"); h != nil {
		n, err := strconv.ParseUint(strings.TrimSpace(h.Value()), 10, 32)
		if err != nil {
			return 0, false
		}
		return time.Duration(n) * time.Second, true
	}
	return def, true
}

var errTooBrief = errors.New("interval too brief")

// update applies a REGISTER (RFC 3261 §10.3 steps 6–8) and returns the
// status to answer with, plus headers.
func (r *registrar) update(cfg *config.Config, ext *config.Extension, req *sip.Request) (int, string, []sip.Header) {
	now := r.srv.now()
	src, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return sip.StatusBadRequest, "Bad Source", nil
	}
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	callID := req.CallID().Value()
	cseq := req.CSeq().SeqNo
	ua := ""
	if h := req.GetHeader("User-Agent"); h != nil {
		ua = h.Value()
	}
	contacts := req.GetHeaders("Contact")
	aor := ext.Number

	r.loc.mu.Lock()
	current := slices.Clone(r.loc.bindings[aor])
	var changed, removed []*binding

	if len(contacts) == 1 {
		if c, ok := contacts[0].(*sip.ContactHeader); ok && c.Address.Wildcard {
			exp, ok := requestedExpiry(nil, req, 1)
			if !ok || exp != 0 {
				r.loc.mu.Unlock()
				return sip.StatusBadRequest, "Wildcard Contact Requires Expires 0", nil
			}
			removed = current
			current = nil
			r.loc.putLocked(aor, nil)
			r.loc.mu.Unlock()
			r.persist(nil, removed)
			return sip.StatusOK, "OK", r.contactHeaders(nil, now)
		}
	}

	for _, h := range contacts {
		c, ok := h.(*sip.ContactHeader)
		if !ok || c.Address.Wildcard {
			r.loc.mu.Unlock()
			return sip.StatusBadRequest, "Invalid Contact", nil
		}
		exp, ok := requestedExpiry(c, req, cfg.SIP.DefaultExpires)
		if !ok {
			r.loc.mu.Unlock()
			return sip.StatusBadRequest, "Invalid Expires", nil
		}
		if exp > 0 && exp < cfg.SIP.MinExpires {
			r.loc.mu.Unlock()
			min := strconv.Itoa(int(cfg.SIP.MinExpires / time.Second))
			return sip.StatusIntervalToBrief, "Interval Too Brief", []sip.Header{sip.NewHeader("Min-Expires", min)}
		}
		exp = min(exp, cfg.SIP.MaxExpires)
		raw := c.Address.String()
		idx := slices.IndexFunc(current, func(b *binding) bool { return b.raw == raw })
		if idx >= 0 && current[idx].callID == callID && cseq <= current[idx].cseq {
			// A retransmitted or reordered REGISTER must not roll a binding back.
			continue
		}
		if exp == 0 {
			if idx >= 0 {
				removed = append(removed, current[idx])
				current = slices.Delete(current, idx, idx+1)
			}
			continue
		}
		b := &binding{
			aor: aor, contact: *c.Address.Clone(), raw: raw, source: src, transport: req.Transport(),
			callID: callID, cseq: cseq, userAgent: ua, expires: now.Add(exp), updated: now,
		}
		if idx >= 0 {
			current[idx] = b
		} else {
			current = append(current, b)
		}
		changed = append(changed, b)
	}
	// Too many contacts: the ones closest to expiring make room.
	if max := ext.MaxContacts; max > 0 && len(current) > max {
		slices.SortFunc(current, func(a, b *binding) int { return a.expires.Compare(b.expires) })
		drop := current[:len(current)-max]
		removed = append(removed, drop...)
		current = slices.Clone(current[len(current)-max:])
		changed = slices.DeleteFunc(changed, func(b *binding) bool { return slices.Contains(drop, b) })
	}
	r.loc.putLocked(aor, current)
	r.loc.mu.Unlock()

	if err := r.persist(changed, removed); err != nil {
		r.log.Error("persist registration", "aor", aor, "error", err)
		return sip.StatusInternalServerError, "Storage Failure", nil
	}
	for _, b := range changed {
		r.log.Debug("registered", "aor", aor, "contact", b.raw, "source", b.source, "transport", b.transport, "expires", b.expires)
	}
	return sip.StatusOK, "OK", r.contactHeaders(current, now)
}

func (r *registrar) persist(changed, removed []*binding) error {
	var errs []error
	for _, b := range removed {
		errs = append(errs, r.srv.store.DeleteRegistration(b.aor, b.raw))
	}
	for _, b := range changed {
		errs = append(errs, r.srv.store.SaveRegistration(b.record()))
	}
	r.srv.metrics.registrations.Set(float64(r.loc.count()))
	return errors.Join(errs...)
}

// contactHeaders lists every current binding with its remaining time, as
// RFC 3261 §10.3 step 8 asks of the 200 response.
func (r *registrar) contactHeaders(bs []*binding, now time.Time) []sip.Header {
	hdrs := make([]sip.Header, 0, len(bs)+1)
	for _, b := range bs {
		secs := int(b.expires.Sub(now).Round(time.Second) / time.Second)
		p := sip.NewParams()
		p.Add("expires", strconv.Itoa(secs))
		hdrs = append(hdrs, &sip.ContactHeader{Address: *b.contact.Clone(), Params: p})
	}
	hdrs = append(hdrs, sip.NewHeader("Date", now.UTC().Format(time.RFC1123)))
	return hdrs
}

// sweep removes expired bindings from memory and from the store.
func (r *registrar) sweep(now time.Time) {
	gone := r.loc.expire(now)
	if len(gone) == 0 {
		return
	}
	if err := r.persist(nil, gone); err != nil {
		r.log.Error("drop expired registrations", "error", err)
	}
	for _, b := range gone {
		r.log.Info("registration expired", "aor", b.aor, "contact", b.raw)
	}
}
