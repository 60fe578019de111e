package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type validationCase struct {
	name string
	yaml string
	want []string // nil: the file is valid
}

func runValidation(t *testing.T, tests []validationCase) {
	t.Helper()
	clearEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLines(t, problems(t, tt.yaml), tt.want)
		})
	}
}

func TestValidateSIP(t *testing.T) {
	runValidation(t, []validationCase{
		{"ipv4 listen", "sip:\n  listen: 192.0.2.10:5060\n", nil},
		{"ipv6 listen", "sip:\n  listen: \"[2001:db8::10]:5060\"\n", nil},
		{"host name", "sip:\n  listen: localhost:5060\n", []string{
			`c.yaml:2:3: sip.listen: "localhost" is not an IP address: use the machine's IP, like "192.168.1.10:5060" (host names are not allowed here)`,
		}},
		{"no port", "sip:\n  listen: 192.0.2.10\n", []string{
			`c.yaml:2:3: sip.listen: "192.0.2.10" must be IP:port, like "192.168.1.10:5060"`,
		}},
		{"port zero", "sip:\n  listen: 192.0.2.10:0\n", []string{`c.yaml:2:3: sip.listen: port "0" must be a number from 1 to 65535`}},
		{"port too big", "sip:\n  listen: 192.0.2.10:65536\n", []string{`c.yaml:2:3: sip.listen: port "65536" must be a number from 1 to 65535`}},
		{"empty", "sip:\n  listen: \"\"\n", []string{`c.yaml:2:3: sip.listen: required: an IP:port like "192.168.1.10:5060"`}},
		{"unspecified v4", "sip:\n  listen: 0.0.0.0:5060\n", []string{
			`c.yaml:2:3: sip.listen: 0.0.0.0:5060 listens on every address, which is not allowed: Centralino sends SIP from the address it listens on; use the machine's IP, like "192.168.1.10:5060"`,
		}},
		{"unspecified v6", "sip:\n  listen: \"[::]:5060\"\n", []string{
			`c.yaml:2:3: sip.listen: [::]:5060 listens on every address, which is not allowed: Centralino sends SIP from the address it listens on; use the machine's IP, like "192.168.1.10:5060"`,
		}},

		{"public host", "sip:\n  public_address: pbx.example.com\n", nil},
		{"public host:port", "sip:\n  public_address: pbx.example.com:5080\n", nil},
		{"public ipv6", "sip:\n  public_address: \"2001:db8::1\"\n", nil},
		{"public bad host", "sip:\n  public_address: pbx_example.com\n", []string{`c.yaml:2:3: sip.public_address: "pbx_example.com" is not a valid host name or IP`}},
		{"public bad port", "sip:\n  public_address: pbx.example.com:0\n", []string{`c.yaml:2:3: sip.public_address: "pbx.example.com:0": port must be a number from 1 to 65535`}},

		{"realm empty", "sip:\n  realm: \"\"\n", []string{"c.yaml:2:3: sip.realm: required"}},
		{"realm quote", "sip:\n  realm: 'a\"b'\n", []string{`c.yaml:2:3: sip.realm: must not contain " or \`}},
		{"user agent line break", "sip:\n  user_agent: \"a\\r\\nVia: x\"\n", []string{"c.yaml:2:3: sip.user_agent: must not contain control characters (line breaks, tabs, ...)"}},

		{"algorithms any case", "sip:\n  auth_algorithms: [sha-256, Md5]\n", nil},
		{"algorithms empty", "sip:\n  auth_algorithms: []\n", []string{"c.yaml:2:3: sip.auth_algorithms: must list at least one of MD5, SHA-256"}},
		{"algorithm unknown", "sip:\n  auth_algorithms:\n    - MD5\n    - SHA1\n", []string{`c.yaml:4:7: sip.auth_algorithms[1]: "SHA1" is not one of MD5, SHA-256`}},
		{"algorithm twice", "sip:\n  auth_algorithms: [MD5, md5]\n", []string{"c.yaml:2:26: sip.auth_algorithms[1]: MD5 is listed twice"}},

		{"expires in order", "sip:\n  min_expires: 30s\n  default_expires: 10m\n  max_expires: 2h\n", nil},
		{"expires all equal", "sip:\n  min_expires: 1m\n  default_expires: 1m\n  max_expires: 1m\n", nil},
		{"min expires zero", "sip:\n  min_expires: 0s\n", []string{"c.yaml:2:3: sip.min_expires: 0s is too short: must be at least 1s"}},
		{"expires fraction", "sip:\n  min_expires: 1500ms\n", []string{"c.yaml:2:3: sip.min_expires: 1.5s must be a whole number of seconds"}},
		{"default below min", "sip:\n  min_expires: 2m\n  default_expires: 1m\n", []string{"c.yaml:3:3: sip.default_expires: 1m is less than sip.min_expires (2m)"}},
		{"min above default default", "sip:\n  min_expires: 2h\n", []string{
			"c.yaml:2:3: sip.min_expires: 2h is more than sip.default_expires (1h, the default): lower it or set default_expires",
		}},
		{"max below default", "sip:\n  max_expires: 10m\n", []string{
			"c.yaml:2:3: sip.max_expires: 10m is less than sip.default_expires (1h)",
		}},
		{"default above max default", "sip:\n  default_expires: 2h\n", []string{
			"c.yaml:2:3: sip.default_expires: 2h is more than sip.max_expires (1h, the default): lower it or set max_expires",
		}},
		{"nonce ttl", "sip:\n  nonce_ttl: 9s\n", []string{"c.yaml:2:3: sip.nonce_ttl: 9s is too short: must be at least 10s"}},
		{"nonce ttl ok", "sip:\n  nonce_ttl: 10s\n", nil},
		{"ring timeout", "sip:\n  ring_timeout: 0s\n", []string{"c.yaml:2:3: sip.ring_timeout: 0s is too short: must be at least 1s"}},
		{"negative ring timeout", "sip:\n  ring_timeout: -5s\n", []string{"c.yaml:2:3: sip.ring_timeout: -5s is too short: must be at least 1s"}},

		{"deny patterns", "sip:\n  outbound_deny: [\"+3989*\", \"+39[0-9]?\", \"144\"]\n", nil},
		{"deny bad pattern", "sip:\n  outbound_deny:\n    - \"+39[\"\n    - \"\"\n", []string{
			`c.yaml:3:7: sip.outbound_deny[0]: "+39[" is not a valid pattern: use * for any digits, ? for one digit, [0-9] for a set`,
			"c.yaml:4:7: sip.outbound_deny[1]: empty pattern",
		}},
	})
}

func TestValidateRTPHTTPLogData(t *testing.T) {
	runValidation(t, []validationCase{
		{"ports ok", "rtp:\n  ports: 10000-10003\n", nil},
		{"ports one number", "rtp:\n  ports: \"20000\"\n", []string{`c.yaml:2:3: rtp.ports: "20000" must be a range MIN-MAX, like "20000-20999"`}},
		{"ports words", "rtp:\n  ports: a-b\n", []string{`c.yaml:2:3: rtp.ports: "a-b" must be a range MIN-MAX, like "20000-20999"`}},
		{"ports too low", "rtp:\n  ports: 1000-2000\n", []string{"c.yaml:2:3: rtp.ports: 1000-2000: the lowest port must be at least 1024"}},
		{"ports too high", "rtp:\n  ports: 60000-65536\n", []string{"c.yaml:2:3: rtp.ports: 60000-65536: the highest port must be at most 65535"}},
		{"ports reversed", "rtp:\n  ports: 30000-20000\n", []string{"c.yaml:2:3: rtp.ports: 30000-20000: the first port must be lower than the second"}},
		{"ports too few", "rtp:\n  ports: 20000-20002\n", []string{"c.yaml:2:3: rtp.ports: 20000-20002: the range must hold at least 4 ports"}},
		{"ports include sip", "rtp:\n  ports: 5000-6000\n", []string{"c.yaml:2:3: rtp.ports: 5000-6000 includes the SIP port 5060 (sip.listen)"}},
		{"public ip", "rtp:\n  public_address: 203.0.113.5\n", nil},
		{"public host", "rtp:\n  public_address: pbx.example.com\n", []string{
			`c.yaml:2:3: rtp.public_address: "pbx.example.com" must be an IP address (the one phones and the provider send audio to)`,
		}},
		{"public unspecified", "rtp:\n  public_address: 0.0.0.0\n", []string{
			"c.yaml:2:3: rtp.public_address: 0.0.0.0 is not an address phones can send audio to: use the machine's public IP",
		}},
		{"rtp timeout", "rtp:\n  timeout: 500ms\n", []string{"c.yaml:2:3: rtp.timeout: 500ms is too short: must be at least 1s"}},

		{"http loopback v6", "http:\n  listen: \"[::1]:8080\"\n", nil},
		{"http lan with token", "http:\n  listen: 192.0.2.10:8080\n  token: s3cret\n", nil},
		{"http any with token", "http:\n  listen: 0.0.0.0:8080\n  token: s3cret\n", nil},
		{"http lan without token", "http:\n  listen: 192.0.2.10:8080\n", []string{
			"c.yaml:2:3: http.token: the API is reachable from other hosts (http.listen is 192.0.2.10:8080): set http.token",
		}},
		{"http host name", "http:\n  listen: localhost:8080\n", []string{
			`c.yaml:2:3: http.listen: "localhost" is not an IP address: use the machine's IP, like "127.0.0.1:8080" (host names are not allowed here)`,
		}},
		{"http on the sip port", "http:\n  listen: 127.0.0.1:5060\n", []string{
			"c.yaml:2:3: http.listen: 127.0.0.1:5060 clashes with sip.listen (127.0.0.1:5060): SIP over TCP already uses that port",
		}},

		{"sip on the default http port", "sip:\n  listen: 127.0.0.1:8080\n", []string{
			"c.yaml:2:3: http.listen: 127.0.0.1:8080 clashes with sip.listen (127.0.0.1:8080): SIP over TCP already uses that port",
		}},
		{"sip inside the default rtp ports", "sip:\n  listen: 127.0.0.1:20000\n", []string{
			"c.yaml:2:3: rtp.ports: 20000-20999 includes the SIP port 20000 (sip.listen)",
		}},
		{"data empty", "data: \"\"\n", []string{"c.yaml:1:1: data: must not be empty: it is the folder for the database and audio files"}},
		{"data set", "data: /var/lib/centralino\n", nil},
		{"log ok", "log:\n  level: WARN\n  format: json\n", nil},
		{"log bad", "log:\n  level: verbose\n  format: xml\n", []string{
			`c.yaml:2:3: log.level: "verbose" is not one of debug, info, warn, error`,
			`c.yaml:3:3: log.format: "xml" is not one of text, json`,
		}},
	})
}

