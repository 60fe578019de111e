// Package sipauth authenticates SIP requests with server-side digest (RFC 3261 §22, RFC 2617 qop=auth, RFC 8760 SHA-256).
package sipauth

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"strings"
	"time"

	"github.com/icholy/digest"
)

// Algorithms, spelled as in the algorithm= parameter.
const (
	MD5    = "MD5"
	SHA256 = "SHA-256"
)

// defaultTTL applies when NewServer gets no usable ttl: long enough for a
// phone to answer a challenge, short enough to limit replays.
const defaultTTL = 5 * time.Minute

// Credentials are what the server stores for a user: never the password.
type Credentials struct {
	HA1MD5    string // lower-case hex of MD5(username:realm:password); "" = MD5 not available
	HA1SHA256 string // lower-case hex of SHA-256(username:realm:password); "" = SHA-256 not available
}

// HA1 returns the hex of H(username:realm:password) for algorithm (MD5 or
// SHA-256, any case), or "" for any other algorithm.
func HA1(algorithm, username, realm, password string) string {
	h := newHash(algorithm)
	if h == nil {
		return ""
	}
	h.Write([]byte(username + ":" + realm + ":" + password))
	return hex.EncodeToString(h.Sum(nil))
}

func newHash(algorithm string) hash.Hash {
	switch {
	case strings.EqualFold(algorithm, MD5):
		return md5.New()
	case strings.EqualFold(algorithm, SHA256):
		return sha256.New()
	}
	return nil
}

// Server issues challenges and verifies answers for one realm. Its nonces
// are stateless (time, randomness and an HMAC), so a REGISTER flood costs no
// memory and any number of goroutines may use one Server.
type Server struct {
	realm  string
	secret []byte
	ttl    time.Duration
	now    func() time.Time
}

// Nonce layout before base64url: issue time (UnixNano, big-endian),
// random bytes, then a truncated HMAC-SHA256 of both under the secret.
const (
	nonceTimeLen = 8
	nonceRandLen = 8
	nonceMACLen  = 16
	nonceLen     = nonceTimeLen + nonceRandLen + nonceMACLen
)

// NewServer returns a Server for realm. secret keys the nonces: give every
// instance the same secret and nonces survive restarts; an empty secret is
// replaced by a random one. ttl is a nonce's lifetime (<= 0 means 5
// minutes); now is the clock (nil means time.Now).
func NewServer(realm string, secret []byte, ttl time.Duration, now func() time.Time) *Server {
	if len(secret) == 0 {
		secret = make([]byte, 32)
		rand.Read(secret) // never fails: see crypto/rand.Read
	} else {
		secret = append([]byte(nil), secret...)
	}
	if ttl <= 0 {
		ttl = defaultTTL
	}
	if now == nil {
		now = time.Now
	}
	return &Server{realm: realm, secret: secret, ttl: ttl, now: now}
}

// Realm returns the realm the Server challenges for.
func (s *Server) Realm() string { return s.realm }

// Challenge returns one header value per algorithm (in the given order; none
// means MD5 only), all sharing one fresh nonce, each with realm, nonce,
// algorithm and qop="auth", plus stale=true when stale is set. The caller
// puts them in WWW-Authenticate or Proxy-Authenticate headers.
func (s *Server) Challenge(algorithms []string, stale bool) []string {
	if len(algorithms) == 0 {
		algorithms = []string{MD5}
	}
	nonce := s.newNonce()
	out := make([]string, 0, len(algorithms))
	for _, alg := range algorithms {
		c := digest.Challenge{
			Realm:     s.realm,
			Nonce:     nonce,
			Algorithm: alg,
			QOP:       []string{"auth"},
			Stale:     stale,
		}
		out = append(out, c.String())
	}
	return out
}

func (s *Server) newNonce() string {
	var b [nonceLen]byte
	binary.BigEndian.PutUint64(b[:nonceTimeLen], uint64(s.now().UnixNano()))
	rand.Read(b[nonceTimeLen : nonceTimeLen+nonceRandLen])
	copy(b[nonceTimeLen+nonceRandLen:], s.mac(b[:nonceTimeLen+nonceRandLen]))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *Server) mac(msg []byte) []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write(msg)
	return m.Sum(nil)[:nonceMACLen]
}

// checkNonce reports whether nonce is one of ours and whether it is still
// within its lifetime.
func (s *Server) checkNonce(nonce string) (ours, fresh bool) {
	var b [nonceLen]byte
	if base64.RawURLEncoding.DecodedLen(len(nonce)) != nonceLen {
		return false, false
	}
	// Strict: the unused bits of the last character must be zero, so one
	// nonce has exactly one spelling.
	if n, err := base64.RawURLEncoding.Strict().Decode(b[:], []byte(nonce)); err != nil || n != nonceLen {
		return false, false
	}
	body, sum := b[:nonceTimeLen+nonceRandLen], b[nonceTimeLen+nonceRandLen:]
	if !hmac.Equal(sum, s.mac(body)) {
		return false, false
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(body[:nonceTimeLen])))
	age := s.now().Sub(issued)
	// A nonce from the future only happens when our clock stepped back;
	// bound it the same way so a clock jump cannot make nonces immortal.
	return true, age <= s.ttl && age >= -s.ttl
}
