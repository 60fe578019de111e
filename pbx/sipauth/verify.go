package sipauth

import (
	"crypto/subtle"
	"strings"

	"github.com/icholy/digest"
)

// Result is the outcome of Verify. Reason is for logs only: telling a peer
// why it failed helps whoever is guessing passwords.
type Result struct {
	Username string
	OK       bool
	Stale    bool   // the response was right but the nonce expired: re-challenge with stale=true
	Reason   string // "malformed", "realm mismatch", "unknown nonce", "no such user", "algorithm unavailable", "bad response", "nonce expired"
	// URI is the digest-uri the response covers, so the caller can compare it
	// with the Request-URI if it wants to (RFC 2617 §3.2.2.5).
	URI string
}

// Failure reasons reported in Result.Reason.
const (
	reasonMalformed     = "malformed"
	reasonRealmMismatch = "realm mismatch"
	reasonUnknownNonce  = "unknown nonce"
	reasonNoSuchUser    = "no such user"
	reasonAlgorithm     = "algorithm unavailable"
	reasonBadResponse   = "bad response"
	reasonNonceExpired  = "nonce expired"
)

// dummyHA1 stands in for a missing user's (or algorithm's) HA1 so that a
// miss costs the same digest computation as a wrong password.
const dummyHA1 = "00000000000000000000000000000000"

// Verify checks one Authorization or Proxy-Authorization header value sent
// with a request of the given method. lookup returns the stored credentials
// of a username. A nonce is accepted for either algorithm; algorithm= absent
// means MD5; qop=auth (with nc and cnonce) and, for old phones, no qop are
// accepted. Replays of a valid header within the nonce lifetime are not
// detected: the nonces are stateless.
func (s *Server) Verify(method, header string, lookup func(username string) (Credentials, bool)) Result {
	cred, err := digest.ParseCredentials(header)
	if err != nil {
		return Result{Reason: reasonMalformed}
	}
	res := Result{Username: cred.Username, URI: cred.URI}
	if !wellFormed(cred) {
		res.Reason = reasonMalformed
		return res
	}
	if cred.Realm != s.realm {
		res.Reason = reasonRealmMismatch
		return res
	}
	ours, fresh := s.checkNonce(cred.Nonce)
	if !ours {
		res.Reason = reasonUnknownNonce
		return res
	}

	algorithm := MD5
	if cred.Algorithm != "" {
		algorithm = cred.Algorithm
	}
	userCreds, found := lookup(cred.Username)
	var ha1 string
	switch {
	case strings.EqualFold(algorithm, MD5):
		ha1 = userCreds.HA1MD5
	case strings.EqualFold(algorithm, SHA256):
		ha1 = userCreds.HA1SHA256
	default:
		// Not one we offer (SHA-512, MD5-sess, ...): nothing to compute with.
		res.Reason = reasonAlgorithm
		return res
	}
	// Misses still compute a digest so their timing matches a wrong password.
	usable := found && ha1 != ""
	if !usable {
		ha1 = dummyHA1
	}
	want, err := expectedResponse(cred, method, ha1)
	if err != nil {
		res.Reason = reasonMalformed
		return res
	}
	match := subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(cred.Response))) == 1
	switch {
	case !found:
		res.Reason = reasonNoSuchUser
	case !usable:
		res.Reason = reasonAlgorithm
	case !match:
		res.Reason = reasonBadResponse
	case !fresh:
		res.Stale = true
		res.Reason = reasonNonceExpired
	default:
		res.OK = true
	}
	return res
}

// expectedResponse computes the response a client knowing ha1 would send
// for cred. The cnonce and count must come from cred: digest.Digest would
// otherwise invent its own.
func expectedResponse(cred *digest.Credentials, method, ha1 string) (string, error) {
	want, err := digest.Digest(
		&digest.Challenge{
			Realm:     cred.Realm,
			Nonce:     cred.Nonce,
			Algorithm: cred.Algorithm,
			Opaque:    cred.Opaque,
			QOP:       qopList(cred.QOP),
		},
		digest.Options{
			A1:       strings.ToLower(ha1),
			Cnonce:   cred.Cnonce,
			Count:    cred.Nc,
			Method:   method,
			URI:      cred.URI,
			Username: cred.Username,
		},
	)
	if err != nil {
		return "", err
	}
	return want.Response, nil
}

// wellFormed reports whether cred has every field a response depends on,
// so digest.Digest cannot fill one in with its own defaults (it would invent
// a cnonce or count 1).
func wellFormed(cred *digest.Credentials) bool {
	if cred.Username == "" || cred.Nonce == "" || cred.URI == "" || cred.Response == "" || cred.Userhash {
		return false
	}
	switch cred.QOP {
	case "":
		return true
	case "auth":
		return cred.Cnonce != "" && cred.Nc > 0
	default:
		// auth-int is not offered; a client answering with it is confused.
		return false
	}
}

func qopList(qop string) []string {
	if qop == "" {
		return nil
	}
	return []string{qop}
}