// writeTLS writes a self-signed certificate and its key into dir.
func writeTLS(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "pbx.test"},
		NotBefore:    time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:     time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}

func TestValidateTLS(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeTLS(t, dir)
	other := t.TempDir()
	cert2, _ := writeTLS(t, other) // a certificate that does not match key
	missing := filepath.Join(dir, "missing.pem")
	tlsYAML := func(listen, c, k string) string {
		return fmt.Sprintf("sip:\n  tls_listen: %q\n  tls_cert: %q\n  tls_key: %q\n", listen, c, k)
	}
	runValidation(t, []validationCase{
		{"all three", tlsYAML("127.0.0.1:5061", cert, key), nil},
		{"any address", tlsYAML("0.0.0.0:5061", cert, key), nil},
		{"only listen", "sip:\n  tls_listen: 127.0.0.1:5061\n", []string{
			"c.yaml:2:3: sip.tls_cert: required because sip.tls_listen is set: set all of tls_listen, tls_cert and tls_key, or none",
			"c.yaml:2:3: sip.tls_key: required because sip.tls_listen is set: set all of tls_listen, tls_cert and tls_key, or none",
		}},
		{"only key", fmt.Sprintf("sip:\n  tls_key: %q\n", key), []string{
			"c.yaml:2:3: sip.tls_listen: required because sip.tls_key is set: set all of tls_listen, tls_cert and tls_key, or none",
			"c.yaml:2:3: sip.tls_cert: required because sip.tls_key is set: set all of tls_listen, tls_cert and tls_key, or none",
		}},
		{"missing cert", tlsYAML("127.0.0.1:5061", missing, key), []string{
			"c.yaml:3:3: sip.tls_cert: cannot read " + missing + ": no such file or directory",
		}},
		{"cert is a directory", tlsYAML("127.0.0.1:5061", dir, key), []string{
			"c.yaml:3:3: sip.tls_cert: " + dir + " is not a regular file",
		}},
		{"mismatched pair", tlsYAML("127.0.0.1:5061", cert2, key), []string{
			"c.yaml:3:3: sip.tls_cert: cannot load the certificate with sip.tls_key: tls: private key does not match public key",
		}},
		{"same port as sip", tlsYAML("127.0.0.1:5060", cert, key), []string{
			"c.yaml:2:3: sip.tls_listen: 127.0.0.1:5060 clashes with sip.listen (127.0.0.1:5060): SIP over TCP already uses that port",
		}},
		{"bad listen", tlsYAML("pbx:5061", cert, key), []string{
			`c.yaml:2:3: sip.tls_listen: "pbx" is not an IP address: use the machine's IP, like "192.168.1.10:5061" (host names are not allowed here)`,
		}},
	})
}

