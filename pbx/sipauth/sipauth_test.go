package sipauth

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"
)

const (
	realm    = "pbx.example.com"
	password = "s3cret!"
	uri      = "sip:pbx.example.com"
)

var t0 = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)

// clock is a settable clock for the Server under test.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestServer(t testing.TB) (*Server, *clock) {
	t.Helper()
	c := &clock{t: t0}
	return NewServer(realm, []byte("test secret"), time.Minute, c.now), c
}

// users: 100 has both algorithms, 200 only MD5, 300 only SHA-256.
func lookup(username string) (Credentials, bool) {
	both := Credentials{HA1MD5: HA1(MD5, username, realm, password), HA1SHA256: HA1(SHA256, username, realm, password)}
	switch username {
	case "100":
		return both, true
	case "200":
		return Credentials{HA1MD5: both.HA1MD5}, true
	case "300":
		return Credentials{HA1SHA256: both.HA1SHA256}, true
	}
	return Credentials{}, false
}

// answer plays a phone: it parses the challenge for algorithm and answers it
// with icholy/digest.
func answer(t testing.TB, s *Server, algorithm, username, pass string) string {
	t.Helper()
	chal := challengeFor(t, s, algorithm)
	cred, err := digest.Digest(chal, digest.Options{
		Method:   "REGISTER",
		URI:      uri,
		Username: username,
		Password: pass,
		Cnonce:   "0a4f113b",
		Count:    1,
	})
	if err != nil {
		t.Fatalf("digest.Digest: %v", err)
	}
	return cred.String()
}

func challengeFor(t testing.TB, s *Server, algorithm string) *digest.Challenge {
	t.Helper()
	hdrs := s.Challenge([]string{algorithm}, false)
	if len(hdrs) != 1 {
		t.Fatalf("Challenge returned %d headers, want 1", len(hdrs))
	}
	chal, err := digest.ParseChallenge(hdrs[0])
	if err != nil {
		t.Fatalf("ParseChallenge(%q): %v", hdrs[0], err)
	}
	return chal
}

func TestHA1(t *testing.T) {
	tests := []struct {
		alg, user, realm, pass, want string
	}{
		// RFC 2617 §3.5 and RFC 7616 §3.9.1.
		{MD5, "Mufasa", "testrealm@host.com", "Circle Of Life", "939e7578ed9e3c518a452acee763bce9"},
		{"md5", "Mufasa", "testrealm@host.com", "Circle Of Life", "939e7578ed9e3c518a452acee763bce9"},
		{SHA256, "Mufasa", "http-auth@example.org", "Circle of Life", "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232"},
		{"SHA-512", "Mufasa", "x", "y", ""},
		{"", "Mufasa", "x", "y", ""},
	}
	for _, tt := range tests {
		if got := HA1(tt.alg, tt.user, tt.realm, tt.pass); got != tt.want {
			t.Errorf("HA1(%q, %q, %q, %q) = %q, want %q", tt.alg, tt.user, tt.realm, tt.pass, got, tt.want)
		}
	}
}

