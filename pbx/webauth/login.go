package webauth

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// maxLoginBody bounds the login request's body.
const maxLoginBody = 4 << 10

// errWrongCredentials is the same for an unknown username and a wrong
// password, so the answer does not tell which.
const errWrongCredentials = "wrong username or password"

// Routes registers the login, session and logout endpoints of
// docs/console-protocol.md on mux.
func (m *Manager) Routes(mux *http.ServeMux) {
	mux.HandleFunc("POST /console/api/login", m.handleLogin)
	mux.HandleFunc("GET /console/api/session", m.handleSession)
	mux.Handle("POST /console/api/logout", m.Require(http.HandlerFunc(m.handleLogout)))
}

// sessionJSON is the answer to login and to GET session.
type sessionJSON struct {
	Username string    `json:"username"`
	Name     string    `json:"name"`
	Tenants  []string  `json:"tenants"`
	Language string    `json:"language,omitempty"`
	CSRF     string    `json:"csrf"`
	Expires  time.Time `json:"expires"`
}

func toJSON(s *Session) sessionJSON {
	t := s.Tenants
	if t == nil {
		t = []string{}
	}
	return sessionJSON{Username: s.Username, Name: s.Name, Tenants: t, Language: s.Language, CSRF: s.CSRF, Expires: s.Expires}
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (m *Manager) handleLogin(w http.ResponseWriter, r *http.Request) {
	req, msg := readLogin(w, r)
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	now := m.now()
	ip := m.ClientIP(r)
	ipk := ipKey(ip)

	// The attempt is counted before the password is checked (and given
	// back on success), so that concurrent guesses cannot overshoot
	// MaxFailures while bcrypt runs.
	m.mu.Lock()
	expired := m.maybeSweepLocked(now)
	wait := max(m.users.lockedFor(req.Username, now), m.ips.lockedFor(ipk, now))
	var userLocked, ipLocked bool
	if wait == 0 {
		userLocked = m.users.attempt(req.Username, now)
		ipLocked = m.ips.attempt(ipk, now)
	}
	m.mu.Unlock()
	m.ended(expired, "expired")
	if wait > 0 {
		m.log.Warn("console login refused: locked out", "username", req.Username, "ip", ip.String(),
			"retry_after", wait.Round(time.Second).String())
		tooManyFailures(w, wait)
		return
	}

	acct, known := m.lookup(req.Username)
	hash := []byte(acct.PasswordHash)
	if known {
		if c, err := bcrypt.Cost(hash); err == nil {
			m.decoyCost.Store(int32(c))
		}
	} else {
		// Same work as for a real account, so the time taken does not
		// tell whether the username exists.
		hash = decoyHash(int(m.decoyCost.Load()))
	}
	select {
	case m.bcryptSlots <- struct{}{}:
	case <-r.Context().Done():
		return
	}
	err := bcrypt.CompareHashAndPassword(hash, []byte(req.Password))
	<-m.bcryptSlots

	if !known || err != nil {
		why := "wrong password"
		switch {
		case !known:
			why = "unknown username"
		case !errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			why = "the account has no valid bcrypt password hash"
		}
		m.log.Warn("console login failed", "username", req.Username, "ip", ip.String(), "why", why)
		if userLocked || ipLocked {
			m.log.Warn("console logins locked out", "username", req.Username, "ip", ip.String(),
				"username_locked", userLocked, "ip_locked", ipLocked, "for", m.lockFor.String())
		}
		writeError(w, http.StatusUnauthorized, errWrongCredentials)
		return
	}

	m.mu.Lock()
	m.users.reset(req.Username)
	m.ips.undo(ipk)
	m.mu.Unlock()

	// A new token at every login (no session fixation); the session the
	// browser had, if any, ends.
	if key, ok := cookieKey(r); ok {
		m.mu.Lock()
		var old []Session
		if e := m.sessions[key]; e != nil {
			old = append(old, m.removeLocked(e, now))
		}
		m.mu.Unlock()
		m.ended(old, "replaced by a new login")
	}
	s, token, evicted := m.newSession(acct, req.Username, now)
	m.ended(evicted, "too many sessions for the account")
	m.log.Info("console login", "username", s.Username, "ip", ip.String(), "session", s.ID)
	m.setCookie(w, r, token)
	writeJSON(w, http.StatusOK, toJSON(s))
}

// readLogin decodes the body, or returns what is wrong with it.
func readLogin(w http.ResponseWriter, r *http.Request) (loginRequest, string) {
	var req loginRequest
	const usage = `the body must be JSON: {"username": "…", "password": "…"}`
	// Asking for JSON also keeps other sites from posting a login form
	// (a cross-site fetch with this type needs a CORS preflight).
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return req, usage + " (Content-Type: application/json)"
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxLoginBody))
	if err := dec.Decode(&req); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return req, fmt.Sprintf("the body is over %d bytes", maxLoginBody)
		}
		return req, usage
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return req, usage
	}
	if req.Username == "" || req.Password == "" {
		return req, "username and password are required"
	}
	return req, ""
}

