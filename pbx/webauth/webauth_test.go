package webauth

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

var t0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// accounts is a configuration that tests change under the Manager.
type accounts struct {
	mu sync.Mutex
	m  map[string]Account
}

func (a *accounts) lookup(u string) (Account, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	acct, ok := a.m[u]
	return acct, ok
}

func (a *accounts) set(acct Account) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.m[acct.Username] = acct
}

func (a *accounts) remove(u string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.m, u)
}

var hashes sync.Map // password → hash, bcrypt.MinCost

func hash(t testing.TB, pw string) string {
	t.Helper()
	if h, ok := hashes.Load(pw); ok {
		return h.(string)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	hashes.Store(pw, string(h))
	return string(h)
}

const (
	annaPW  = "correct horse battery staple"
	marcoPW = "Pa55word!"
	client  = "198.51.100.7:50000"
)

type env struct {
	t       *testing.T
	clk     *clock
	accts   *accounts
	m       *Manager
	h       http.Handler
	logs    *bytes.Buffer
	mu      sync.Mutex
	loggedO []Session // OnLogout calls
}

// trusted10 trusts the proxies in 10.0.0.0/8.
func trusted10(a netip.Addr) bool { return netip.MustParsePrefix("10.0.0.0/8").Contains(a) }

func newEnv(t *testing.T, tweak func(*Options)) *env {
	t.Helper()
	e := &env{
		t:     t,
		clk:   &clock{t: t0},
		accts: &accounts{m: map[string]Account{}},
		logs:  &bytes.Buffer{},
	}
	e.accts.set(Account{Username: "anna", Name: "Anna Bianchi", Tenants: []string{"rossi", "medici"}, PasswordHash: hash(t, annaPW), Language: "it"})
	e.accts.set(Account{Username: "marco", Name: "Marco Neri", Tenants: []string{"rossi"}, PasswordHash: hash(t, marcoPW)})
	o := Options{
		Lookup:      e.accts.lookup,
		TTL:         time.Hour,
		MaxFailures: 3,
		// The address limit equals the username's in these tests, so that
		// each case stays short; TestIPLimitDefault checks the default.
		IPMaxFailures: 3,
		LockFor:       10 * time.Minute,
		TrustedProxy:  trusted10,
		Now:           e.clk.Now,
		Log:           slog.New(slog.NewTextHandler(&lockedWriter{w: e.logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if tweak != nil {
		tweak(&o)
	}
	e.m = New(o)
	// The decoy for unknown usernames starts at bcrypt.DefaultCost until a
	// real hash is seen; tests use MinCost hashes throughout.
	e.m.decoyCost.Store(int32(bcrypt.MinCost))
	e.m.OnLogout(func(s *Session) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.loggedO = append(e.loggedO, *s)
	})
	mux := http.NewServeMux()
	e.m.Routes(mux)
	mux.Handle("/console/api/test", e.m.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, ok := FromContext(r.Context())
		if !ok {
			t.Error("no session in the context of a protected handler")
		}
		fmt.Fprintf(w, "%s %s", r.Method, s.Username)
	})))
	e.h = mux
	return e
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (e *env) logouts() []Session {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.loggedO)
}

// req describes one request to the handler.
type req struct {
	method, path, body string
	remote             string // default client
	cookie             string // session token
	csrf               string
	header             map[string]string
	tls                bool
	noContentType      bool
}

func (e *env) do(q req) *httptest.ResponseRecorder {
	e.t.Helper()
	r := httptest.NewRequest(q.method, q.path, strings.NewReader(q.body))
	r.RemoteAddr = client
	if q.remote != "" {
		r.RemoteAddr = q.remote
	}
	if q.body != "" && !q.noContentType {
		r.Header.Set("Content-Type", "application/json")
	}
	if q.cookie != "" {
		r.AddCookie(&http.Cookie{Name: CookieName, Value: q.cookie})
	}
	if q.csrf != "" {
		r.Header.Set("X-CSRF-Token", q.csrf)
	}
	for k, v := range q.header {
		r.Header.Set(k, v)
	}
	if q.tls {
		r.TLS = &tls.ConnectionState{}
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func loginBody(user, pw string) string {
	b, _ := json.Marshal(map[string]string{"username": user, "password": pw})
	return string(b)
}

func (e *env) login(user, pw string) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.do(req{method: "POST", path: "/console/api/login", body: loginBody(user, pw)})
}

func (e *env) loginFrom(remote, user, pw string) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.do(req{method: "POST", path: "/console/api/login", body: loginBody(user, pw), remote: remote})
}

// mustLogin logs in and returns the cookie's token and the CSRF token.
func (e *env) mustLogin(user, pw string) (string, string) {
	e.t.Helper()
	w := e.login(user, pw)
	if w.Code != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", user, w.Code, w.Body)
	}
	c := sessionCookie(e.t, w)
	var s sessionJSON
	if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil {
		e.t.Fatal(err)
	}
	return c.Value, s.CSRF
}

