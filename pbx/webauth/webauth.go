// Package webauth keeps the operator console's login sessions: password
// login with lock-out, a session cookie, a CSRF token per session, and the
// checks the console's handlers run on every request.
//
// It knows nothing of the configuration: the caller hands it a Lookup
// function that reads the operators' accounts from the configuration in
// force, so a reload applies at the next request (a removed operator's
// sessions end, changed tenants show up, a changed password ends the
// sessions opened with the old one).
//
// Server side, a session is found by the SHA-256 of its cookie's token:
// the tokens themselves are never kept, so a heap dump or a log line does
// not hand out a usable cookie.
package webauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// CookieName is the session cookie's name.
const CookieName = "centralino_session"

// Defaults for the zero values of Options.
const (
	DefaultTTL         = 8 * time.Hour
	DefaultMaxFailures = 5
	// IPFailuresFactor: a whole office behind one NAT address logs in from
	// it, so one person's typos must not lock their colleagues out; an
	// address still gets far fewer guesses than it would need.
	IPFailuresFactor = 4
	DefaultLockFor   = 15 * time.Minute
	// minMaxAge is the least absolute lifetime: one long working day.
	minMaxAge = 24 * time.Hour
)

const (
	cookiePath = "/console"
	// maxTracked bounds the usernames and the IP addresses whose failed
	// logins are remembered (each, separately).
	maxTracked = 10000
	// maxSessionsPerUser bounds one account's sessions: a script that logs
	// in in a loop evicts its own oldest sessions instead of growing memory.
	maxSessionsPerUser = 20
	// sweepEvery is how often requests also look for expired sessions.
	sweepEvery = time.Minute
	tokenBytes = 32
)

// Account is an operator as the configuration describes it.
type Account struct {
	Username     string
	Name         string
	Tenants      []string
	PasswordHash string // bcrypt
	Language     string // "it", "en"; "" lets the console choose
}