func (m *Manager) handleSession(w http.ResponseWriter, r *http.Request) {
	s, ok := m.Session(r)
	if !ok {
		if _, err := r.Cookie(CookieName); err == nil {
			m.clearCookie(w, r)
		}
		writeError(w, http.StatusUnauthorized, "not logged in")
		return
	}
	writeJSON(w, http.StatusOK, toJSON(s))
}

func (m *Manager) handleLogout(w http.ResponseWriter, r *http.Request) {
	s, _ := FromContext(r.Context())
	now := m.now()
	m.mu.Lock()
	var out []Session
	if e := m.byID[s.ID]; e != nil {
		out = append(out, m.removeLocked(e, now))
	}
	m.mu.Unlock()
	m.log.Info("console logout", "username", s.Username, "ip", m.ClientIP(r).String(), "session", s.ID)
	m.ended(out, "logout")
	m.clearCookie(w, r)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

func (m *Manager) setCookie(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: token, Path: cookiePath,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: m.IsHTTPS(r),
	})
}

func (m *Manager) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: CookieName, Value: "", Path: cookiePath, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: m.IsHTTPS(r),
	})
}

func tooManyFailures(w http.ResponseWriter, wait time.Duration) {
	secs := int(math.Ceil(wait.Seconds()))
	mins := (secs + 59) / 60
	unit := "minutes"
	if mins == 1 {
		unit = "minute"
	}
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	writeError(w, http.StatusTooManyRequests, fmt.Sprintf("too many failed logins; try again in %d %s", mins, unit))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	// Answers carry the CSRF token: no cache may keep them.
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// ipKey is what failed logins are counted by: the address, or for IPv6
// its /64, since one host usually holds a whole /64.
func ipKey(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "unknown"
	case a.Is4():
		return a.String()
	default:
		p, _ := a.Prefix(64)
		return p.String()
	}
}

// decoys caches one bcrypt hash per cost for the comparison run for
// unknown usernames.
var decoys sync.Map // int → []byte

func decoyHash(cost int) []byte {
	if h, ok := decoys.Load(cost); ok {
		return h.([]byte)
	}
	h, err := bcrypt.GenerateFromPassword([]byte("not a password of anyone"), cost)
	if err != nil {
		h, _ = bcrypt.GenerateFromPassword([]byte("not a password of anyone"), bcrypt.DefaultCost)
	}
	decoys.Store(cost, h)
	return h
}

// failures counts one key's failed logins in a window of lockFor that
// starts at the first one.
type failures struct {
	n     int
	start time.Time // first failure of the window
	until time.Time // locked until then; zero when not locked
}

// tracker counts failed logins by key (username or address), keeping at
// most max keys. Its user holds the lock.
type tracker struct {
	max         int
	maxFailures int
	lockFor     time.Duration
	m           map[string]*failures
}

func newTracker(max, maxFailures int, lockFor time.Duration) *tracker {
	return &tracker{max: max, maxFailures: maxFailures, lockFor: lockFor, m: make(map[string]*failures)}
}

// lockedFor returns how long k stays locked out, 0 if it is not.
func (t *tracker) lockedFor(k string, now time.Time) time.Duration {
	f := t.m[k]
	if f == nil || !now.Before(f.until) {
		return 0
	}
	return f.until.Sub(now)
}

// attempt counts one attempt of k as failed and reports whether k is now
// locked out.
func (t *tracker) attempt(k string, now time.Time) bool {
	f := t.m[k]
	if f == nil {
		t.makeRoom(now)
		f = &failures{}
		t.m[k] = f
	}
	if f.n == 0 || !now.Before(f.start.Add(t.lockFor)) {
		*f = failures{start: now}
	}
	f.n++
	if f.n >= t.maxFailures {
		f.until = now.Add(t.lockFor)
	}
	return !f.until.IsZero()
}

// undo takes back an attempt that turned out right.
func (t *tracker) undo(k string) {
	f := t.m[k]
	if f == nil {
		return
	}
	f.n--
	if f.n < t.maxFailures {
		f.until = time.Time{}
	}
	if f.n <= 0 {
		delete(t.m, k)
	}
}

func (t *tracker) reset(k string) { delete(t.m, k) }

func (t *tracker) stale(f *failures, now time.Time) bool {
	return !now.Before(f.until) && !now.Before(f.start.Add(t.lockFor))
}

// prune forgets the keys neither locked nor in a window.
func (t *tracker) prune(now time.Time) {
	for k, f := range t.m {
		if t.stale(f, now) {
			delete(t.m, k)
		}
	}
}

// makeRoom keeps the tracker under max keys: stale keys go first, then
// the oldest unlocked window, then (all locked) the oldest lock.
func (t *tracker) makeRoom(now time.Time) {
	if len(t.m) < t.max {
		return
	}
	t.prune(now)
	if len(t.m) < t.max {
		return
	}
	var victim string
	var vf *failures
	for k, f := range t.m {
		locked := now.Before(f.until)
		switch {
		case vf == nil:
		case now.Before(vf.until) && !locked:
		case locked == now.Before(vf.until) && f.start.Before(vf.start):
		default:
			continue
		}
		victim, vf = k, f
	}
	delete(t.m, victim)
}