const registerTrunk = `trunks:
  - name: mnet
    mode: register
    host: sip.messagenet.it
    username: "0212345678"
    password: pw
`

func TestValidateTrunks(t *testing.T) {
	runValidation(t, []validationCase{
		{"register trunk", registerTrunk, nil},
		{"full register trunk", registerTrunk + `    transport: TLS
    auth_username: "5551234"
    domain: sip.messagenet.it
    expires: 10m
    allow: [192.0.2.0/24]
    called_number: [to, diversion, history_info, request_uri]
    dial_format: e164
    caller_id: {header: pai, from_user: "0212345678"}
    copy_headers: [X-Mnet-InLeg]
`, nil},
		{"ip trunk", "trunks:\n  - name: ip-1\n    mode: ip\n    allow: [\"2001:db8::/32\", 192.0.2.7]\n    host: \"[2001:db8::1]:5060\"\n", nil},
		{"name missing", "trunks:\n  - mode: ip\n    allow: [192.0.2.7]\n", []string{"c.yaml:2:5: trunks[0].name: required"}},
		{"name upper case", "trunks:\n  - name: Mnet\n    mode: ip\n    allow: [192.0.2.7]\n", []string{
			`c.yaml:2:5: trunks[0].name: "Mnet" must be lower-case letters, digits, "-" or "_", starting with a letter or digit`,
		}},
		{"name starts with dash", "trunks:\n  - name: -x\n    mode: ip\n    allow: [192.0.2.7]\n", []string{
			`c.yaml:2:5: trunks[0].name: "-x" must be lower-case letters, digits, "-" or "_", starting with a letter or digit`,
		}},
		{"name twice", "trunks:\n  - name: a\n    mode: ip\n    allow: [192.0.2.7]\n  - name: a\n    mode: ip\n    allow: [192.0.2.8]\n", []string{
			`c.yaml:5:5: trunks[1].name: "a" is already used by trunks[0] (line 2); trunk names must be unique`,
		}},
		{"mode typo", "trunks:\n  - name: a\n    mode: regster\n", []string{`c.yaml:3:5: trunks[0].mode: "regster" is not one of register, ip`}},
		{"mode missing", "trunks:\n  - name: a\n", []string{"c.yaml:2:5: trunks[0].mode: required: one of register, ip"}},
		{"register needs credentials", "trunks:\n  - name: a\n    mode: register\n", []string{
			"c.yaml:2:5: trunks[0].host: required in register mode",
			"c.yaml:2:5: trunks[0].username: required in register mode",
			"c.yaml:2:5: trunks[0].password: required in register mode",
		}},
		{"ip needs allow", "trunks:\n  - name: a\n    mode: ip\n", []string{
			"c.yaml:2:5: trunks[0].allow: required in ip mode: list the provider's addresses (CIDR like 192.0.2.0/24, or single IPs)",
		}},
		{"bad allow", "trunks:\n  - name: a\n    mode: ip\n    allow:\n      - 192.0.2.0/33\n      - sip.example.com\n", []string{
			`c.yaml:5:9: trunks[0].allow[0]: "192.0.2.0/33" is not a valid network: write a CIDR like 192.0.2.0/24, or a single IP`,
			`c.yaml:6:9: trunks[0].allow[1]: "sip.example.com" is not an IP address or a CIDR like 192.0.2.0/24`,
		}},
		{"transport", registerTrunk + "    transport: sctp\n", []string{`c.yaml:7:5: trunks[0].transport: "sctp" is not one of udp, tcp, tls`}},
		{"bad host", "trunks:\n  - name: a\n    mode: ip\n    allow: [192.0.2.7]\n    host: \"sip example\"\n", []string{
			`c.yaml:5:5: trunks[0].host: "sip example" is not a valid host name or IP`,
		}},
		{"bad host port", "trunks:\n  - name: a\n    mode: ip\n    allow: [192.0.2.7]\n    host: sip.example.com:99999\n", []string{
			`c.yaml:5:5: trunks[0].host: "sip.example.com:99999": port must be a number from 1 to 65535`,
		}},
		{"bad domain", registerTrunk + "    domain: sip.example.com:5060\n", []string{
			`c.yaml:7:5: trunks[0].domain: "sip.example.com:5060" is not a valid host name or IP (no port here)`,
		}},
		{"short expires", registerTrunk + "    expires: 30s\n", []string{"c.yaml:7:5: trunks[0].expires: 30s is too short: must be at least 1m"}},
		{"called number", registerTrunk + "    called_number:\n      - to\n      - from\n      - to\n", []string{
			`c.yaml:9:9: trunks[0].called_number[1]: "from" is not one of request_uri, to, diversion, history_info`,
			"c.yaml:10:9: trunks[0].called_number[2]: to is listed twice",
		}},
		{"called number empty", registerTrunk + "    called_number: []\n", []string{
			"c.yaml:7:5: trunks[0].called_number: must list at least one of request_uri, to, diversion, history_info",
		}},
		{"default tenant", registerTrunk + "    default_tenant: studio\n", []string{`c.yaml:7:5: trunks[0].default_tenant: tenant "studio" is not defined (inline under tenants, or as studio.yaml in tenants_dir tenants)`}},
		{"dial format", registerTrunk + "    dial_format: local\n", []string{`c.yaml:7:5: trunks[0].dial_format: "local" is not one of e164, national, international`}},
		{"caller id header", registerTrunk + "    caller_id:\n      header: rpid\n", []string{`c.yaml:8:7: trunks[0].caller_id.header: "rpid" is not one of from, pai, ppi`}},
		{"copy headers", registerTrunk + "    copy_headers: [\"X-Ok\", \"X Bad\", \"Call-ID\", \"\"]\n", []string{
			`c.yaml:7:28: trunks[0].copy_headers[1]: "X Bad" is not a valid header name`,
			"c.yaml:7:37: trunks[0].copy_headers[2]: Call-ID is managed by Centralino for each call leg and cannot be copied",
			`c.yaml:7:48: trunks[0].copy_headers[3]: "" is not a valid header name`,
		}},
	})
}