// Options configure a Manager. Only Lookup is required.
type Options struct {
	// Lookup finds an account by username. It is called at every login and
	// at every session check, so it must read the configuration in force.
	Lookup func(username string) (Account, bool)
	// TTL is the idle expiry: each authenticated request moves a session's
	// end to TTL from then. Default DefaultTTL (8h).
	TTL time.Duration
	// MaxAge is the absolute lifetime of a session, however active: after
	// it the operator logs in again. Default: the larger of 24h and 2*TTL,
	// so a working day never ends in the middle but a stolen cookie cannot
	// be kept alive forever.
	MaxAge time.Duration
	// MaxFailures failed logins within LockFor for one username, or
	// IPMaxFailures from one client address, lock further attempts (even
	// right ones) out for LockFor. Defaults DefaultMaxFailures (5),
	// IPFailuresFactor times MaxFailures, and DefaultLockFor (15m).
	MaxFailures   int
	IPMaxFailures int
	LockFor       time.Duration
	// TrustedProxy tells whether X-Forwarded-For and X-Forwarded-Proto
	// from this peer are believed. nil trusts no one.
	TrustedProxy func(remote netip.Addr) bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives logins, failures and lock-outs (username and client
	// address; never passwords, cookies or tokens). nil discards.
	Log *slog.Logger
}

// Session is a logged-in operator, as handlers see it. Values handed out
// are copies: changing one changes nothing in the Manager.
type Session struct {
	// ID names the session in logs and in OnLogout callbacks. It is not
	// the cookie's token and grants nothing.
	ID       string
	Username string
	Name     string
	Language string
	// CSRF must come back in the X-CSRF-Token header of every
	// state-changing request.
	CSRF    string
	Tenants []string
	// Expires is when the session ends unless it is used again before.
	Expires time.Time
}

// entry is a session as kept by the Manager.
type entry struct {
	s        Session  // Expires is computed when a copy is handed out
	key      [32]byte // SHA-256 of the token
	created  time.Time
	lastSeen time.Time
	pwFP     [32]byte // SHA-256 of the password hash the session was opened with
}

// Manager holds the sessions and the failed-login counters. It is safe for
// concurrent use.
type Manager struct {
	lookup      func(string) (Account, bool)
	ttl, maxAge time.Duration
	maxFailures int
	lockFor     time.Duration
	trusted     func(netip.Addr) bool
	now         func() time.Time
	log         *slog.Logger

	// bcryptSlots bounds concurrent password checks to the CPUs, so a
	// flood of logins queues instead of starving calls of CPU.
	bcryptSlots chan struct{}
	// decoyCost is the bcrypt cost of the last real hash seen, used for
	// the decoy comparison of unknown usernames.
	decoyCost atomic.Int32

	mu        sync.Mutex
	sessions  map[[32]byte]*entry // guarded by mu
	byID      map[string]*entry   // guarded by mu
	users     *tracker            // failed logins by username; guarded by mu
	ips       *tracker            // failed logins by client address; guarded by mu
	onLogout  []func(*Session)    // guarded by mu
	lastSweep time.Time           // guarded by mu
}

// New returns a Manager. It panics without a Lookup, a programming error.
func New(o Options) *Manager {
	if o.Lookup == nil {
		panic("webauth: Options.Lookup is required")
	}
	m := &Manager{
		lookup:      o.Lookup,
		ttl:         o.TTL,
		maxAge:      o.MaxAge,
		maxFailures: o.MaxFailures,
		lockFor:     o.LockFor,
		trusted:     o.TrustedProxy,
		now:         o.Now,
		log:         o.Log,
		bcryptSlots: make(chan struct{}, max(1, runtime.GOMAXPROCS(0))),
		sessions:    make(map[[32]byte]*entry),
		byID:        make(map[string]*entry),
	}
	if m.ttl <= 0 {
		m.ttl = DefaultTTL
	}
	if m.maxAge <= 0 {
		m.maxAge = max(minMaxAge, 2*m.ttl)
	}
	if m.maxFailures <= 0 {
		m.maxFailures = DefaultMaxFailures
	}
	if m.lockFor <= 0 {
		m.lockFor = DefaultLockFor
	}
	if m.trusted == nil {
		m.trusted = func(netip.Addr) bool { return false }
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.users = newTracker(maxTracked, m.maxFailures, m.lockFor)
	ipMax := o.IPMaxFailures
	if ipMax <= 0 {
		ipMax = m.maxFailures * IPFailuresFactor
	}
	m.ips = newTracker(maxTracked, ipMax, m.lockFor)
	m.decoyCost.Store(int32(bcrypt.DefaultCost))
	return m
}

// OnLogout registers f to be called, outside the Manager's lock, with a
// copy of every session that ends: logout, expiry or account removal found
// by a check or a sweep, eviction. The console uses it to close the
// operator's WebSocket and WebRTC legs.
func (m *Manager) OnLogout(f func(s *Session)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.onLogout = append(m.onLogout, f)
}

// Sessions sweeps (see Sweep) and returns the number of live sessions.
// Calling it from /metrics keeps ended sessions from lingering.
func (m *Manager) Sessions() int {
	m.Sweep()
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions)
}

// Sweep ends the expired sessions and those whose account is gone or whose
// password changed, calling the OnLogout functions for each, and forgets
// stale failed-login counters. Requests sweep expired sessions by
// themselves about once a minute; Sweep also asks Lookup about every
// logged-in account (once per account).
func (m *Manager) Sweep() {
	now := m.now()
	m.mu.Lock()
	ended := m.sweepExpiredLocked(now)
	users := make(map[string]bool)
	for _, e := range m.sessions {
		users[e.s.Username] = true
	}
	m.mu.Unlock()
	m.ended(ended, "expired")

	for u := range users {
		acct, ok := m.lookup(u)
		var fp [32]byte
		if ok {
			fp = sha256.Sum256([]byte(acct.PasswordHash))
		}
		m.mu.Lock()
		var gone []Session
		for _, e := range m.sessions {
			if e.s.Username == u && (!ok || e.pwFP != fp) {
				gone = append(gone, m.removeLocked(e, now))
			}
		}
		m.mu.Unlock()
		m.ended(gone, "account removed or password changed")
	}
}

// Session returns the request's session: a valid cookie, not expired, its
// account still there with the same password. It extends the session.
func (m *Manager) Session(r *http.Request) (*Session, bool) {
	key, ok := cookieKey(r)
	if !ok {
		return nil, false
	}
	return m.check(key, true)
}

// Touch extends the session with this ID, as a request would, and returns
// it; false when it has ended (OnLogout has then been called). The console
// calls it on WebSocket activity, which makes no HTTP requests.
func (m *Manager) Touch(id string) (*Session, bool) {
	m.mu.Lock()
	e := m.byID[id]
	m.mu.Unlock()
	if e == nil {
		return nil, false
	}
	return m.check(e.key, true)
}

// Require lets a request through only with a session and, unless its
// method is GET, HEAD, OPTIONS or TRACE, with the session's CSRF token in
// X-CSRF-Token; otherwise it answers 401 or 403 with a JSON error. The
// session is in the request's context (FromContext).
func (m *Manager) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := cookieKey(r)
		var s *Session
		if ok {
			s, ok = m.check(key, false)
		}
		if !ok {
			writeError(w, http.StatusUnauthorized, "not logged in")
			return
		}
		if !safeMethod(r.Method) {
			got := r.Header.Get("X-CSRF-Token")
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) != 1 {
				m.log.Warn("console request without a valid CSRF token",
					"username", s.Username, "ip", m.ClientIP(r).String(), "method", r.Method, "path", r.URL.Path, "session", s.ID)
				writeError(w, http.StatusForbidden, "missing or wrong CSRF token")
				return
			}
		}
		// Only a request that passed every check extends the session.
		if s, ok = m.extend(key); !ok {
			writeError(w, http.StatusUnauthorized, "not logged in")
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, s)))
	})
}