func sessionCookie(t *testing.T, w *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range w.Result().Cookies() {
		if c.Name == CookieName {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", CookieName, w.Header())
	return nil
}

func errorText(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("error Content-Type %q, want application/json", ct)
	}
	var body struct{ Error string }
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("error body %q: %v", w.Body, err)
	}
	return body.Error
}

func TestLogin(t *testing.T) {
	tests := []struct {
		name     string
		q        req
		code     int
		errText  string // "" on success
		wantUser string
	}{
		{"right password", req{body: loginBody("anna", annaPW)}, 200, "", "anna"},
		{"wrong password", req{body: loginBody("anna", "nope")}, 401, "wrong username or password", ""},
		{"unknown username", req{body: loginBody("ghost", annaPW)}, 401, "wrong username or password", ""},
		{"username is case-sensitive", req{body: loginBody("Anna", annaPW)}, 401, "wrong username or password", ""},
		{"empty body", req{body: "", header: map[string]string{"Content-Type": "application/json"}}, 400, "*", ""},
		{"not JSON", req{body: "username=anna&password=x"}, 400, "*", ""},
		{"form content type", req{body: loginBody("anna", annaPW), header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, 400, "*", ""},
		{"no content type", req{body: loginBody("anna", annaPW), noContentType: true}, 400, "*", ""},
		{"JSON with charset", req{body: loginBody("anna", annaPW), header: map[string]string{"Content-Type": "application/json; charset=utf-8"}}, 200, "", "anna"},
		{"trailing data", req{body: loginBody("anna", annaPW) + `{"x":1}`}, 400, "*", ""},
		{"missing password", req{body: `{"username":"anna"}`}, 400, "username and password are required", ""},
		{"wrong types", req{body: `{"username":1,"password":2}`}, 400, "*", ""},
		{"over 4 KiB", req{body: loginBody("anna", strings.Repeat("x", 4<<10))}, 400, "the body is over 4096 bytes", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(o *Options) { o.MaxFailures = 100 })
			tt.q.method, tt.q.path = "POST", "/console/api/login"
			w := e.do(tt.q)
			if w.Code != tt.code {
				t.Fatalf("status %d, want %d (%s)", w.Code, tt.code, w.Body)
			}
			if tt.code != 200 {
				if got := errorText(t, w); got == "" || (tt.errText != "*" && got != tt.errText) {
					t.Errorf("error %q, want %q", got, tt.errText)
				}
				for _, c := range w.Result().Cookies() {
					if c.Name == CookieName {
						t.Errorf("a failed login set the cookie")
					}
				}
				return
			}
			var s sessionJSON
			if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil {
				t.Fatal(err)
			}
			want := sessionJSON{Username: "anna", Name: "Anna Bianchi", Tenants: []string{"rossi", "medici"}, Language: "it", CSRF: s.CSRF, Expires: t0.Add(time.Hour)}
			if !equalJSON(s, want) || len(s.CSRF) < 40 {
				t.Errorf("login answer %+v, want %+v", s, want)
			}
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", cc)
			}
			c := sessionCookie(t, w)
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/console" || c.Secure {
				t.Errorf("cookie %+v: want HttpOnly, SameSite=Strict, Path=/console, not Secure over http", c)
			}
			if c.MaxAge != 0 || !c.Expires.IsZero() {
				t.Errorf("cookie %+v should be a browser-session cookie", c)
			}
			if len(c.Value) != 43 { // 32 bytes, base64url without padding
				t.Errorf("cookie token %d characters, want 43", len(c.Value))
			}
		})
	}
}

func equalJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func TestLoginMethodNotAllowed(t *testing.T) {
	e := newEnv(t, nil)
	if w := e.do(req{method: "GET", path: "/console/api/login"}); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET login: %d, want 405", w.Code)
	}
}

func TestTokensAreDistinctAndNotKept(t *testing.T) {
	e := newEnv(t, nil)
	tok1, csrf1 := e.mustLogin("anna", annaPW)
	tok2, csrf2 := e.mustLogin("anna", annaPW)
	if tok1 == tok2 || csrf1 == csrf2 || tok1 == csrf1 {
		t.Errorf("tokens repeat: %q %q %q %q", tok1, tok2, csrf1, csrf2)
	}
	e.m.mu.Lock()
	defer e.m.mu.Unlock()
	for k, en := range e.m.sessions {
		dump := fmt.Sprintf("%v %+v", k, *en)
		if strings.Contains(dump, tok1) || strings.Contains(dump, tok2) {
			t.Errorf("a session keeps its cookie token: %s", dump)
		}
	}
}

