package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// This file declares the operator console's settings: the operators who
// log in to it, and how it offers queued calls to them. The `operator`
// action of a tenant's plan (tenant.go) puts a call in that queue.

// Queue strategies, in Queue.Strategy.
const (
	QueueRingAll     = "ring-all"     // offer each call to every available operator at once
	QueueLongestIdle = "longest-idle" // offer it to the operator idle the longest, then the next
)

// AllTenants in Operator.Tenants means every tenant.
const AllTenants = "*"

// Operator is a person who answers calls from the browser console.
type Operator struct {
	// Username is the login name: lower-case letters, digits, ".", "-",
	// "_"; unique.
	Username string `mapstructure:"username"`
	// Name is the display name; Load fills it with Username when it is
	// left out.
	Name string `mapstructure:"name"`
	// Tenants lists the ids of the tenants served, or is ["*"] for all;
	// each id names an existing tenant.
	Tenants []string `mapstructure:"tenants"`
	// PasswordHash is a bcrypt hash ($2a$, $2b$ or $2y$), as printed by
	// `centralino passwd`; plain passwords are not accepted.
	PasswordHash string `mapstructure:"password_hash"`
	// Language of the console: "it" (default) or "en".
	Language string `mapstructure:"language"`
}

// Serves reports whether the operator answers calls for the tenant.
func (o *Operator) Serves(tenantID string) bool {
	return slices.Contains(o.Tenants, AllTenants) || slices.Contains(o.Tenants, tenantID)
}

// Console configures the operator console: its WebRTC media, logins and
// the queue.
type Console struct {
	// WebRTCListen is the UDP IP:port all operators' media uses (one port,
	// ICE UDP mux). Default: the http.listen IP and the same port number
	// (UDP). Must be a concrete IP. Left empty only when there are no
	// operators and http.listen listens on every address.
	WebRTCListen string `mapstructure:"webrtc_listen"`
	// WebRTCAdvertise lists IPs put in ICE candidates instead of the
	// listen IP (NAT, LAN).
	WebRTCAdvertise []string `mapstructure:"webrtc_advertise"`
	// SessionTTL is the idle expiry of a login: default 12h, at least 1m.
	SessionTTL time.Duration `mapstructure:"session_ttl"`
	// LoginFailures is how many failed logins in a row lock the username
	// out: default 5, at least 1.
	LoginFailures int `mapstructure:"login_failures"`
	// Lockout is how long a lock-out lasts: default 15m, at least 1s.
	Lockout time.Duration `mapstructure:"lockout"`
	Queue   Queue         `mapstructure:"queue"`
}

// Queue configures how queued calls are offered to operators.
type Queue struct {
	// Strategy is QueueRingAll (default) or QueueLongestIdle.
	Strategy string `mapstructure:"strategy"`
	// OfferTimeout: an operator who does not answer an offer in this is
	// skipped; default 20s, at least 1s.
	OfferTimeout time.Duration `mapstructure:"offer_timeout"`
	// MaxMisses is how many offers in a row an operator may miss before
	// being paused; default 3; 0 = never.
	MaxMisses int `mapstructure:"max_misses"`
	// WrapUp is the after-call time before the next offer; default 10s; 0
	// allowed.
	WrapUp time.Duration `mapstructure:"wrap_up"`
}

// Bcrypt costs of operators' password hashes.
const (
	// DefaultPasswordCost is what `centralino passwd` uses (about 50–100
	// ms per login on a current CPU).
	DefaultPasswordCost = bcrypt.DefaultCost
	MinPasswordCost     = bcrypt.MinCost
	// MaxPasswordCost bounds the work of one login: each step doubles
	// it, and at 16 a login already takes seconds of CPU.
	MaxPasswordCost = 16
)

// bcryptRe is the shape of a bcrypt hash: version, two-digit cost, then
// 53 characters of bcrypt's base64 (salt and hash).
var bcryptRe = regexp.MustCompile(`^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$`)

// HashPassword returns the bcrypt hash of password for an operator's
// password_hash, at cost MinPasswordCost..MaxPasswordCost.
func HashPassword(password string, cost int) (string, error) {
	if password == "" {
		return "", errors.New("the password is empty")
	}
	if cost < MinPasswordCost || cost > MaxPasswordCost {
		return "", fmt.Errorf("cost %d must be from %d to %d", cost, MinPasswordCost, MaxPasswordCost)
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if errors.Is(err, bcrypt.ErrPasswordTooLong) {
		return "", errors.New("the password is longer than 72 bytes, which bcrypt cannot hash")
	}
	if err != nil {
		return "", err
	}
	return string(h), nil
}

// passwordHashProblem says what is wrong with a password_hash, "" if
// nothing. The value is never echoed: it is as good as the password to an
// offline guesser.
func passwordHashProblem(h string) string {
	const fix = `run "centralino passwd" and paste the hash it prints`
	switch {
	case h == "":
		return `required: the bcrypt hash of the password (` + fix + `)`
	case len(h) < 2 || h[:2] != "$2":
		return "is not a bcrypt hash: plain passwords are not accepted here; " + fix
	case !bcryptRe.MatchString(h):
		return `is not a valid bcrypt hash: 60 characters starting with "$2a$", "$2b$" or "$2y$" and a two-digit cost (was it cut short?); ` + fix
	}
	cost, err := bcrypt.Cost([]byte(h))
	switch {
	case err != nil: // the shape is right: only the cost can be wrong
		return fmt.Sprintf("is not a valid bcrypt hash: its cost, %s, must be from %d to %d; %s", h[4:6], bcrypt.MinCost, bcrypt.MaxCost, fix)
	case cost > MaxPasswordCost:
		return fmt.Sprintf("cost %d makes every login take too long (each step doubles the work; at most %d): %s (default cost %d)", cost, MaxPasswordCost, fix, DefaultPasswordCost)
	}
	return ""
}