// TestExpectedResponseRFCVectors pins the response computation to the
// published examples, independent of our nonces.
func TestExpectedResponseRFCVectors(t *testing.T) {
	tests := []struct {
		name, header, method, ha1, want string
	}{
		{
			"RFC 2617 3.5 MD5",
			`Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"`,
			"GET", HA1(MD5, "Mufasa", "testrealm@host.com", "Circle Of Life"),
			"6629fae49393a05397450978507c4ef1",
		},
		{
			"RFC 7616 3.9.1 SHA-256",
			`Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`,
			"GET", HA1(SHA256, "Mufasa", "http-auth@example.org", "Circle of Life"),
			"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
		},
	}
	for _, tt := range tests {
		cred, err := digest.ParseCredentials(tt.header)
		if err != nil {
			t.Fatalf("%s: ParseCredentials: %v", tt.name, err)
		}
		got, err := expectedResponse(cred, tt.method, tt.ha1)
		if err != nil || got != tt.want {
			t.Errorf("%s: got %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func TestChallenge(t *testing.T) {
	s, _ := newTestServer(t)
	hdrs := s.Challenge([]string{SHA256, MD5}, true)
	if len(hdrs) != 2 {
		t.Fatalf("got %d headers, want 2", len(hdrs))
	}
	var nonces []string
	for i, alg := range []string{SHA256, MD5} {
		if !strings.HasPrefix(hdrs[i], "Digest ") {
			t.Errorf("header %d = %q, want a Digest challenge", i, hdrs[i])
		}
		c, err := digest.ParseChallenge(hdrs[i])
		if err != nil {
			t.Fatalf("ParseChallenge(%q): %v", hdrs[i], err)
		}
		if c.Realm != realm || c.Algorithm != alg || !c.Stale || len(c.QOP) != 1 || c.QOP[0] != "auth" || c.Nonce == "" {
			t.Errorf("header %d = %+v, want realm %q, algorithm %s, stale, qop auth, a nonce", i, c, realm, alg)
		}
		nonces = append(nonces, c.Nonce)
	}
	if nonces[0] != nonces[1] {
		t.Errorf("nonces differ across algorithms: %q", nonces)
	}
	if next := challengeFor(t, s, MD5).Nonce; next == nonces[0] {
		t.Errorf("two challenges share nonce %q", next)
	}
	if got := s.Challenge(nil, false); len(got) != 1 || !strings.Contains(got[0], "algorithm=MD5") || strings.Contains(got[0], "stale") {
		t.Errorf("Challenge(nil, false) = %q, want one MD5 challenge without stale", got)
	}
	if s.Realm() != realm {
		t.Errorf("Realm() = %q, want %q", s.Realm(), realm)
	}
}

func TestVerify(t *testing.T) {
	s, _ := newTestServer(t)
	tests := []struct {
		name   string
		header string
		want   Result
	}{
		{"MD5 with qop", answer(t, s, MD5, "100", password), Result{Username: "100", OK: true}},
		{"SHA-256 with qop", answer(t, s, SHA256, "100", password), Result{Username: "100", OK: true}},
		{"MD5-only user, MD5", answer(t, s, MD5, "200", password), Result{Username: "200", OK: true}},
		{"SHA-256-only user, SHA-256", answer(t, s, SHA256, "300", password), Result{Username: "300", OK: true}},
		{"wrong password MD5", answer(t, s, MD5, "100", "guess"), Result{Username: "100", Reason: "bad response"}},
		{"wrong password SHA-256", answer(t, s, SHA256, "100", "guess"), Result{Username: "100", Reason: "bad response"}},
		{"unknown user", answer(t, s, MD5, "999", password), Result{Username: "999", Reason: "no such user"}},
		{"MD5-only user answers SHA-256", answer(t, s, SHA256, "200", password), Result{Username: "200", Reason: "algorithm unavailable"}},
		{"SHA-256-only user answers MD5", answer(t, s, MD5, "300", password), Result{Username: "300", Reason: "algorithm unavailable"}},
	}
	for _, tt := range tests {
		got := s.Verify("REGISTER", tt.header, lookup)
		tt.want.URI = uri
		if got != tt.want {
			t.Errorf("%s: Verify = %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

// TestVerifyNonceForEitherAlgorithm: a nonce from a SHA-256 challenge may be
// answered with MD5 and the other way round.
func TestVerifyNonceForEitherAlgorithm(t *testing.T) {
	s, _ := newTestServer(t)
	for _, pair := range [][2]string{{SHA256, MD5}, {MD5, SHA256}} {
		chal := challengeFor(t, s, pair[0])
		chal.Algorithm = pair[1]
		cred, err := digest.Digest(chal, digest.Options{Method: "INVITE", URI: "sip:0212345678@pbx.example.com", Username: "100", Password: password})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Verify("INVITE", cred.String(), lookup); !got.OK {
			t.Errorf("nonce of a %s challenge answered with %s: %+v", pair[0], pair[1], got)
		}
	}
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestVerifyHandComputed checks Verify against responses computed here with
// crypto/md5 alone, RFC 2617 style, with and without qop.
func TestVerifyHandComputed(t *testing.T) {
	s, _ := newTestServer(t)
	nonce := challengeFor(t, s, MD5).Nonce
	ha1 := md5hex("100:" + realm + ":" + password)
	ha2 := md5hex("REGISTER:" + uri)

	withQop := md5hex(ha1 + ":" + nonce + ":0000000a:abcdef:auth:" + ha2)
	h := fmt.Sprintf(`Digest username="100", realm="%s", nonce="%s", uri="%s", response="%s", algorithm=MD5, cnonce="abcdef", qop=auth, nc=0000000a`, realm, nonce, uri, withQop)
	if got := s.Verify("REGISTER", h, lookup); !got.OK {
		t.Errorf("qop=auth, nc=0000000a: %+v", got)
	}
	// Same response for another method must fail: the method is covered.
	if got := s.Verify("INVITE", h, lookup); got.OK || got.Reason != "bad response" {
		t.Errorf("qop=auth for another method: %+v, want bad response", got)
	}

	// RFC 2069 style, as old phones send it: no qop, no algorithm.
	noQop := md5hex(ha1 + ":" + nonce + ":" + ha2)
	h = fmt.Sprintf(`Digest username="100",realm="%s",nonce="%s",uri="%s",response="%s"`, realm, nonce, uri, noQop)
	if got := s.Verify("REGISTER", h, lookup); !got.OK {
		t.Errorf("no qop: %+v", got)
	}
	// Upper-case hex in the response is still the same number.
	h = fmt.Sprintf(`Digest username="100", realm="%s", nonce="%s", uri="%s", response="%s"`, realm, nonce, uri, strings.ToUpper(noQop))
	if got := s.Verify("REGISTER", h, lookup); !got.OK {
		t.Errorf("upper-case response: %+v", got)
	}
}

func TestVerifyNonce(t *testing.T) {
	s, clk := newTestServer(t)
	good := answer(t, s, MD5, "100", password)
	wrong := answer(t, s, MD5, "100", "guess")

	clk.t = t0.Add(time.Minute) // exactly ttl old: still fresh
	if got := s.Verify("REGISTER", good, lookup); !got.OK {
		t.Errorf("at ttl: %+v, want OK", got)
	}
	clk.t = t0.Add(time.Minute + time.Nanosecond)
	if got := s.Verify("REGISTER", good, lookup); got.OK || !got.Stale || got.Reason != "nonce expired" {
		t.Errorf("expired nonce, right password: %+v, want Stale", got)
	}
	if got := s.Verify("REGISTER", wrong, lookup); got.OK || got.Stale || got.Reason != "bad response" {
		t.Errorf("expired nonce, wrong password: %+v, want bad response and not stale", got)
	}
	// The clock stepping back more than ttl must not make old nonces valid forever.
	clk.t = t0.Add(-time.Minute - time.Nanosecond)
	if got := s.Verify("REGISTER", good, lookup); got.OK || !got.Stale {
		t.Errorf("nonce from the future: %+v, want Stale", got)
	}

	// Another server (another secret) does not know our nonces.
	clk.t = t0
	other := NewServer(realm, []byte("other secret"), time.Minute, clk.now)
	if got := other.Verify("REGISTER", good, lookup); got.OK || got.Reason != "unknown nonce" {
		t.Errorf("nonce of another secret: %+v, want unknown nonce", got)
	}
}

func TestVerifyTamperedNonce(t *testing.T) {
	s, _ := newTestServer(t)
	chal := challengeFor(t, s, MD5)
	for i := range len(chal.Nonce) {
		for _, c := range []byte{'A', 'z', '-', '_', '0'} {
			if chal.Nonce[i] == c {
				continue
			}
			tampered := *chal
			tampered.Nonce = chal.Nonce[:i] + string(c) + chal.Nonce[i+1:]
			// The client computes a correct response for the tampered nonce.
			cred, err := digest.Digest(&tampered, digest.Options{Method: "REGISTER", URI: uri, Username: "100", Password: password})
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Verify("REGISTER", cred.String(), lookup); got.OK || got.Reason != "unknown nonce" {
				t.Errorf("tampered nonce %q: %+v, want unknown nonce", tampered.Nonce, got)
			}
		}
	}
	for _, n := range []string{"", "x", "dcd98b7102dd2f0e8b11d0f600bfb0c093", strings.Repeat("A", 43), chal.Nonce + "AAAA", "!!!!" + chal.Nonce[4:]} {
		tampered := *chal
		tampered.Nonce = n
		cred, err := digest.Digest(&tampered, digest.Options{Method: "REGISTER", URI: uri, Username: "100", Password: password})
		if err != nil {
			t.Fatal(err)
		}
		want := "unknown nonce"
		if n == "" {
			want = "malformed"
		}
		if got := s.Verify("REGISTER", cred.String(), lookup); got.OK || got.Reason != want {
			t.Errorf("nonce %q: %+v, want %s", n, got, want)
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	s, _ := newTestServer(t)
	nonce := challengeFor(t, s, MD5).Nonce
	// A valid qop=auth answer to start from; each row breaks one thing.
	base := map[string]string{
		"username": `"100"`, "realm": `"` + realm + `"`, "nonce": `"` + nonce + `"`, "uri": `"` + uri + `"`,
		"response": `"` + strings.Repeat("0", 32) + `"`, "qop": "auth", "nc": "00000001", "cnonce": `"c"`,
	}
	build := func(change map[string]string) string {
		var parts []string
		for _, k := range []string{"username", "realm", "nonce", "uri", "response", "algorithm", "qop", "nc", "cnonce", "userhash"} {
			v, ok := change[k]
			if !ok {
				v = base[k]
			}
			if v != "" {
				parts = append(parts, k+"="+v)
			}
		}
		return "Digest " + strings.Join(parts, ", ")
	}
	tests := []struct {
		name, header, reason string
	}{
		{"empty", "", "malformed"},
		{"basic auth", "Basic MTAwOnNlY3JldA==", "malformed"},
		{"no params", "Digest ", "malformed"},
		{"garbage", "Digest ,,,==\"", "malformed"},
		{"unterminated quote", `Digest username="100`, "malformed"},
		{"bad nc", build(map[string]string{"nc": "zz"}), "malformed"},
		{"qop without nc", build(map[string]string{"nc": ""}), "malformed"},
		{"qop without cnonce", build(map[string]string{"cnonce": ""}), "malformed"},
		{"qop auth-int", build(map[string]string{"qop": "auth-int"}), "malformed"},
		{"userhash", build(map[string]string{"userhash": "true"}), "malformed"},
		{"no username", build(map[string]string{"username": ""}), "malformed"},
		{"no uri", build(map[string]string{"uri": ""}), "malformed"},
		{"no response", build(map[string]string{"response": ""}), "malformed"},
		{"realm mismatch", build(map[string]string{"realm": `"evil.example.com"`}), "realm mismatch"},
		{"no realm", build(map[string]string{"realm": ""}), "realm mismatch"},
		{"SHA-512", build(map[string]string{"algorithm": "SHA-512"}), "algorithm unavailable"},
		{"MD5-sess", build(map[string]string{"algorithm": "MD5-sess"}), "algorithm unavailable"},
		{"wrong response", build(nil), "bad response"},
	}
	for _, tt := range tests {
		got := s.Verify("REGISTER", tt.header, lookup)
		if got.OK || got.Stale || got.Reason != tt.reason {
			t.Errorf("%s: Verify(%q) = %+v, want reason %q", tt.name, tt.header, got, tt.reason)
		}
	}
}

// TestVerifyLookupCalls makes sure the user store is not asked about
// requests that fail before the credentials matter.
func TestVerifyLookupCalls(t *testing.T) {
	s, _ := newTestServer(t)
	calls := 0
	counting := func(u string) (Credentials, bool) { calls++; return lookup(u) }
	s.Verify("REGISTER", `Digest username="100", realm="evil", nonce="x", uri="sip:x", response="0"`, counting)
	if calls != 0 {
		t.Errorf("lookup called %d times for a realm mismatch, want 0", calls)
	}
	s.Verify("REGISTER", answer(t, s, MD5, "100", password), counting)
	if calls != 1 {
		t.Errorf("lookup called %d times for one valid header, want 1", calls)
	}
}

func TestNewServerDefaults(t *testing.T) {
	// Empty secret: a random one, so two servers do not accept each other's nonces.
	a := NewServer(realm, nil, 0, nil)
	b := NewServer(realm, nil, 0, nil)
	h := answer(t, a, MD5, "100", password)
	if got := a.Verify("REGISTER", h, lookup); !got.OK {
		t.Errorf("default server rejects its own answer: %+v", got)
	}
	if got := b.Verify("REGISTER", h, lookup); got.Reason != "unknown nonce" {
		t.Errorf("random secrets collide: %+v", got)
	}
	// The secret is copied: changing the caller's slice changes nothing.
	secret := []byte("shared")
	c := NewServer(realm, secret, time.Minute, nil)
	h = answer(t, c, MD5, "100", password)
	secret[0] = 'X'
	if got := c.Verify("REGISTER", h, lookup); !got.OK {
		t.Errorf("server changed by the caller's secret slice: %+v", got)
	}
}

func FuzzVerify(f *testing.F) {
	s, _ := newTestServer(f)
	f.Add("REGISTER", answer(f, s, MD5, "100", password))
	f.Add("INVITE", answer(f, s, SHA256, "100", password))
	f.Add("REGISTER", `Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1"`)
	f.Add("REGISTER", `Digest username="\"", realm="\\", nc=ffffffff`)
	f.Add("", "Digest ")
	f.Add("BYE", "")
	f.Fuzz(func(t *testing.T, method, header string) {
		got := s.Verify(method, header, lookup)
		if got.OK && (got.Stale || got.Reason != "") {
			t.Errorf("inconsistent result %+v", got)
		}
		if !got.OK && got.Reason == "" {
			t.Errorf("failure without a reason: %+v", got)
		}
		if got.Stale && got.Reason != "nonce expired" {
			t.Errorf("stale with reason %q", got.Reason)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	s, _ := newTestServer(b)
	creds, _ := lookup("100")
	// A map lookup, like the config snapshot pbx will use, so the HA1
	// computation in lookup does not count.
	users := map[string]Credentials{"100": creds}
	lookup := func(u string) (Credentials, bool) { c, ok := users[u]; return c, ok }
	for _, alg := range []string{MD5, SHA256} {
		h := answer(b, s, alg, "100", password)
		b.Run(alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if r := s.Verify("REGISTER", h, lookup); !r.OK {
					b.Fatalf("Verify: %+v", r)
				}
			}
		})
	}
}