func TestSecureCookieFollowsHTTPS(t *testing.T) {
	tests := []struct {
		name   string
		remote string
		tls    bool
		proto  string
		secure bool
	}{
		{"plain http", client, false, "", false},
		{"direct TLS", client, true, "", true},
		{"trusted proxy says https", "10.1.2.3:40000", false, "https", true},
		{"trusted proxy says HTTPS", "10.1.2.3:40000", false, "HTTPS", true},
		{"trusted proxy says http", "10.1.2.3:40000", false, "http", false},
		{"trusted proxy, no header", "10.1.2.3:40000", false, "", false},
		{"trusted proxy, last value counts", "10.1.2.3:40000", false, "https, http", false},
		{"untrusted peer says https", client, false, "https", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			h := map[string]string{}
			if tt.proto != "" {
				h["X-Forwarded-Proto"] = tt.proto
			}
			w := e.do(req{method: "POST", path: "/console/api/login", body: loginBody("anna", annaPW), remote: tt.remote, tls: tt.tls, header: h})
			if w.Code != 200 {
				t.Fatalf("login: %d %s", w.Code, w.Body)
			}
			if c := sessionCookie(t, w); c.Secure != tt.secure {
				t.Errorf("login cookie Secure = %v, want %v", c.Secure, tt.secure)
			}
			var s sessionJSON
			json.Unmarshal(w.Body.Bytes(), &s)
			w = e.do(req{method: "POST", path: "/console/api/logout", cookie: sessionCookie(t, w).Value, csrf: s.CSRF, remote: tt.remote, tls: tt.tls, header: h})
			if w.Code != http.StatusNoContent {
				t.Fatalf("logout: %d %s", w.Code, w.Body)
			}
			if c := sessionCookie(t, w); c.Secure != tt.secure {
				t.Errorf("logout cookie Secure = %v, want %v", c.Secure, tt.secure)
			}
		})
	}
}

func TestSessionEndpoint(t *testing.T) {
	e := newEnv(t, nil)
	tok, csrf := e.mustLogin("anna", annaPW)
	tests := []struct {
		name   string
		cookie string
		code   int
	}{
		{"valid cookie", tok, 200},
		{"no cookie", "", 401},
		{"garbage cookie", "not-a-token", 401},
		{"unknown token", strings.Repeat("A", 43), 401},
		{"token of another length", tok + "AAAA", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(req{method: "GET", path: "/console/api/session", cookie: tt.cookie})
			if w.Code != tt.code {
				t.Fatalf("status %d, want %d", w.Code, tt.code)
			}
			if tt.code == 401 {
				if got := errorText(t, w); got != "not logged in" {
					t.Errorf("error %q", got)
				}
				if tt.cookie != "" && sessionCookie(t, w).MaxAge >= 0 {
					t.Error("a stale cookie was not cleared")
				}
				return
			}
			var s sessionJSON
			json.Unmarshal(w.Body.Bytes(), &s)
			if s.Username != "anna" || s.CSRF != csrf {
				t.Errorf("session %+v, want anna with the login's CSRF", s)
			}
		})
	}
}

func TestExpiry(t *testing.T) {
	type step struct {
		advance time.Duration
		code    int // of GET /console/api/session
	}
	tests := []struct {
		name    string
		maxAge  time.Duration
		steps   []step
		logouts int
	}{
		{"idle TTL", 0, []step{{59 * time.Minute, 200}, {59 * time.Minute, 200}, {time.Hour, 401}, {0, 401}}, 1},
		{"just before idle expiry", 0, []step{{time.Hour - time.Nanosecond, 200}}, 0},
		{"exactly at idle expiry", 0, []step{{time.Hour, 401}}, 1},
		// TTL 1h: the default absolute cap is 24h, however active.
		{"absolute cap", 0, append(repeat(step{50 * time.Minute, 200}, 28), step{50 * time.Minute, 401}), 1},
		{"MaxAge option", 3 * time.Hour, []step{{55 * time.Minute, 200}, {55 * time.Minute, 200}, {55 * time.Minute, 200}, {55 * time.Minute, 401}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(o *Options) { o.MaxAge = tt.maxAge })
			tok, _ := e.mustLogin("anna", annaPW)
			for i, s := range tt.steps {
				e.clk.Add(s.advance)
				w := e.do(req{method: "GET", path: "/console/api/session", cookie: tok})
				if w.Code != s.code {
					t.Fatalf("step %d (at +%s): status %d, want %d", i, e.clk.Now().Sub(t0), w.Code, s.code)
				}
				if s.code == 200 {
					var got sessionJSON
					json.Unmarshal(w.Body.Bytes(), &got)
					maxAge := tt.maxAge
					if maxAge == 0 {
						maxAge = 24 * time.Hour
					}
					want := e.clk.Now().Add(time.Hour)
					if abs := t0.Add(maxAge); abs.Before(want) {
						want = abs
					}
					if !got.Expires.Equal(want) {
						t.Errorf("step %d: expires %s, want %s", i, got.Expires, want)
					}
				}
			}
			if got := len(e.logouts()); got != tt.logouts {
				t.Errorf("OnLogout called %d times, want %d", got, tt.logouts)
			}
		})
	}
}

func repeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func TestDefaults(t *testing.T) {
	m := New(Options{Lookup: func(string) (Account, bool) { return Account{}, false }})
	if got := m.decoyCost.Load(); got != int32(bcrypt.DefaultCost) {
		t.Errorf("initial decoy cost %d, want bcrypt.DefaultCost", got)
	}
	if m.ttl != DefaultTTL || m.maxAge != 24*time.Hour || m.maxFailures != 5 || m.lockFor != 15*time.Minute {
		t.Errorf("defaults: ttl %s, maxAge %s, maxFailures %d, lockFor %s", m.ttl, m.maxAge, m.maxFailures, m.lockFor)
	}
	m = New(Options{Lookup: m.lookup, TTL: 20 * time.Hour})
	if m.maxAge != 40*time.Hour {
		t.Errorf("maxAge with TTL 20h = %s, want 40h", m.maxAge)
	}
}

func TestAccountChanges(t *testing.T) {
	tests := []struct {
		name   string
		change func(a *accounts)
		code   int
	}{
		{"removed", func(a *accounts) { a.remove("anna") }, 401},
		{"password changed", func(a *accounts) {
			acct, _ := a.lookup("anna")
			acct.PasswordHash = hash(t, "new password")
			a.set(acct)
		}, 401},
		{"other account removed", func(a *accounts) { a.remove("marco") }, 200},
		{"tenants and name changed", func(a *accounts) {
			acct, _ := a.lookup("anna")
			acct.Tenants, acct.Name, acct.Language = []string{"medici"}, "Anna B.", "en"
			a.set(acct)
		}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			tok, csrf := e.mustLogin("anna", annaPW)
			tt.change(e.accts)
			paths := []req{
				{method: "GET", path: "/console/api/session", cookie: tok},
				{method: "GET", path: "/console/api/test", cookie: tok},
				{method: "POST", path: "/console/api/test", cookie: tok, csrf: csrf},
			}
			for _, q := range paths {
				if w := e.do(q); w.Code != tt.code {
					t.Errorf("%s %s: %d, want %d", q.method, q.path, w.Code, tt.code)
				}
			}
			lo := e.logouts()
			if tt.code == 401 {
				if len(lo) != 1 || lo[0].Username != "anna" {
					t.Errorf("OnLogout calls %+v, want one for anna", lo)
				}
				return
			}
			if len(lo) != 0 {
				t.Errorf("OnLogout called: %+v", lo)
			}
			acct, _ := e.accts.lookup("anna")
			s, ok := e.m.Session(httptest.NewRequest("GET", "/console/api/session", nil).WithContext(t.Context()))
			if ok {
				t.Errorf("Session without a cookie: %+v", s)
			}
			r := httptest.NewRequest("GET", "/console/api/session", nil)
			r.AddCookie(&http.Cookie{Name: CookieName, Value: tok})
			s, ok = e.m.Session(r)
			if !ok || s.Name != acct.Name || !slices.Equal(s.Tenants, acct.Tenants) || s.Language != acct.Language {
				t.Errorf("Session = %+v, %v; want the account's current name, tenants and language", s, ok)
			}
		})
	}
}

func TestSweepFindsRemovedAccounts(t *testing.T) {
	e := newEnv(t, nil)
	e.mustLogin("anna", annaPW)
	e.mustLogin("anna", annaPW)
	e.mustLogin("marco", marcoPW)
	if n := e.m.Sessions(); n != 3 {
		t.Fatalf("Sessions() = %d, want 3", n)
	}
	e.accts.remove("anna")
	if n := e.m.Sessions(); n != 1 {
		t.Errorf("Sessions() after removing anna = %d, want 1", n)
	}
	if lo := e.logouts(); len(lo) != 2 || lo[0].Username != "anna" || lo[1].Username != "anna" {
		t.Errorf("OnLogout calls %+v, want two for anna", lo)
	}
	e.clk.Add(time.Hour)
	if n := e.m.Sessions(); n != 0 {
		t.Errorf("Sessions() after the TTL = %d, want 0", n)
	}
	if lo := e.logouts(); len(lo) != 3 || lo[2].Username != "marco" {
		t.Errorf("OnLogout calls %+v, want marco's last", lo)
	}
}

func TestRequire(t *testing.T) {
	tests := []struct {
		name   string
		method string
		cookie bool
		csrf   string // "right", "wrong", ""
		code   int
	}{
		{"GET with session", "GET", true, "", 200},
		{"HEAD with session", "HEAD", true, "", 200},
		{"GET without session", "GET", false, "", 401},
		{"POST without session", "POST", false, "right", 401},
		{"POST with CSRF", "POST", true, "right", 200},
		{"POST without CSRF", "POST", true, "", 403},
		{"POST with wrong CSRF", "POST", true, "wrong", 403},
		{"PUT without CSRF", "PUT", true, "", 403},
		{"PATCH with wrong CSRF", "PATCH", true, "wrong", 403},
		{"DELETE without CSRF", "DELETE", true, "", 403},
		{"DELETE with CSRF", "DELETE", true, "right", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			tok, csrf := e.mustLogin("anna", annaPW)
			// Another session's CSRF is a wrong one too.
			_, other := e.mustLogin("marco", marcoPW)
			q := req{method: tt.method, path: "/console/api/test"}
			if tt.cookie {
				q.cookie = tok
			}
			switch tt.csrf {
			case "right":
				q.csrf = csrf
			case "wrong":
				q.csrf = other
			}
			e.clk.Add(30 * time.Minute)
			w := e.do(q)
			if w.Code != tt.code {
				t.Fatalf("status %d, want %d (%s)", w.Code, tt.code, w.Body)
			}
			switch tt.code {
			case 200:
				if tt.method != "HEAD" && w.Body.String() != tt.method+" anna" {
					t.Errorf("handler saw %q", w.Body)
				}
			case 401:
				if got := errorText(t, w); got != "not logged in" {
					t.Errorf("error %q", got)
				}
			case 403:
				if got := errorText(t, w); got != "missing or wrong CSRF token" {
					t.Errorf("error %q", got)
				}
			}
		})
	}
}