type ctxKey struct{}

// FromContext returns the session Require put in the context.
func FromContext(ctx context.Context) (*Session, bool) {
	s, ok := ctx.Value(ctxKey{}).(*Session)
	return s, ok
}

// check validates the session with this key: not expired, account present
// with the same password hash. It refreshes the account's name, tenants
// and language, and extends the session when touch is set.
func (m *Manager) check(key [32]byte, touch bool) (*Session, bool) {
	now := m.now()
	m.mu.Lock()
	expired := m.maybeSweepLocked(now)
	e := m.sessions[key]
	if e == nil {
		m.mu.Unlock()
		m.ended(expired, "expired")
		return nil, false
	}
	username := e.s.Username
	m.mu.Unlock()
	m.ended(expired, "expired")

	// Lookup may take the configuration's locks: never call it under ours.
	acct, found := m.lookup(username)

	m.mu.Lock()
	e = m.sessions[key]
	if e == nil { // ended meanwhile
		m.mu.Unlock()
		return nil, false
	}
	if !now.Before(m.expiry(e)) {
		s := m.removeLocked(e, now)
		m.mu.Unlock()
		m.ended([]Session{s}, "expired")
		return nil, false
	}
	if !found || sha256.Sum256([]byte(acct.PasswordHash)) != e.pwFP {
		s := m.removeLocked(e, now)
		m.mu.Unlock()
		m.ended([]Session{s}, "account removed or password changed")
		return nil, false
	}
	e.s.Name, e.s.Language, e.s.Tenants = acct.Name, acct.Language, slices.Clone(acct.Tenants)
	if touch {
		e.lastSeen = now
	}
	s := m.snapshotLocked(e)
	m.mu.Unlock()
	return s, true
}