func TestTrunkValues(t *testing.T) {
	clearEnv(t)
	cfg := mustLoad(t, registerTrunk+`    transport: TLS
    allow: ["2001:db8::7", 10.1.2.3/8]
    caller_id: {header: PAI}
    called_number: [History_Info]
`)
	tr := cfg.Trunk("mnet")
	tests := []struct {
		name      string
		got, want any
	}{
		{"transport", tr.Transport, "tls"},
		{"allow prefixes", fmt.Sprint(tr.AllowPrefixes), "[2001:db8::7/128 10.0.0.0/8]"},
		{"caller id header", tr.CallerID.Header, CallerIDPAI},
		{"called number", strings.Join(tr.CalledNumber, ","), CalledHistoryInfo},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

const (
	md5Hash    = "0123456789abcdef0123456789abcdef"
	sha256Hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

func TestValidateExtensions(t *testing.T) {
	runValidation(t, []validationCase{
		{"password", "extensions:\n  - number: \"100\"\n    password: pw\n", nil},
		{"both hashes", "extensions:\n  - number: \"100\"\n    ha1: " + md5Hash + "\n    ha1_sha256: " + sha256Hash + "\n", nil},
		{"number too short", "extensions:\n  - number: \"1\"\n    password: pw\n", []string{`c.yaml:2:5: extensions[0].number: "1" must be 2 to 8 digits`}},
		{"number not digits", "extensions:\n  - number: \"10a\"\n    password: pw\n", []string{`c.yaml:2:5: extensions[0].number: "10a" must be 2 to 8 digits`}},
		{"number too long", "extensions:\n  - number: \"123456789\"\n    password: pw\n", []string{`c.yaml:2:5: extensions[0].number: "123456789" must be 2 to 8 digits`}},
		{"number missing", "extensions:\n  - password: pw\n", []string{"c.yaml:2:5: extensions[0].number: required"}},
		{"number twice", "extensions:\n  - number: \"100\"\n    password: a\n  - number: \"100\"\n    password: b\n", []string{
			`c.yaml:4:5: extensions[1].number: "100" is already used by extensions[0] (line 2); extension numbers must be unique`,
		}},
		{"no credentials", "extensions:\n  - number: \"100\"\n", []string{"c.yaml:2:5: extensions[0]: no credentials: set password, or ha1 and/or ha1_sha256"}},
		{"password and ha1", "extensions:\n  - number: \"100\"\n    password: pw\n    ha1: " + md5Hash + "\n", []string{
			"c.yaml:4:5: extensions[0]: set either password or ha1/ha1_sha256, not both",
		}},
		{"ha1 length", "extensions:\n  - number: \"100\"\n    ha1: abc\n", []string{
			`c.yaml:3:5: extensions[0].ha1: must be 32 hex digits (the MD5 of "number:realm:password")`,
		}},
		{"ha1 not hex", "extensions:\n  - number: \"100\"\n    ha1: " + strings.Repeat("g", 32) + "\n", []string{
			`c.yaml:3:5: extensions[0].ha1: must be 32 hex digits (the MD5 of "number:realm:password")`,
		}},
		{"ha1_sha256 length", "extensions:\n  - number: \"100\"\n    ha1_sha256: " + md5Hash + "\n", []string{
			`c.yaml:3:5: extensions[0].ha1_sha256: must be 64 hex digits (the SHA-256 of "number:realm:password")`,
		}},
		{"ha1 with md5 offered", "extensions:\n  - number: \"100\"\n    ha1: " + md5Hash + "\n", nil},
		{"ha1 but only sha-256 offered", "sip:\n  auth_algorithms: [SHA-256]\nextensions:\n  - number: \"100\"\n    ha1: " + md5Hash + "\n", []string{
			"c.yaml:5:5: extensions[0].ha1: sip.auth_algorithms offers only SHA-256, which needs ha1_sha256 (or a password): add it, or set auth_algorithms for this extension",
		}},
		{"ha1_sha256 but only md5 offered", "sip:\n  auth_algorithms: [MD5]\nextensions:\n  - number: \"100\"\n    ha1_sha256: " + sha256Hash + "\n", []string{
			"c.yaml:5:5: extensions[0].ha1_sha256: sip.auth_algorithms offers only MD5, which needs ha1 (or a password): add it, or set auth_algorithms for this extension",
		}},
		{"own algorithms need hashes", "extensions:\n  - number: \"100\"\n    ha1: " + md5Hash + "\n    auth_algorithms: [SHA-256, MD5]\n", []string{
			"c.yaml:4:23: extensions[0].auth_algorithms[0]: SHA-256 needs ha1_sha256 (or a password)",
		}},
		{"own algorithms empty", "extensions:\n  - number: \"100\"\n    password: pw\n    auth_algorithms: []\n", []string{
			"c.yaml:4:5: extensions[0].auth_algorithms: must list at least one of MD5, SHA-256",
		}},
		{"allow outbound", "extensions:\n  - number: \"100\"\n    password: pw\n    allow_outbound: [\"+39*\", \"[\"]\n", []string{
			`c.yaml:4:30: extensions[0].allow_outbound[1]: "[" is not a valid pattern: use * for any digits, ? for one digit, [0-9] for a set`,
		}},
		{"caller id", "extensions:\n  - number: \"100\"\n    password: pw\n    caller_id: \"0212345678\"\n", []string{
			`c.yaml:4:5: extensions[0].caller_id: "0212345678" must be an E.164 number like +390212345678`,
		}},
		{"caller id ok", "extensions:\n  - number: \"100\"\n    password: pw\n    caller_id: \"+390212345678\"\n", nil},
		{"max contacts zero", "extensions:\n  - number: \"100\"\n    password: pw\n    max_contacts: 0\n", []string{"c.yaml:4:5: extensions[0].max_contacts: 0 must be from 1 to 100"}},
		{"max contacts too many", "extensions:\n  - number: \"100\"\n    password: pw\n    max_contacts: 101\n", []string{"c.yaml:4:5: extensions[0].max_contacts: 101 must be from 1 to 100"}},
		{"max contacts 100", "extensions:\n  - number: \"100\"\n    password: pw\n    max_contacts: 100\n", nil},
		{"name with line break", "extensions:\n  - number: \"100\"\n    password: pw\n    name: \"a\\nb\"\n", []string{
			"c.yaml:4:5: extensions[0].name: must not contain control characters (line breaks, tabs, ...)",
		}},
	})
}

func TestExtensionAlgorithms(t *testing.T) {
	clearEnv(t)
	cfg := mustLoad(t, `
extensions:
  - number: "100"
    ha1: `+strings.ToUpper(md5Hash)+`
  - number: "101"
    ha1_sha256: `+sha256Hash+`
  - number: "102"
    password: pw
    auth_algorithms: [sha-256]
`)
	tests := []struct{ number, want string }{
		{"100", "MD5"},     // SHA-256 offered by sip, but no hash to check it
		{"101", "SHA-256"}, // likewise for MD5
		{"102", "SHA-256"},
	}
	for _, tt := range tests {
		if got := strings.Join(cfg.Extension(tt.number).AuthAlgorithms, ","); got != tt.want {
			t.Errorf("extension %s: AuthAlgorithms = %s, want %s", tt.number, got, tt.want)
		}
	}
	if got := cfg.Extension("100").HA1; got != md5Hash {
		t.Errorf("HA1 = %s, want it lower-cased: %s", got, md5Hash)
	}
}

const twoExtensions = `extensions:
  - number: "100"
    password: a
  - number: "101"
    password: b
`

func TestValidateTenants(t *testing.T) {
	runValidation(t, []validationCase{
		{"tenant", twoExtensions + "tenants:\n  - id: studio-1\n    name: Studio\n    numbers: [\"+390212345678\"]\n    extensions: [\"100\", \"101\"]\n", nil},
		{"id missing", "tenants:\n  - name: Studio\n", []string{"c.yaml:2:5: tenants[0].id: required"}},
		{"id bad", "tenants:\n  - id: Studio\n    name: Studio\n", []string{
			`c.yaml:2:9: tenants[0].id: "Studio" must be lower-case letters, digits, "-" or "_", starting with a letter or digit`,
		}},
		{"id twice", "tenants:\n  - id: a\n    name: A\n  - id: a\n    name: B\n", []string{
			`c.yaml:4:9: tenants[1].id: "a" is already used by tenants[0] (line 2); tenant ids must be unique`,
		}},
		{"name missing", "tenants:\n  - id: a\n", []string{"c.yaml:2:5: tenants[0].name: required"}},
		{"numbers", "tenants:\n  - id: a\n    name: A\n    numbers:\n      - \"0212345678\"\n      - \"+39\"\n      - \"+0212345678\"\n", []string{
			`c.yaml:5:9: tenants[0].numbers[0]: "0212345678" must be an E.164 number like +390212345678`,
			`c.yaml:6:9: tenants[0].numbers[1]: "+39" must be an E.164 number like +390212345678`,
			`c.yaml:7:9: tenants[0].numbers[2]: "+0212345678" must be an E.164 number like +390212345678`,
		}},
		{"number twice in a tenant", "tenants:\n  - id: a\n    name: A\n    numbers:\n      - \"+390212345678\"\n      - \"+390212345678\"\n", []string{
			"c.yaml:6:9: tenants[0].numbers[1]: +390212345678 is listed twice (first at line 5)",
		}},
		{"number in two tenants", "tenants:\n  - id: a\n    name: A\n    numbers: [\"+390212345678\"]\n  - id: b\n    name: B\n    numbers:\n      - \"+390212345678\"\n", []string{
			`c.yaml:8:9: tenants[1].numbers[0]: +390212345678 is listed for tenant "b" but already belongs to tenant "a" (line 4); a number can belong to only one tenant`,
		}},
		{"unknown extension", twoExtensions + "tenants:\n  - id: a\n    name: A\n    extensions: [\"100\", \"102\"]\n", []string{
			`c.yaml:9:25: tenants[0].extensions[1]: extension "102" is not defined in extensions`,
		}},
		{"extension twice", twoExtensions + "tenants:\n  - id: a\n    name: A\n    extensions: [\"100\", \"100\"]\n", []string{
			"c.yaml:9:25: tenants[0].extensions[1]: extension 100 is listed twice (first at line 9)",
		}},
		{"extension in two tenants", twoExtensions + "tenants:\n  - id: a\n    name: A\n    extensions: [\"100\"]\n  - id: b\n    name: B\n    extensions:\n      - \"100\"\n", []string{
			`c.yaml:13:9: tenants[1].extensions[0]: extension 100 is listed for tenant "b" but already belongs to tenant "a" (line 9); an extension can belong to only one tenant`,
		}},
		{"outbound trunk", registerTrunk + "tenants:\n  - id: a\n    name: A\n    outbound_trunk: mnet\n", nil},
		{"outbound trunk unknown", "tenants:\n  - id: a\n    name: A\n    outbound_trunk: mnet\n", []string{
			`c.yaml:4:21: tenants[0].outbound_trunk: trunk "mnet" is not defined in trunks`,
		}},
		{"outbound trunk without host", "trunks:\n  - name: ip\n    mode: ip\n    allow: [192.0.2.7]\ntenants:\n  - id: a\n    name: A\n    outbound_trunk: ip\n", []string{
			`c.yaml:8:21: tenants[0].outbound_trunk: trunk "ip" has no host, so it cannot place calls`,
		}},
		{"default tenant", registerTrunk + "    default_tenant: a\ntenants:\n  - id: a\n    name: A\n", nil},
	})
}

// TestSecretsNotInErrors: a broken secret must be named, never shown.
func TestSecretsNotInErrors(t *testing.T) {
	clearEnv(t)
	secrets := []string{"hunter2-pw", "hunter2-ha1", "hunter2-sha", "hunter2-token", "hunter2-trunk"}
	tests := []string{
		"extensions:\n  - number: \"100\"\n    password: hunter2-pw\n    ha1: hunter2-ha1\n    ha1_sha256: hunter2-sha\n",
		"extensions:\n  - number: x\n    password: hunter2-pw\n    pasword: hunter2-pw\n",
		"extensions:\n  - number: \"100\"\n    password: [hunter2-pw]\n",
		"http:\n  listen: 0.0.0.0:8080\n  token: [hunter2-token]\n",
		"trunks:\n  - name: X\n    mode: regster\n    password: hunter2-trunk\n    host: \"a b\"\n",
		"trunks:\n  - name: x\n    mode: register\n    password: {hunter2-trunk: 1}\n",
	}
	for _, y := range tests {
		_, err := LoadBytes("c.yaml", []byte(y))
		if err == nil {
			t.Errorf("LoadBytes(%q) succeeded, want errors", y)
			continue
		}
		for _, s := range secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("errors for %q reveal a secret:\n%v", y, err)
			}
		}
	}
	// Same for a token from the environment.
	t.Setenv("CENTRALINO_HTTP_TOKEN", "hunter2-token")
	t.Setenv("CENTRALINO_HTTP_LISTEN", "0.0.0.0:99999")
	if _, err := LoadBytes("c.yaml", []byte("{}")); err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("LoadBytes with a bad CENTRALINO_HTTP_LISTEN = %v: want an error without the token", err)
	}
}

// With the default (MD5-only) global list, an extension that stores only a
// SHA-256 hash is challenged with SHA-256 rather than refused; an explicit
// global MD5-only list still makes it an error.
func TestSHA256OnlyExtensionWithDefaultAlgorithms(t *testing.T) {
	sha := strings.Repeat("a", 64)
	cfg, err := LoadBytes("c.yaml", []byte("extensions:\n  - number: \"100\"\n    ha1_sha256: "+sha+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Extensions[0].AuthAlgorithms, ","); got != "SHA-256" {
		t.Errorf("auth_algorithms = %s, want SHA-256", got)
	}
	_, err = LoadBytes("c.yaml", []byte("sip:\n  auth_algorithms: [MD5]\nextensions:\n  - number: \"100\"\n    ha1_sha256: "+sha+"\n"))
	if err == nil || !strings.Contains(err.Error(), "offers only MD5") {
		t.Errorf("explicit MD5-only list: err = %v", err)
	}
}