// sessionID returns the ID of username's only session.
func sessionID(t *testing.T, m *Manager, username string) string {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	var ids []string
	for _, e := range m.sessions {
		if e.s.Username == username {
			ids = append(ids, e.s.ID)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("%s has %d sessions, want 1", username, len(ids))
	}
	return ids[0]
}

func TestCSRFFailureDoesNotExtend(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.mustLogin("anna", annaPW)
	e.clk.Add(50 * time.Minute)
	if w := e.do(req{method: "POST", path: "/console/api/test", cookie: tok, csrf: "forged"}); w.Code != 403 {
		t.Fatalf("forged CSRF: %d", w.Code)
	}
	e.clk.Add(10 * time.Minute)
	if w := e.do(req{method: "GET", path: "/console/api/test", cookie: tok}); w.Code != 401 {
		t.Errorf("a request refused for CSRF extended the session: %d", w.Code)
	}
}

func TestTouch(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.mustLogin("anna", annaPW)
	id := sessionID(t, e.m, "anna")
	e.clk.Add(50 * time.Minute)
	s, ok := e.m.Touch(id)
	if !ok || s.Username != "anna" || !s.Expires.Equal(e.clk.Now().Add(time.Hour)) {
		t.Fatalf("Touch = %+v, %v", s, ok)
	}
	e.clk.Add(50 * time.Minute)
	if w := e.do(req{method: "GET", path: "/console/api/session", cookie: tok}); w.Code != 200 {
		t.Errorf("session after Touch: %d", w.Code)
	}
	if _, ok := e.m.Touch("nope"); ok {
		t.Error("Touch of an unknown id succeeded")
	}
	e.clk.Add(time.Hour)
	if _, ok := e.m.Touch(id); ok {
		t.Error("Touch of an expired session succeeded")
	}
	if lo := e.logouts(); len(lo) != 1 || lo[0].ID != id {
		t.Errorf("OnLogout calls %+v", lo)
	}
}

func TestLogout(t *testing.T) {
	e := newEnv(t, nil)
	tok, csrf := e.mustLogin("anna", annaPW)
	other, _ := e.mustLogin("anna", annaPW) // another browser

	if w := e.do(req{method: "POST", path: "/console/api/logout", cookie: tok}); w.Code != 403 {
		t.Fatalf("logout without CSRF: %d, want 403", w.Code)
	}
	if w := e.do(req{method: "GET", path: "/console/api/logout", cookie: tok, csrf: csrf}); w.Code != 405 {
		t.Errorf("GET logout: %d, want 405", w.Code)
	}
	if len(e.logouts()) != 0 {
		t.Fatal("a refused logout ended the session")
	}
	w := e.do(req{method: "POST", path: "/console/api/logout", cookie: tok, csrf: csrf})
	if w.Code != http.StatusNoContent || w.Body.Len() != 0 {
		t.Fatalf("logout: %d %q, want 204 and no body", w.Code, w.Body)
	}
	if c := sessionCookie(t, w); c.MaxAge >= 0 || c.Value != "" || c.Path != "/console" || !c.HttpOnly {
		t.Errorf("logout cookie %+v does not clear the session cookie", c)
	}
	if lo := e.logouts(); len(lo) != 1 || lo[0].Username != "anna" || lo[0].CSRF != csrf {
		t.Errorf("OnLogout calls %+v", lo)
	}
	if w := e.do(req{method: "GET", path: "/console/api/session", cookie: tok}); w.Code != 401 {
		t.Errorf("session after logout: %d", w.Code)
	}
	if w := e.do(req{method: "POST", path: "/console/api/logout", cookie: tok, csrf: csrf}); w.Code != 401 {
		t.Errorf("second logout: %d, want 401", w.Code)
	}
	if w := e.do(req{method: "GET", path: "/console/api/session", cookie: other}); w.Code != 200 {
		t.Errorf("the other browser's session ended too: %d", w.Code)
	}
}

func TestLoginReplacesTheBrowsersSession(t *testing.T) {
	e := newEnv(t, nil)
	old, _ := e.mustLogin("anna", annaPW)
	w := e.do(req{method: "POST", path: "/console/api/login", body: loginBody("marco", marcoPW), cookie: old})
	if w.Code != 200 {
		t.Fatalf("login: %d", w.Code)
	}
	if sessionCookie(t, w).Value == old {
		t.Error("login kept the old token")
	}
	if w := e.do(req{method: "GET", path: "/console/api/session", cookie: old}); w.Code != 401 {
		t.Errorf("old session still valid: %d", w.Code)
	}
	if lo := e.logouts(); len(lo) != 1 || lo[0].Username != "anna" {
		t.Errorf("OnLogout calls %+v", lo)
	}
}

func TestSessionsPerUserCap(t *testing.T) {
	e := newEnv(t, nil)
	var first string
	for i := range maxSessionsPerUser + 5 {
		tok, _ := e.mustLogin("anna", annaPW)
		if i == 0 {
			first = tok
		}
		e.clk.Add(time.Second)
	}
	e.mustLogin("marco", marcoPW)
	if n := e.m.Sessions(); n != maxSessionsPerUser+1 {
		t.Errorf("Sessions() = %d, want %d", n, maxSessionsPerUser+1)
	}
	if n := len(e.logouts()); n != 5 {
		t.Errorf("%d sessions evicted, want 5", n)
	}
	if w := e.do(req{method: "GET", path: "/console/api/session", cookie: first}); w.Code != 401 {
		t.Errorf("the oldest session survived: %d", w.Code)
	}
}

// attempt is one login in a lock-out scenario.
type attempt struct {
	advance time.Duration
	remote  string
	user    string
	right   bool
	code    int
}

func TestLockout(t *testing.T) {
	a := func(remote, user string, right bool, code int) attempt {
		return attempt{remote: remote, user: user, right: right, code: code}
	}
	later := func(d time.Duration, at attempt) attempt { at.advance = d; return at }
	const ip1, ip2, ip3, ip4 = "192.0.2.1:1000", "192.0.2.2:1000", "192.0.2.3:1000", "192.0.2.4:1000"
	tests := []struct {
		name     string
		attempts []attempt
	}{
		{"per username, from different addresses", []attempt{
			a(ip1, "anna", false, 401), a(ip2, "anna", false, 401), a(ip3, "anna", false, 401),
			a(ip4, "anna", true, 429), // even with the right password
			a(ip4, "marco", true, 200),
			later(10*time.Minute-time.Second, a(ip4, "anna", true, 429)),
			later(time.Second, a(ip4, "anna", true, 200)),
		}},
		{"per address, with different usernames", []attempt{
			a(ip1, "anna", false, 401), a(ip1, "marco", false, 401), a(ip1, "ghost", false, 401),
			a(ip1, "marco", true, 429),
			a(ip2, "marco", true, 200),
			a(ip2, "anna", true, 200),
			later(10*time.Minute, a(ip1, "marco", true, 200)),
		}},
		{"unknown usernames lock out too", []attempt{
			a(ip1, "ghost", false, 401), a(ip2, "ghost", false, 401), a(ip3, "ghost", false, 401),
			a(ip4, "ghost", false, 429),
		}},
		{"a success resets the username's counter", []attempt{
			a(ip1, "anna", false, 401), a(ip2, "anna", false, 401),
			a(ip3, "anna", true, 200),
			a(ip1, "anna", false, 401), a(ip2, "anna", false, 401),
			a(ip4, "anna", true, 200),
		}},
		{"a success does not reset the address's counter", []attempt{
			a(ip1, "ghost", false, 401), a(ip1, "nobody", false, 401),
			a(ip1, "anna", true, 200),
			a(ip1, "x", false, 401),
			a(ip1, "anna", true, 429),
		}},
		{"failures outside the window do not add up", []attempt{
			a(ip1, "anna", false, 401), a(ip2, "anna", false, 401),
			later(10*time.Minute, a(ip3, "anna", false, 401)),
			a(ip4, "anna", false, 401),
			a(ip4, "anna", true, 200),
		}},
		{"locked attempts do not extend the lock", []attempt{
			a(ip1, "anna", false, 401), a(ip2, "anna", false, 401), a(ip3, "anna", false, 401),
			later(5*time.Minute, a(ip4, "anna", false, 429)),
			later(5*time.Minute, a(ip4, "anna", true, 200)),
		}},
		{"IPv6 counts by /64", []attempt{
			a("[2001:db8:1:2::1]:1000", "a", false, 401),
			a("[2001:db8:1:2::2]:1000", "b", false, 401),
			a("[2001:db8:1:2:ffff::3]:1000", "c", false, 401),
			a("[2001:db8:1:2::4]:1000", "anna", true, 429),
			a("[2001:db8:1:3::1]:1000", "anna", true, 200),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			for i, at := range tt.attempts {
				e.clk.Add(at.advance)
				pw := "wrong"
				if at.right {
					pw = map[string]string{"anna": annaPW, "marco": marcoPW}[at.user]
				}
				w := e.loginFrom(at.remote, at.user, pw)
				if w.Code != at.code {
					t.Fatalf("attempt %d (%s %s right=%v): %d, want %d (%s)", i, at.remote, at.user, at.right, w.Code, at.code, w.Body)
				}
				if at.code == 429 {
					ra := w.Header().Get("Retry-After")
					if ra == "" || ra == "0" {
						t.Errorf("attempt %d: Retry-After %q", i, ra)
					}
					if got := errorText(t, w); !strings.HasPrefix(got, "too many failed logins; try again in ") {
						t.Errorf("attempt %d: error %q", i, got)
					}
				}
			}
		})
	}
}

func TestLockoutAnswer(t *testing.T) {
	e := newEnv(t, nil)
	for range 3 {
		e.login("anna", "wrong")
	}
	tests := []struct {
		advance time.Duration
		after   string
		text    string
	}{
		{0, "600", "too many failed logins; try again in 10 minutes"},
		{4*time.Minute + 30*time.Second, "330", "too many failed logins; try again in 6 minutes"},
		{5 * time.Minute, "30", "too many failed logins; try again in 1 minute"},
		{29*time.Second + 500*time.Millisecond, "1", "too many failed logins; try again in 1 minute"},
	}
	for _, tt := range tests {
		e.clk.Add(tt.advance)
		w := e.login("anna", annaPW)
		if w.Code != 429 || w.Header().Get("Retry-After") != tt.after || errorText(t, w) != tt.text {
			t.Errorf("at +%s: %d Retry-After %q %s; want 429 %q %q", e.clk.Now().Sub(t0), w.Code, w.Header().Get("Retry-After"), w.Body, tt.after, tt.text)
		}
	}
}

func TestConcurrentGuessesCannotOvershoot(t *testing.T) {
	e := newEnv(t, nil)
	var wg sync.WaitGroup
	codes := make(chan int, 50)
	for i := range 50 {
		wg.Go(func() {
			codes <- e.loginFrom(fmt.Sprintf("192.0.2.%d:1000", i+1), "anna", "guess").Code
		})
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[401] != 3 || count[429] != 47 {
		t.Errorf("answers %v, want 3×401 and 47×429", count)
	}
}

func TestClientIP(t *testing.T) {
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"direct", "198.51.100.7:5000", nil, "198.51.100.7"},
		{"untrusted peer's header ignored", "198.51.100.7:5000", []string{"203.0.113.5"}, "198.51.100.7"},
		{"trusted proxy", "10.0.0.1:5000", []string{"203.0.113.5"}, "203.0.113.5"},
		{"trusted proxy, no header", "10.0.0.1:5000", nil, "10.0.0.1"},
		{"chain of trusted proxies", "10.0.0.1:5000", []string{"203.0.113.5, 10.0.0.2"}, "203.0.113.5"},
		{"spoofed left entries ignored", "10.0.0.1:5000", []string{"1.1.1.1, 203.0.113.5"}, "203.0.113.5"},
		{"several header lines", "10.0.0.1:5000", []string{"1.1.1.1", "203.0.113.5, 10.0.0.9"}, "203.0.113.5"},
		{"only trusted hops", "10.0.0.1:5000", []string{"10.9.9.9, 10.0.0.2"}, "10.9.9.9"},
		{"malformed entry stops the walk", "10.0.0.1:5000", []string{"203.0.113.5, garbage"}, "10.0.0.1"},
		{"malformed behind a good one", "10.0.0.1:5000", []string{"garbage, 203.0.113.5"}, "203.0.113.5"},
		{"entry with port", "10.0.0.1:5000", []string{"203.0.113.5:4711"}, "203.0.113.5"},
		{"IPv6 entry", "10.0.0.1:5000", []string{"[2001:db8::5]:4711"}, "2001:db8::5"},
		{"bare IPv6 entry", "10.0.0.1:5000", []string{"2001:db8::5"}, "2001:db8::5"},
		{"IPv6 peer", "[2001:db8::1]:5000", nil, "2001:db8::1"},
		{"IPv4-mapped peer", "[::ffff:10.0.0.1]:5000", []string{"203.0.113.5"}, "203.0.113.5"},
		{"unreadable peer", "pipe", []string{"203.0.113.5"}, "invalid IP"},
	}
	e := newEnv(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := e.m.ClientIP(r).String(); got != tt.want {
				t.Errorf("ClientIP = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestLockoutBehindProxy(t *testing.T) {
	e := newEnv(t, nil)
	proxied := func(clientIP, user, pw string) int {
		return e.do(req{method: "POST", path: "/console/api/login", body: loginBody(user, pw),
			remote: "10.0.0.1:40000", header: map[string]string{"X-Forwarded-For": clientIP}}).Code
	}
	for _, u := range []string{"a", "b", "c"} {
		if c := proxied("203.0.113.5", u, "x"); c != 401 {
			t.Fatalf("failure: %d", c)
		}
	}
	if c := proxied("203.0.113.5", "anna", annaPW); c != 429 {
		t.Errorf("the guessing client behind the proxy: %d, want 429", c)
	}
	if c := proxied("203.0.113.6", "anna", annaPW); c != 200 {
		t.Errorf("another client behind the same proxy: %d, want 200", c)
	}
	// An untrusted peer cannot dodge the lock by inventing addresses.
	for i := range 3 {
		e.do(req{method: "POST", path: "/console/api/login", body: loginBody("x", "x"),
			remote: "198.51.100.9:1", header: map[string]string{"X-Forwarded-For": fmt.Sprintf("203.0.113.%d", 100+i)}})
	}
	w := e.do(req{method: "POST", path: "/console/api/login", body: loginBody("anna", annaPW),
		remote: "198.51.100.9:1", header: map[string]string{"X-Forwarded-For": "203.0.113.200"}})
	if w.Code != 429 {
		t.Errorf("untrusted peer with a made-up X-Forwarded-For: %d, want 429", w.Code)
	}
}

func TestTrackerBounded(t *testing.T) {
	tr := newTracker(3, 2, time.Minute)
	tr.attempt("locked", t0)
	tr.attempt("locked", t0) // locked until t0+1m
	tr.attempt("old", t0.Add(time.Second))
	tr.attempt("new", t0.Add(2*time.Second))
	tr.attempt("newest", t0.Add(3*time.Second)) // full: the oldest unlocked goes
	if _, ok := tr.m["old"]; ok || len(tr.m) != 3 || tr.lockedFor("locked", t0.Add(3*time.Second)) == 0 {
		t.Errorf("after eviction: %v", keys(tr.m))
	}
	tr.attempt("later", t0.Add(2*time.Minute)) // all stale: pruned
	if len(tr.m) != 1 {
		t.Errorf("after prune: %v", keys(tr.m))
	}
	// All locked: the oldest lock goes.
	tr = newTracker(2, 1, time.Minute)
	tr.attempt("a", t0)
	tr.attempt("b", t0.Add(time.Second))
	tr.attempt("c", t0.Add(2*time.Second))
	if got := keys(tr.m); !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("all locked: kept %v, want [b c]", got)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestLogsNoSecrets(t *testing.T) {
	e := newEnv(t, nil)
	e.login("anna", "a wrong secret")
	e.login("ghost", "another secret")
	tok, csrf := e.mustLogin("anna", annaPW)
	e.do(req{method: "POST", path: "/console/api/test", cookie: tok, csrf: "forged-csrf"})
	e.do(req{method: "POST", path: "/console/api/logout", cookie: tok, csrf: csrf})
	for range 3 {
		e.login("marco", "third secret")
	}
	e.login("marco", marcoPW)
	logs := e.logs.String()
	for _, secret := range []string{"a wrong secret", "another secret", annaPW, marcoPW, "third secret", tok, csrf, "forged-csrf", hash(t, annaPW)} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains %q:\n%s", secret, logs)
		}
	}
	for _, want := range []string{
		`msg="console login failed" username=anna ip=198.51.100.7 why="wrong password"`,
		`msg="console login failed" username=ghost ip=198.51.100.7 why="unknown username"`,
		`msg="console login" username=anna ip=198.51.100.7`,
		`msg="console logout" username=anna`,
		`msg="console logins locked out" username=marco`,
		`msg="console login refused: locked out" username=marco`,
		`msg="console request without a valid CSRF token" username=anna`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
	}
}

func TestDecoyCostFollowsRealHashes(t *testing.T) {
	e := newEnv(t, nil)
	e.m.decoyCost.Store(int32(bcrypt.DefaultCost))
	e.login("anna", "wrong")
	if got := e.m.decoyCost.Load(); got != int32(bcrypt.MinCost) {
		t.Errorf("decoy cost after a real account's login %d, want %d", got, bcrypt.MinCost)
	}
	if c, err := bcrypt.Cost(decoyHash(bcrypt.MinCost)); err != nil || c != bcrypt.MinCost {
		t.Errorf("decoy hash cost %d, %v", c, err)
	}
}

func TestAccountWithoutHash(t *testing.T) {
	e := newEnv(t, nil)
	e.accts.set(Account{Username: "nohash", Name: "No Hash"})
	w := e.login("nohash", "anything")
	if w.Code != 401 || errorText(t, w) != "wrong username or password" {
		t.Errorf("login of an account without a hash: %d %s", w.Code, w.Body)
	}
	if !strings.Contains(e.logs.String(), "no valid bcrypt password hash") {
		t.Errorf("the log does not say why:\n%s", e.logs)
	}
}

// An office behind one NAT address shares it: by default the address may
// fail four times as often as one username before it is locked.
func TestIPLimitDefault(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.IPMaxFailures = 0 })
	for i := range 3*IPFailuresFactor - 1 {
		if c := e.loginFrom("192.0.2.1:1000", fmt.Sprintf("user%d", i), "x").Code; c != 401 {
			t.Fatalf("failure %d: %d, want 401", i, c)
		}
	}
	if c := e.loginFrom("192.0.2.1:1000", "anna", annaPW).Code; c != 200 {
		t.Errorf("a colleague after %d failures from the address: %d, want 200", 3*IPFailuresFactor-1, c)
	}
	e.loginFrom("192.0.2.1:1000", "userX", "x")
	if c := e.loginFrom("192.0.2.1:1000", "marco", marcoPW).Code; c != 429 {
		t.Errorf("after %d failures from the address: %d, want 429", 3*IPFailuresFactor, c)
	}
}