// extend moves the session's idle expiry to now + TTL.
func (m *Manager) extend(key [32]byte) (*Session, bool) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.sessions[key]
	if e == nil || !now.Before(m.expiry(e)) {
		return nil, false
	}
	e.lastSeen = now
	return m.snapshotLocked(e), true
}

func (m *Manager) expiry(e *entry) time.Time {
	idle, abs := e.lastSeen.Add(m.ttl), e.created.Add(m.maxAge)
	if abs.Before(idle) {
		return abs
	}
	return idle
}

func (m *Manager) snapshotLocked(e *entry) *Session {
	s := e.s
	s.Tenants = slices.Clone(e.s.Tenants)
	s.Expires = m.expiry(e)
	return &s
}

// removeLocked drops e and returns a copy for the OnLogout functions.
func (m *Manager) removeLocked(e *entry, now time.Time) Session {
	delete(m.sessions, e.key)
	delete(m.byID, e.s.ID)
	s := *m.snapshotLocked(e)
	if now.Before(s.Expires) {
		s.Expires = now
	}
	return s
}

// maybeSweepLocked removes expired sessions at most once per sweepEvery.
func (m *Manager) maybeSweepLocked(now time.Time) []Session {
	if d := now.Sub(m.lastSweep); d >= 0 && d < sweepEvery {
		return nil
	}
	return m.sweepExpiredLocked(now)
}

func (m *Manager) sweepExpiredLocked(now time.Time) []Session {
	m.lastSweep = now
	var out []Session
	for _, e := range m.sessions {
		if !now.Before(m.expiry(e)) {
			out = append(out, m.removeLocked(e, now))
		}
	}
	m.users.prune(now)
	m.ips.prune(now)
	return out
}

// ended logs the sessions and calls the OnLogout functions for each. It
// must be called without the lock.
func (m *Manager) ended(list []Session, why string) {
	if len(list) == 0 {
		return
	}
	m.mu.Lock()
	fns := slices.Clone(m.onLogout)
	m.mu.Unlock()
	for i := range list {
		s := &list[i]
		m.log.Info("console session ended", "username", s.Username, "session", s.ID, "why", why)
		for _, f := range fns {
			c := *s
			c.Tenants = slices.Clone(s.Tenants)
			f(&c)
		}
	}
}

// newSession stores a session for acct and returns it with its cookie
// token, plus the sessions evicted to keep the account under its cap.
func (m *Manager) newSession(acct Account, username string, now time.Time) (*Session, string, []Session) {
	raw := randomBytes(tokenBytes)
	token := base64.RawURLEncoding.EncodeToString(raw)
	e := &entry{
		s: Session{
			ID:       hex.EncodeToString(randomBytes(8)),
			Username: username,
			Name:     acct.Name,
			Language: acct.Language,
			CSRF:     base64.RawURLEncoding.EncodeToString(randomBytes(tokenBytes)),
			Tenants:  slices.Clone(acct.Tenants),
		},
		key:      sha256.Sum256(raw),
		created:  now,
		lastSeen: now,
		pwFP:     sha256.Sum256([]byte(acct.PasswordHash)),
	}
	clear(raw)
	m.mu.Lock()
	defer m.mu.Unlock()
	var evicted []Session
	for {
		var oldest *entry
		n := 0
		for _, o := range m.sessions {
			if o.s.Username != username {
				continue
			}
			n++
			if oldest == nil || o.lastSeen.Before(oldest.lastSeen) {
				oldest = o
			}
		}
		if n < maxSessionsPerUser {
			break
		}
		evicted = append(evicted, m.removeLocked(oldest, now))
	}
	m.sessions[e.key] = e
	m.byID[e.s.ID] = e
	return m.snapshotLocked(e), token, evicted
}

// cookieKey returns the SHA-256 of the request's session token.
func cookieKey(r *http.Request) ([32]byte, bool) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return [32]byte{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(raw) != tokenBytes {
		return [32]byte{}, false
	}
	return sha256.Sum256(raw), true
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return b
}

func safeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}
