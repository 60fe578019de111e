// Package config loads and validates centralino.yaml into plain, immutable structs.
//
// The loader reads YAML with viper (so every setting can be overridden with a
// CENTRALINO_ environment variable) and keeps the YAML node tree to report
// errors as "file:line: path: what is wrong". Nothing in this package opens
// sockets or starts goroutines; pbx consumes the result.
package config

import (
	"net/netip"
	"time"
)

// Config is one validated snapshot of the main configuration file.
// It is never mutated after Load returns; a reload builds a new one.
type Config struct {
	SIP        SIP         `mapstructure:"sip"`
	RTP        RTP         `mapstructure:"rtp"`
	HTTP       HTTP        `mapstructure:"http"`
	Data       string      `mapstructure:"data"` // data folder: bbolt file, audio
	Log        Log         `mapstructure:"log"`
	Trunks     []Trunk     `mapstructure:"trunks"`
	Extensions []Extension `mapstructure:"extensions"`
	Tenants    []Tenant    `mapstructure:"tenants"`
	// TenantsDir holds one YAML file per tenant (<id>.yaml), watched and
	// reloaded live. Default "tenants" (ignored when it does not exist).
	TenantsDir string   `mapstructure:"tenants_dir"`
	Features   Features `mapstructure:"features"`
	// Operators are the people who answer calls from the browser console
	// (operator.go).
	Operators []Operator `mapstructure:"operators"`
	Console   Console    `mapstructure:"console"`

	// Source names where the configuration came from: a file path, or
	// "embedded demo" when no file was found.
	Source string `mapstructure:"-"`

	// idx makes the lookups O(1); built by validation, shared (read-only)
	// by copies. Nil in a Config built by hand, where lookups scan.
	idx *index
}

// SIP configures the signalling side.
type SIP struct {
	// Listen is the IP:port for UDP and TCP (same address for both); a
	// concrete IP, since SIP is sent from the address it listens on.
	Listen string `mapstructure:"listen"`
	// TLSListen, TLSCert and TLSKey enable SIP over TLS when all three are set.
	TLSListen string `mapstructure:"tls_listen"`
	TLSCert   string `mapstructure:"tls_cert"`
	TLSKey    string `mapstructure:"tls_key"`
	// PublicAddress is the host (optionally host:port) put in Via and Contact.
	// Load fills it with Listen when the file leaves it out.
	PublicAddress string `mapstructure:"public_address"`
	// Realm is the digest realm. HA1 values in the config depend on it.
	Realm     string `mapstructure:"realm"`
	UserAgent string `mapstructure:"user_agent"`
	// AuthAlgorithms lists the digest algorithms offered in challenges, most
	// preferred first: AlgMD5, AlgSHA256 (normalised to those spellings).
	AuthAlgorithms []string      `mapstructure:"auth_algorithms"`
	NonceTTL       time.Duration `mapstructure:"nonce_ttl"`
	MinExpires     time.Duration `mapstructure:"min_expires"`
	MaxExpires     time.Duration `mapstructure:"max_expires"`
	DefaultExpires time.Duration `mapstructure:"default_expires"`
	// RingTimeout is how long a call rings the tenant's phones before 480.
	RingTimeout time.Duration `mapstructure:"ring_timeout"`
	// OutboundDeny lists E.164 patterns no extension may call, whatever its
	// own allow list says (premium numbers by default).
	OutboundDeny []string `mapstructure:"outbound_deny"`
}

// RTP configures the media relay.
type RTP struct {
	// Ports is the UDP range for RTP, "20000-20999".
	Ports string `mapstructure:"ports"`
	// PublicAddress is the IP put in SDP c= lines. Load fills it with the
	// SIP public address (when that is an IP) or else the SIP listen IP.
	PublicAddress string `mapstructure:"public_address"`
	// Timeout ends a call whose RTP stopped for this long.
	Timeout time.Duration `mapstructure:"timeout"`

	// PortMin and PortMax are parsed from Ports by validation.
	PortMin int `mapstructure:"-"`
	PortMax int `mapstructure:"-"`
}

// HTTP configures the admin API, metrics and health endpoint.
type HTTP struct {
	// Listen is the IP:port of the HTTP server.
	Listen string `mapstructure:"listen"`
	// Token is required by the API when Listen is not a loopback address.
	Token string `mapstructure:"token"`
	// TLSCert and TLSKey (PEM files) make the server speak HTTPS when both
	// are set. Validation loads them as a pair.
	TLSCert string `mapstructure:"tls_cert"`
	TLSKey  string `mapstructure:"tls_key"`
	// TrustedProxies are CIDRs (or single IPs) of reverse proxies whose
	// X-Forwarded-For/-Proto are believed.
	TrustedProxies []string `mapstructure:"trusted_proxies"`

	// ProxyPrefixes is parsed from TrustedProxies by validation (a single
	// IP becomes a /32 or /128).
	ProxyPrefixes []netip.Prefix `mapstructure:"-"`
}

