package config

import "time"

// defaults returns the values of the settings outside the lists that the
// file leaves out. Every call returns fresh slices.
func defaults() Config {
	return Config{
		SIP: SIP{
			Listen:    "127.0.0.1:5060",
			Realm:     "centralino",
			UserAgent: "Centralino",
			// MD5 only by default: phones on old SIP stacks (libre < 2, as in
			// Debian 12's baresip) give up on a REGISTER when any challenge is
			// SHA-256, even if an MD5 one is offered too. SHA-256 is opt-in,
			// globally or per extension.
			AuthAlgorithms: []string{AlgMD5},
			NonceTTL:       5 * time.Minute,
			MinExpires:     60 * time.Second,
			MaxExpires:     3600 * time.Second,
			DefaultExpires: 3600 * time.Second,
			RingTimeout:    30 * time.Second,
			// Italian premium-rate numbers (899, 892, ...): a hijacked phone
			// must not run up a bill.
			OutboundDeny: []string{"+3989*"},
		},
		RTP: RTP{
			Ports:   "20000-20999",
			Timeout: 30 * time.Second,
		},
		HTTP:       HTTP{Listen: "127.0.0.1:8080"},
		Data:       "./centralino-data",
		Log:        Log{Level: "info", Format: "text"},
		TenantsDir: defaultTenantsDirectory,
		Features:   Features{Available: "*30", Meeting: "*31", Away: "*32", DND: "*33"},
		Console: Console{
			// WebRTCListen defaults to http.listen's address (validation).
			SessionTTL:    12 * time.Hour,
			LoginFailures: 5,
			Lockout:       15 * time.Minute,
			Queue: Queue{
				Strategy:     QueueRingAll,
				OfferTimeout: 20 * time.Second,
				MaxMisses:    3,
				WrapUp:       10 * time.Second,
			},
		},
	}
}

// Defaults of list items, applied when the item leaves the key out.
const (
	defaultTransport      = "udp"
	defaultTrunkExpires   = 300 * time.Second
	defaultDialFormat     = DialNational
	defaultCallerIDHeader = CallerIDFrom
	defaultMaxContacts    = 5
)

// Limits of console settings.
const (
	minSessionTTL   = time.Minute
	minLockout      = time.Second
	minOfferTimeout = time.Second
	maxUsernameLen  = 64
)

// defaultAnswerPhrase is what an operator says on answering a tenant's
// call when the tenant does not say.
func defaultAnswerPhrase(name, language string) string {
	if language == "en" {
		return name + ", good morning"
	}
	return name + ", buongiorno"
}

// defaultCalledNumber is where a trunk reads the dialled number. Register
// trunks (Messagenet and the like) put the registered contact in the
// Request-URI and the dialled number in To; IP trunks usually put it in the
// Request-URI.
func defaultCalledNumber(mode string) []string {
	if mode == TrunkRegister {
		return []string{CalledTo, CalledRequestURI}
	}
	return []string{CalledRequestURI, CalledTo}
}

// defaultAllowOutbound lets an extension call Italian landlines (+390...),
// mobiles (+393...) and the emergency numbers.
func defaultAllowOutbound() []string {
	return []string{"+390*", "+393*", "112", "113", "115", "118"}
}

// Defaults of tenants, applied when the tenant leaves the key out.
const (
	defaultTenantsDirectory = "tenants"
	defaultLanguage         = "it"
	defaultTimeZone         = "Europe/Rome"
	defaultForwardTimeout   = 60 * time.Second
	defaultOperatorMaxWait  = 60 * time.Second
	defaultMenuTimeout      = 5 * time.Second
	defaultMenuRetries      = 2
	defaultMenuDigitTimeout = 3 * time.Second
	maxMenuChoiceKeys       = 8 // longer input is an extension or PIN, not a choice
	defaultVoicemailLength  = 120 * time.Second
	defaultHangupCode       = 480
)

// Limits of tenant values.
const (
	minActionDuration  = time.Second // ring, forward, operator, menu timeouts
	minVoicemailLength = 5 * time.Second
	maxVoicemailLength = 10 * time.Minute
	maxMenuRetries     = 5
)