// Log configures logging.
type Log struct {
	Level  string `mapstructure:"level"`  // debug, info, warn, error
	Format string `mapstructure:"format"` // text, json
	// SIPTrace logs every SIP message sent and received (debug aid).
	SIPTrace bool `mapstructure:"sip_trace"`
}

// Digest algorithms, in SIP.AuthAlgorithms and Extension.AuthAlgorithms.
const (
	AlgMD5    = "MD5"
	AlgSHA256 = "SHA-256"
)

// Trunk modes.
const (
	TrunkRegister = "register"
	TrunkIP       = "ip"
)

// Called-number sources, in Trunk.CalledNumber.
const (
	CalledRequestURI  = "request_uri"
	CalledTo          = "to"
	CalledDiversion   = "diversion"
	CalledHistoryInfo = "history_info"
)

// Dial formats for numbers sent to a trunk.
const (
	DialE164          = "e164"          // +390212345678
	DialNational      = "national"      // 0212345678, 00 for foreign numbers
	DialInternational = "international" // 00390212345678
)

// Caller-ID headers for outbound calls.
const (
	CallerIDFrom = "from"
	CallerIDPAI  = "pai"
	CallerIDPPI  = "ppi"
)

// Trunk is a connection to a SIP provider.
type Trunk struct {
	Name string `mapstructure:"name"`
	Mode string `mapstructure:"mode"` // register | ip
	// Host is the provider's registrar/proxy (hostname or IP, optionally
	// host:port). Required for register mode and for outbound calls.
	Host      string `mapstructure:"host"`
	Transport string `mapstructure:"transport"` // udp (default), tcp, tls
	// Username, AuthUsername and Password are the account credentials
	// (register mode, and digest challenges on outbound calls). Load fills
	// AuthUsername with Username when it is left out.
	Username     string `mapstructure:"username"`
	AuthUsername string `mapstructure:"auth_username"`
	Password     string `mapstructure:"password"`
	// Domain is the host part of From/To in REGISTER; Load fills it with
	// Host without its port when it is left out.
	Domain string `mapstructure:"domain"`
	// Expires is the registration interval asked of the provider.
	Expires time.Duration `mapstructure:"expires"`
	// Allow lists source networks (CIDR or single IP) accepted for inbound
	// INVITEs. Required in ip mode; in register mode the registrar's own
	// addresses are always accepted.
	Allow []string `mapstructure:"allow"`
	// CalledNumber lists where the dialled number is read, first found wins.
	CalledNumber []string `mapstructure:"called_number"`
	// DefaultTenant receives calls whose dialled number matches no tenant.
	DefaultTenant string `mapstructure:"default_tenant"`
	// DialFormat is how numbers are written in the Request-URI sent to the
	// provider: e164, national (default) or international.
	DialFormat string   `mapstructure:"dial_format"`
	CallerID   CallerID `mapstructure:"caller_id"`
	// CopyHeaders names headers copied from an inbound leg to an outbound
	// leg through this trunk (e.g. X-Mnet-InLeg for Messagenet forwarding).
	CopyHeaders []string `mapstructure:"copy_headers"`

	// AllowPrefixes is parsed from Allow by validation (a single IP becomes
	// a /32 or /128).
	AllowPrefixes []netip.Prefix `mapstructure:"-"`
}

// CallerID says how the calling number is presented on outbound calls.
type CallerID struct {
	// Header is from (default), pai (P-Asserted-Identity) or ppi
	// (P-Preferred-Identity). With pai/ppi, From carries FromUser.
	Header string `mapstructure:"header"`
	// FromUser is the From user part when Header is pai or ppi; Load fills
	// it with the trunk username when it is left out.
	FromUser string `mapstructure:"from_user"`
}

// Extension is a SIP account a phone registers with.
type Extension struct {
	Number string `mapstructure:"number"` // also the SIP username
	Name   string `mapstructure:"name"`
	// Exactly one way to authenticate: Password, or HA1 and/or HA1SHA256
	// (hex of MD5/SHA-256 of "number:realm:password").
	Password  string `mapstructure:"password"`
	HA1       string `mapstructure:"ha1"`
	HA1SHA256 string `mapstructure:"ha1_sha256"`
	// AuthAlgorithms overrides SIP.AuthAlgorithms for this extension. After
	// Load it holds the effective list, narrowed to the algorithms the
	// stored credentials can verify (only HA1 given: MD5 only).
	AuthAlgorithms []string `mapstructure:"auth_algorithms"`
	// AllowOutbound lists E.164 patterns this extension may call through a
	// trunk. Default: Italian landlines and mobiles, emergency numbers.
	AllowOutbound []string `mapstructure:"allow_outbound"`
	// CallerID is the E.164 number presented on outbound calls; Load fills
	// it with the tenant's first number when it is left out.
	CallerID string `mapstructure:"caller_id"`
	// MaxContacts bounds simultaneous registrations for this AOR.
	MaxContacts int `mapstructure:"max_contacts"`
}
