package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// demoHash is the bcrypt hash of "demo" at cost 10 (the demo operator's).
const demoHash = "$2a$10$1l9qZrSrDkXsoRZOUxJLceC9N8oQLSRRMOelU1dNgd2rGp2LKTE7O"

// operatorYAML is one operator, lines 1-4, and what it is checked against.
func operatorYAML(extra string) string {
	return "operators:\n  - username: anna\n    tenants: [\"*\"]\n    password_hash: " + demoHash + "\n" + extra
}

func TestValidateOperators(t *testing.T) {
	tenants := "tenants:\n  - {id: a, name: A}\n  - {id: b, name: B}\n"
	op := func(fields string) string { return tenants + "operators:\n  - " + fields + "\n" }
	hashed := "password_hash: " + demoHash
	runValidation(t, []validationCase{
		{"operator", operatorYAML(""), nil},
		{"full operator", op("{username: anna.rossi-2_b, name: Anna Rossi, tenants: [a, b], language: EN, " + hashed + "}"), nil},
		{"$2b$ and $2y$ hashes", operatorYAML("  - {username: b, tenants: [\"*\"], password_hash: \"$2b$" + demoHash[4:] + "\"}\n  - {username: y, tenants: [\"*\"], password_hash: \"$2y$" + demoHash[4:] + "\"}\n"), nil},

		{"username missing", op("{tenants: [a], " + hashed + "}"), []string{"c.yaml:5:5: operators[0].username: required"}},
		{"username upper case", op("{username: Anna, tenants: [a], " + hashed + "}"), []string{
			`c.yaml:5:6: operators[0].username: "Anna" must be lower-case letters, digits, ".", "-" or "_", starting with a letter or digit, at most 64 characters`,
		}},
		{"username starts with a dot", op("{username: .anna, tenants: [a], " + hashed + "}"), []string{
			`c.yaml:5:6: operators[0].username: ".anna" must be lower-case letters, digits, ".", "-" or "_", starting with a letter or digit, at most 64 characters`,
		}},
		{"username too long", op("{username: " + strings.Repeat("a", 65) + ", tenants: [a], " + hashed + "}"), []string{
			fmt.Sprintf(`c.yaml:5:6: operators[0].username: %q must be lower-case letters, digits, ".", "-" or "_", starting with a letter or digit, at most 64 characters`, strings.Repeat("a", 65)),
		}},
		{"username twice", operatorYAML("  - {username: anna, tenants: [\"*\"], " + hashed + "}\n"), []string{
			`c.yaml:5:6: operators[1].username: "anna" is already used by operators[0] (line 2); operator usernames must be unique`,
		}},
		{"name with a line break", operatorYAML("    name: \"Anna\\nRossi\"\n"), []string{
			"c.yaml:5:5: operators[0].name: must not contain control characters (line breaks, tabs, ...)",
		}},
		{"unknown key", operatorYAML("    password: demo\n"), []string{
			`c.yaml:5:5: operators[0].password: unknown key`,
		}},
		{"key typo", operatorYAML("    langauge: en\n"), []string{
			`c.yaml:5:5: operators[0].langauge: unknown key (did you mean "language"?)`,
		}},
		{"language", operatorYAML("    language: fr\n"), []string{`c.yaml:5:5: operators[0].language: "fr" is not one of it, en`}},

		{"tenants missing", op("{username: anna, " + hashed + "}"), []string{
			`c.yaml:5:5: operators[0].tenants: required: the ids of the tenants this operator answers for, or ["*"] for all`,
		}},
		{"tenants empty", op("{username: anna, tenants: [], " + hashed + "}"), []string{
			`c.yaml:5:22: operators[0].tenants: required: the ids of the tenants this operator answers for, or ["*"] for all`,
		}},
		{"star and more", op("{username: anna, tenants: [a, \"*\"], " + hashed + "}"), []string{
			`c.yaml:5:35: operators[0].tenants[1]: "*" already means every tenant: list it alone`,
		}},
		{"unquoted star", "operators:\n  - {username: anna, tenants: [*], " + hashed + "}\n", []string{
			`c.yaml:2: invalid YAML: did not find expected alphabetic or numeric character`,
		}},
		{"bad tenant id", op("{username: anna, tenants: [A], " + hashed + "}"), []string{
			`c.yaml:5:32: operators[0].tenants[0]: "A" is not a tenant id: lower-case letters, digits, "-" or "_" (or "*" alone for every tenant)`,
		}},
		{"tenant twice", op("{username: anna, tenants: [a, b, a], " + hashed + "}"), []string{
			"c.yaml:5:38: operators[0].tenants[2]: a is listed twice",
		}},
		{"unknown tenant", op("{username: anna, tenants: [a, c], " + hashed + "}"), []string{
			`c.yaml:5:35: operators[0].tenants[1]: tenant "c" is not defined (inline under tenants, or as c.yaml in tenants_dir tenants)`,
		}},
		{"no tenants at all", "operators:\n  - {username: anna, tenants: [a], " + hashed + "}\n", []string{
			`c.yaml:2:32: operators[0].tenants[0]: tenant "a" is not defined (inline under tenants, or as a.yaml in tenants_dir tenants)`,
		}},
	})
}

func TestValidatePasswordHash(t *testing.T) {
	withHash := func(h string) string {
		return "operators:\n  - username: anna\n    tenants: [\"*\"]\n    password_hash: " + h + "\n"
	}
	const fix = `run "centralino passwd" and paste the hash it prints`
	runValidation(t, []validationCase{
		{"good", withHash(demoHash), nil},
		{"quoted", withHash(`"` + demoHash + `"`), nil},
		{"missing", "operators:\n  - username: anna\n    tenants: [\"*\"]\n", []string{
			"c.yaml:2:5: operators[0].password_hash: required: the bcrypt hash of the password (" + fix + ")",
		}},
		{"plain password", withHash("demo"), []string{
			"c.yaml:4:5: operators[0].password_hash: is not a bcrypt hash: plain passwords are not accepted here; " + fix,
		}},
		{"cut short", withHash(demoHash[:59]), []string{
			`c.yaml:4:5: operators[0].password_hash: is not a valid bcrypt hash: 60 characters starting with "$2a$", "$2b$" or "$2y$" and a two-digit cost (was it cut short?); ` + fix,
		}},
		{"other version", withHash("$2x$" + demoHash[4:]), []string{
			`c.yaml:4:5: operators[0].password_hash: is not a valid bcrypt hash: 60 characters starting with "$2a$", "$2b$" or "$2y$" and a two-digit cost (was it cut short?); ` + fix,
		}},
		{"not base64", withHash(demoHash[:59] + "!"), []string{
			`c.yaml:4:5: operators[0].password_hash: is not a valid bcrypt hash: 60 characters starting with "$2a$", "$2b$" or "$2y$" and a two-digit cost (was it cut short?); ` + fix,
		}},
		{"cost too low", withHash("$2a$03$" + demoHash[7:]), []string{
			"c.yaml:4:5: operators[0].password_hash: is not a valid bcrypt hash: its cost, 03, must be from 4 to 31; " + fix,
		}},
		{"cost too high", withHash("$2a$17$" + demoHash[7:]), []string{
			"c.yaml:4:5: operators[0].password_hash: cost 17 makes every login take too long (each step doubles the work; at most 16): " + fix + " (default cost 10)",
		}},
	})
}

// TestPasswordHashNotInErrors: a hash is as good as the password to an
// offline guesser, and a plain password is a secret: neither is echoed.
func TestPasswordHashNotInErrors(t *testing.T) {
	clearEnv(t)
	for _, h := range []string{"hunter2-plain", "$2a$10$hunter2", "$2a$17$" + demoHash[7:], "[" + demoHash + "]"} {
		y := "operators:\n  - username: anna\n    tenants: [x]\n    password_hash: \"" + h + "\"\n"
		if strings.HasPrefix(h, "[") {
			y = "operators:\n  - username: anna\n    tenants: [x]\n    password_hash: " + h + "\n"
		}
		_, err := LoadBytes("c.yaml", []byte(y))
		if err == nil {
			t.Errorf("%s: loaded, want errors", h)
			continue
		}
		for _, secret := range []string{"hunter2", demoHash[7:]} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("errors for %q reveal it:\n%v", h, err)
			}
		}
	}
}

func TestHashPassword(t *testing.T) {
	h, err := HashPassword("s3cret pw", MinPasswordCost)
	if err != nil {
		t.Fatal(err)
	}
	if msg := passwordHashProblem(h); msg != "" {
		t.Errorf("HashPassword's hash fails validation: %s", msg)
	}
	if bcrypt.CompareHashAndPassword([]byte(h), []byte("s3cret pw")) != nil {
		t.Errorf("hash %s does not match its password", h)
	}
	if cost, _ := bcrypt.Cost([]byte(h)); cost != MinPasswordCost {
		t.Errorf("cost %d, want %d", cost, MinPasswordCost)
	}
	tests := []struct {
		pw   string
		cost int
		want string
	}{
		{"", DefaultPasswordCost, "the password is empty"},
		{"x", MinPasswordCost - 1, "cost 3 must be from 4 to 16"},
		{"x", MaxPasswordCost + 1, "cost 17 must be from 4 to 16"},
		{strings.Repeat("x", 73), MinPasswordCost, "the password is longer than 72 bytes, which bcrypt cannot hash"},
	}
	for _, tt := range tests {
		if _, err := HashPassword(tt.pw, tt.cost); err == nil || err.Error() != tt.want {
			t.Errorf("HashPassword(%d bytes, %d) = %v, want %q", len(tt.pw), tt.cost, err, tt.want)
		}
	}
}

func TestValidateConsole(t *testing.T) {
	ops := operatorYAML("")
	runValidation(t, []validationCase{
		{"all keys", ops + `console:
  webrtc_listen: 127.0.0.1:8443
  webrtc_advertise: [203.0.113.5, "2001:db8::5"]
  session_ttl: 8h
  login_failures: 3
  lockout: 1m
  queue:
    strategy: Longest-Idle
    offer_timeout: 15s
    max_misses: 0
    wrap_up: 0s
`, nil},
		{"unknown key", "console:\n  queue:\n    stratgy: ring-all\n  ttl: 1h\n", []string{
			`c.yaml:3:5: console.queue.stratgy: unknown key (did you mean "strategy"?)`,
			"c.yaml:4:3: console.ttl: unknown key",
		}},
		{"bad durations", "console:\n  session_ttl: 12\n  queue:\n    wrap_up: soon\n", []string{
			`c.yaml:2:16: console.session_ttl: "12" is not a duration: write a number with a unit, like "30s" or "5m"`,
			`c.yaml:4:14: console.queue.wrap_up: "soon" is not a duration: write a number with a unit, like "30s" or "5m"`,
		}},
		{"limits", "console:\n  session_ttl: 30s\n  login_failures: 0\n  lockout: 0s\n  queue:\n    strategy: random\n    offer_timeout: 500ms\n    max_misses: -1\n    wrap_up: -1s\n", []string{
			"c.yaml:2:3: console.session_ttl: 30s is too short: must be at least 1m",
			"c.yaml:3:3: console.login_failures: 0 must be at least 1",
			"c.yaml:4:3: console.lockout: 0s is too short: must be at least 1s",
			`c.yaml:6:5: console.queue.strategy: "random" is not one of ring-all, longest-idle`,
			"c.yaml:7:5: console.queue.offer_timeout: 500ms is too short: must be at least 1s",
			"c.yaml:8:5: console.queue.max_misses: -1 must not be negative (0 = never pause an operator)",
			"c.yaml:9:5: console.queue.wrap_up: -1s must not be negative (0 = no wrap-up time)",
		}},

		{"webrtc host name", "console:\n  webrtc_listen: pbx.example.com:8443\n", []string{
			`c.yaml:2:3: console.webrtc_listen: "pbx.example.com" is not an IP address: use the machine's IP, like "192.168.1.10:8080" (host names are not allowed here)`,
		}},
		{"webrtc no port", "console:\n  webrtc_listen: 192.0.2.10\n", []string{
			`c.yaml:2:3: console.webrtc_listen: "192.0.2.10" must be IP:port, like "192.168.1.10:8080"`,
		}},
		{"webrtc any address", "console:\n  webrtc_listen: 0.0.0.0:8443\n", []string{
			`c.yaml:2:3: console.webrtc_listen: 0.0.0.0:8443 listens on every address, which is not allowed: the browsers' audio is sent to the address in the ICE candidates; use the machine's IP, like "192.168.1.10:8080", and webrtc_advertise for the public one`,
		}},
		{"webrtc in the rtp ports", "console:\n  webrtc_listen: 127.0.0.1:20010\n", []string{
			"c.yaml:2:3: console.webrtc_listen: 127.0.0.1:20010 is inside rtp.ports (20000-20999), which the calls' audio uses",
		}},
		{"derived webrtc in the rtp ports", ops + "rtp:\n  ports: 8000-8999\n", []string{
			"c.yaml:6:3: console.webrtc_listen: 127.0.0.1:8080 (from http.listen: set console.webrtc_listen to use another port) is inside rtp.ports (8000-8999), which the calls' audio uses",
		}},
		{"derived webrtc unused without operators", "rtp:\n  ports: 8000-8999\n", nil},
		{"webrtc on the sip port", "console:\n  webrtc_listen: 127.0.0.1:5060\n", []string{
			"c.yaml:2:3: console.webrtc_listen: 127.0.0.1:5060 clashes with sip.listen (127.0.0.1:5060): SIP over UDP already uses that port",
		}},
		{"http on every address with operators", ops + "http:\n  listen: 0.0.0.0:8080\n  token: t\n", []string{
			`c.yaml:6:3: console.webrtc_listen: required when http.listen (0.0.0.0:8080) listens on every address: the browsers' audio needs the machine's IP, like "192.168.1.10:8080" (UDP)`,
		}},
		{"http on every address with webrtc_listen", ops + "http:\n  listen: 0.0.0.0:8080\n  token: t\nconsole:\n  webrtc_listen: 192.0.2.10:8080\n", nil},
		{"http on every address without operators", "http:\n  listen: 0.0.0.0:8080\n  token: t\n", nil},

		{"advertise", "console:\n  webrtc_advertise:\n    - pbx.example.com\n    - 0.0.0.0\n    - 203.0.113.5\n    - 203.0.113.5\n    - \"::ffff:203.0.113.5\"\n", []string{
			`c.yaml:3:7: console.webrtc_advertise[0]: "pbx.example.com" is not an IP address: list the IPs browsers reach this server at (host names are not allowed here)`,
			"c.yaml:4:7: console.webrtc_advertise[1]: 0.0.0.0 is not an address browsers can send audio to: use the machine's public or LAN IP",
			"c.yaml:6:7: console.webrtc_advertise[3]: 203.0.113.5 is listed twice",
			"c.yaml:7:7: console.webrtc_advertise[4]: ::ffff:203.0.113.5 is listed twice",
		}},
	})
}

func TestValidateHTTPS(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeTLS(t, dir)
	cert2, _ := writeTLS(t, t.TempDir())
	missing := filepath.Join(dir, "missing.pem")
	pair := func(c, k string) string { return fmt.Sprintf("http:\n  tls_cert: %q\n  tls_key: %q\n", c, k) }
	runValidation(t, []validationCase{
		{"https", pair(cert, key), nil},
		{"only cert", fmt.Sprintf("http:\n  tls_cert: %q\n", cert), []string{
			"c.yaml:2:3: http.tls_key: required because http.tls_cert is set: set both tls_cert and tls_key, or neither",
		}},
		{"only key", fmt.Sprintf("http:\n  tls_key: %q\n", key), []string{
			"c.yaml:2:3: http.tls_cert: required because http.tls_key is set: set both tls_cert and tls_key, or neither",
		}},
		{"missing key", pair(cert, missing), []string{
			"c.yaml:3:3: http.tls_key: cannot read " + missing + ": no such file or directory",
		}},
		{"cert is a directory", pair(dir, key), []string{
			"c.yaml:2:3: http.tls_cert: " + dir + " is not a regular file",
		}},
		{"mismatched pair", pair(cert2, key), []string{
			"c.yaml:2:3: http.tls_cert: cannot load the certificate with http.tls_key: tls: private key does not match public key",
		}},
		{"not a certificate", pair(key, key), []string{
			"c.yaml:2:3: http.tls_cert: cannot load the certificate with http.tls_key: tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched",
		}},

		{"trusted proxies", "http:\n  trusted_proxies: [127.0.0.1, 10.0.0.0/8, \"2001:db8::/32\"]\n", nil},
		{"bad trusted proxies", "http:\n  trusted_proxies:\n    - 10.0.0.0/33\n    - proxy.lan\n    - 0.0.0.0/0\n    - \"::/0\"\n    - 10.1.2.3/8\n    - 10.0.0.0/8\n", []string{
			`c.yaml:3:7: http.trusted_proxies[0]: "10.0.0.0/33" is not a valid network: write a CIDR like 192.0.2.0/24, or a single IP`,
			`c.yaml:4:7: http.trusted_proxies[1]: "proxy.lan" is not an IP address or a CIDR like 192.0.2.0/24`,
			"c.yaml:5:7: http.trusted_proxies[2]: 0.0.0.0/0 trusts every address, so any client could forge X-Forwarded-For: list the proxies' own addresses",
			"c.yaml:6:7: http.trusted_proxies[3]: ::/0 trusts every address, so any client could forge X-Forwarded-For: list the proxies' own addresses",
			"c.yaml:8:7: http.trusted_proxies[5]: 10.0.0.0/8 is listed twice",
		}},
	})
}

func TestConsoleValues(t *testing.T) {
	clearEnv(t)
	cfg := mustLoad(t, operatorYAML("  - {username: bea, tenants: [a], password_hash: \""+demoHash+"\", language: EN}\n")+
		"tenants:\n  - {id: a, name: A}\n  - {id: b, name: B}\nhttp:\n  trusted_proxies: [10.1.2.3/8, \"::1\"]\n")
	anna, bea := cfg.Operator("anna"), cfg.Operator("bea")
	cn := cfg.Console
	tests := []struct {
		name      string
		got, want any
	}{
		{"name defaults to username", anna.Name, "anna"},
		{"language default", anna.Language, "it"},
		{"language normalised", bea.Language, "en"},
		{"anna serves b", anna.Serves("b"), true},
		{"anna serves unknown", anna.Serves("zz"), true},
		{"bea serves a", bea.Serves("a"), true},
		{"bea serves b", bea.Serves("b"), false},
		{"webrtc listen", cn.WebRTCListen, "127.0.0.1:8080"},
		{"webrtc advertise", len(cn.WebRTCAdvertise), 0},
		{"session ttl", cn.SessionTTL, 12 * time.Hour},
		{"login failures", cn.LoginFailures, 5},
		{"lockout", cn.Lockout, 15 * time.Minute},
		{"strategy", cn.Queue.Strategy, QueueRingAll},
		{"offer timeout", cn.Queue.OfferTimeout, 20 * time.Second},
		{"max misses", cn.Queue.MaxMisses, 3},
		{"wrap up", cn.Queue.WrapUp, 10 * time.Second},
		{"proxy prefixes", fmt.Sprint(cfg.HTTP.ProxyPrefixes), "[10.0.0.0/8 ::1/128]"},
		{"no https", cfg.HTTP.TLSCert + cfg.HTTP.TLSKey, ""},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
	// Without operators, an http.listen on every address leaves the
	// WebRTC address empty rather than failing.
	cfg = mustLoad(t, "http:\n  listen: \"[::]:8080\"\n  token: t\n")
	if cfg.Console.WebRTCListen != "" {
		t.Errorf("webrtc_listen = %q, want empty", cfg.Console.WebRTCListen)
	}
	cfg = mustLoad(t, "http:\n  listen: \"[::1]:8081\"\n")
	if cfg.Console.WebRTCListen != "[::1]:8081" {
		t.Errorf("webrtc_listen from an IPv6 http.listen = %q", cfg.Console.WebRTCListen)
	}
}

func TestConsoleEnv(t *testing.T) {
	clearEnv(t)
	t.Setenv("CENTRALINO_CONSOLE_WEBRTC_LISTEN", "192.0.2.10:3478")
	t.Setenv("CENTRALINO_CONSOLE_WEBRTC_ADVERTISE", "203.0.113.5, 198.51.100.7")
	t.Setenv("CENTRALINO_CONSOLE_SESSION_TTL", "2h")
	t.Setenv("CENTRALINO_CONSOLE_LOGIN_FAILURES", "10")
	t.Setenv("CENTRALINO_CONSOLE_QUEUE_STRATEGY", "longest-idle")
	t.Setenv("CENTRALINO_CONSOLE_QUEUE_MAX_MISSES", "0")
	t.Setenv("CENTRALINO_HTTP_TRUSTED_PROXIES", "10.0.0.1,10.0.0.2")
	cfg := mustLoad(t, operatorYAML("console:\n  session_ttl: 1h\n"))
	cn := cfg.Console
	tests := []struct {
		name      string
		got, want any
	}{
		{"webrtc_listen", cn.WebRTCListen, "192.0.2.10:3478"},
		{"webrtc_advertise", strings.Join(cn.WebRTCAdvertise, ","), "203.0.113.5,198.51.100.7"},
		{"session_ttl (the variable wins)", cn.SessionTTL, 2 * time.Hour},
		{"login_failures", cn.LoginFailures, 10},
		{"strategy", cn.Queue.Strategy, QueueLongestIdle},
		{"max_misses 0 kept", cn.Queue.MaxMisses, 0},
		{"proxies", fmt.Sprint(cfg.HTTP.ProxyPrefixes), "[10.0.0.1/32 10.0.0.2/32]"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestConsoleEnvErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"operators", map[string]string{"CENTRALINO_OPERATORS": "anna"}, []string{
			"CENTRALINO_OPERATORS: operators: trunks, extensions, operators and tenants can only be set in the file: unset this variable",
		}},
		{"section", map[string]string{"CENTRALINO_CONSOLE_QUEUE": "x"}, []string{
			"CENTRALINO_CONSOLE_QUEUE: console.queue: is a section, not a setting: unset this variable and set its keys one at a time, like CENTRALINO_CONSOLE_QUEUE_STRATEGY",
		}},
		{"duration", map[string]string{"CENTRALINO_CONSOLE_LOCKOUT": "forever"}, []string{
			`CENTRALINO_CONSOLE_LOCKOUT: console.lockout: "forever" is not a duration: write a number with a unit, like "30s" or "5m"`,
		}},
		{"value", map[string]string{"CENTRALINO_CONSOLE_QUEUE_STRATEGY": "random"}, []string{
			`CENTRALINO_CONSOLE_QUEUE_STRATEGY: console.queue.strategy: "random" is not one of ring-all, longest-idle`,
		}},
		{"any address", map[string]string{"CENTRALINO_CONSOLE_WEBRTC_LISTEN": "0.0.0.0:3478"}, []string{
			`CENTRALINO_CONSOLE_WEBRTC_LISTEN: console.webrtc_listen: 0.0.0.0:3478 listens on every address, which is not allowed: the browsers' audio is sent to the address in the ICE candidates; use the machine's IP, like "192.168.1.10:8080", and webrtc_advertise for the public one`,
		}},
		{"proxies", map[string]string{"CENTRALINO_HTTP_TRUSTED_PROXIES": "10.0.0.1,nope"}, []string{
			`CENTRALINO_HTTP_TRUSTED_PROXIES: http.trusted_proxies[1]: "nope" is not an IP address or a CIDR like 192.0.2.0/24`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			checkLines(t, problems(t, "{}"), tt.want)
		})
	}
}

// TestConsoleRestartSettings: the HTTPS files and the WebRTC address are
// restart-only; a WebRTC address derived from http.listen counts as
// unchanged while http.listen is.
func TestConsoleRestartSettings(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	cert, key := writeTLS(t, dir)
	pin := mustLoad(t, operatorYAML(""))
	tests := []struct {
		name, yaml  string
		want        []string
		listen, adv string
	}{
		{"unchanged", operatorYAML(""), nil, "127.0.0.1:8080", ""},
		{"derived value written out", operatorYAML("console:\n  webrtc_listen: 127.0.0.1:8080\n"), nil, "127.0.0.1:8080", ""},
		{"new http.listen", operatorYAML("http:\n  listen: 127.0.0.1:8090\n"), []string{"http.listen"}, "127.0.0.1:8080", ""},
		{"new webrtc", operatorYAML("console:\n  webrtc_listen: 127.0.0.1:3478\n  webrtc_advertise: [203.0.113.5]\n"),
			[]string{"console.webrtc_listen", "console.webrtc_advertise"}, "127.0.0.1:8080", ""},
		{"https", operatorYAML(fmt.Sprintf("http:\n  tls_cert: %q\n  tls_key: %q\n", cert, key)), []string{"http.tls_cert", "http.tls_key"}, "127.0.0.1:8080", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, fatal := parseMain(source{name: "c.yaml", data: []byte(tt.yaml)}, pin)
			if len(fatal) > 0 || len(m.c.errs) > 0 {
				t.Fatalf("parseMain: %v %v", joinErrors(fatal), joinErrors(m.c.errs))
			}
			if !slices.Equal(m.restart, tt.want) {
				t.Errorf("restart = %v, want %v", m.restart, tt.want)
			}
			if m.cfg.Console.WebRTCListen != tt.listen || strings.Join(m.cfg.Console.WebRTCAdvertise, ",") != tt.adv || m.cfg.HTTP.TLSCert != "" {
				t.Errorf("in force: webrtc %s %v, tls_cert %q", m.cfg.Console.WebRTCListen, m.cfg.Console.WebRTCAdvertise, m.cfg.HTTP.TLSCert)
			}
		})
	}
}

func TestTenantConsoleAndContacts(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name  string
		yaml  string
		extra []string
		want  []string
	}{
		{"valid", tenantBase + "console:\n  answer_phrase: Studio T, buongiorno\n  instructions: |\n    Prima riga.\n    \tSeconda riga.\n  hold: {file: hold.wav}\ncontacts:\n  - {number: \"+390299999999\", name: Banca, note: chiede di anna}\n  - {number: \"+393331234567\", name: Mario}\n", []string{"tenants/hold.wav"}, nil},
		{"hold say", tenantBase + "console:\n  hold: {say: \"Attendete, prego.\"}\n", nil, nil},
		{"console keys", tenantBase + "console:\n  phrase: x\n  answer_phrase: \"a\\nb\"\n  instructions: \"bell \\a\"\n", nil, []string{
			"tenants/t.yaml:8:3: console.phrase: unknown key",
		}},
		{"console values", tenantBase + "console:\n  answer_phrase: \"a\\nb\"\n  instructions: \"bell \\a\"\n", nil, []string{
			"tenants/t.yaml:8:18: console.answer_phrase: must not contain control characters (line breaks, tabs, ...)",
			"tenants/t.yaml:9:17: console.instructions: must not contain control characters other than line breaks and tabs",
		}},
		{"console shape", tenantBase + "console: [x]\n", nil, []string{
			"tenants/t.yaml:7:10: console: must be a mapping (key: value lines), not a list",
		}},
		{"hold shape", tenantBase + "console:\n  hold: music.wav\n", nil, []string{
			`tenants/t.yaml:8:9: console.hold: must be a mapping: {file: greeting.wav}, {say: "text to speak"} or {closure: true}, not a single value`,
		}},
		{"hold empty", tenantBase + "console:\n  hold: {}\n", nil, []string{
			"tenants/t.yaml:8:9: console.hold: set one of file (a .wav file) or say (a text to speak), or leave it out",
		}},
		{"hold missing file", tenantBase + "console:\n  hold: {file: music.wav}\n", nil, []string{
			"tenants/t.yaml:8:16: console.hold.file: cannot read tenants/music.wav: file does not exist (a relative path is relative to the folder of tenants/t.yaml)",
		}},
		{"hold not wav", tenantBase + "console:\n  hold: {file: music.mp3}\n", nil, []string{
			`tenants/t.yaml:8:16: console.hold.file: "music.mp3" must be a .wav file`,
		}},
		{"hold closure", tenantBase + "console:\n  hold: {closure: true}\n", nil, []string{
			"tenants/t.yaml:8:19: console.hold.closure: closure: true plays the greeting of the closure in force, which makes no sense here: use file or say",
		}},
		{"hold blank say", tenantBase + "console:\n  hold: {say: \" \"}\n", nil, []string{
			"tenants/t.yaml:8:15: console.hold.say: is empty: write the text to speak",
		}},
		{"contacts", tenantBase + "contacts:\n  - {name: A}\n  - {number: \"0299999999\", name: B}\n  - {number: \"+390299999999\", name: C}\n  - {number: \"+390299999999\", name: D}\n  - {number: \"+390288888888\"}\n  - {number: \"+390277777777\", name: E, note: \"x\\ny\"}\n", nil, []string{
			"tenants/t.yaml:8:5: contacts[0].number: required: the caller's E.164 number, like +390212345678",
			`tenants/t.yaml:9:14: contacts[1].number: "0299999999" must be an E.164 number like +390212345678`,
			"tenants/t.yaml:11:14: contacts[3].number: +390299999999 is already listed in contacts[2] (line 10); a number can be one contact only",
			"tenants/t.yaml:12:5: contacts[4].name: required",
			"tenants/t.yaml:13:46: contacts[5].note: must not contain control characters (line breaks, tabs, ...)",
		}},
		{"contact keys", tenantBase + "contacts:\n  - {phone: \"+390299999999\", name: A}\n", nil, []string{
			`tenants/t.yaml:8:6: contacts[0].phone: unknown key`,
		}},
		{"contacts shape", tenantBase + "contacts: {number: \"+390299999999\"}\n", nil, []string{
			`tenants/t.yaml:7:11: contacts: must be a list (one "- item" per line, or [a, b]), not a mapping`,
		}},
		{"role", "name: T\npeople:\n  - {id: a, role: \"avv.\\tx\"}\n", nil, []string{
			"tenants/t.yaml:3:19: people[0].role: must not contain control characters (line breaks, tabs, ...)",
		}},
		{"operator action", tenantBase + "rules:\n  - do:\n      - operator\n      - operator: {max_wait: 500ms}\n      - voicemail\n", nil, []string{
			"tenants/t.yaml:10:30: rules[0].do[1].operator.max_wait: 500ms is too short: must be at least 1s",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := loadTenant(t, tt.yaml, tt.extra...)
			checkLines(t, got, tt.want)
		})
	}
}

func TestTenantConsoleValues(t *testing.T) {
	clearEnv(t)
	cfg, errs := loadFS(t, tenantMain, map[string]string{
		"tenants/it.yaml":  "name: Studio Rossi\ncontacts:\n  - {number: \"+390299999999\", name: Banca, note: chiede di anna}\n",
		"tenants/en.yaml":  "name: Smith & Co\nlanguage: en\n",
		"tenants/own.yaml": "name: X\nconsole:\n  answer_phrase: Pronto, studio X\n  hold: {file: hold.wav}\npeople: [{id: a, role: avvocato}]\n",
		"tenants/hold.wav": "RIFF",
	})
	if errs != nil {
		t.Fatalf("load: %v", errs)
	}
	it, en, own := cfg.Tenant("it"), cfg.Tenant("en"), cfg.Tenant("own")
	c, ok := it.Contact("+390299999999")
	_, none := it.Contact("+390211111111")
	tests := []struct {
		name      string
		got, want any
	}{
		{"it phrase", it.Console.AnswerPhrase, "Studio Rossi, buongiorno"},
		{"en phrase", en.Console.AnswerPhrase, "Smith & Co, good morning"},
		{"own phrase", own.Console.AnswerPhrase, "Pronto, studio X"},
		{"hold resolved", own.Console.Hold.File, filepath.Join("tenants", "hold.wav")},
		{"no hold", it.Console.Hold, Sound{}},
		{"role", own.People[0].Role, "avvocato"},
		{"contact", c, Contact{Number: "+390299999999", Name: "Banca", Note: "chiede di anna"}},
		{"contact found", ok, true},
		{"no contact", none, false},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

// The hold sound goes through the same playability check as the plans'
// sounds, so that `centralino check` reports it.
func TestCheckSoundChecksHold(t *testing.T) {
	clearEnv(t)
	fsys := osFS{sound: func(path string) error { return fmt.Errorf("not a RIFF/WAVE file") }}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "hold.wav"), "x")
	main := filepath.Join(dir, "c.yaml")
	y := "tenants:\n  - id: t\n    name: T\n    console:\n      hold: {file: hold.wav}\n"
	_, err := loadAll(source{name: main, data: []byte(y)}, fsys)
	want := main + ":5:20: tenants[0].console.hold.file: " + filepath.Join(dir, "hold.wav") + " cannot be played: not a RIFF/WAVE file"
	checkLines(t, errorLines(t, err), []string{want})

	// A missing file is reported once: there is nothing to play.
	y = strings.Replace(y, "hold.wav", "gone.wav", 1)
	_, err = loadAll(source{name: main, data: []byte(y)}, fsys)
	gone := filepath.Join(dir, "gone.wav")
	want = main + ":5:20: tenants[0].console.hold.file: cannot read " + gone + ": no such file or directory (a relative path is relative to the folder of " + main + ")"
	checkLines(t, errorLines(t, err), []string{want})
}

func TestOperatorLookups(t *testing.T) {
	clearEnv(t)
	loaded := mustLoad(t, operatorYAML("  - {username: bea, tenants: [\"*\"], password_hash: \""+demoHash+"\"}\n"))
	byHand := &Config{Operators: []Operator{{Username: "anna"}, {Username: "bea"}}}
	for name, cfg := range map[string]*Config{"loaded": loaded, "by hand": byHand, "redacted": loaded.Redacted()} {
		if o := cfg.Operator("bea"); o != &cfg.Operators[1] {
			t.Errorf("%s: Operator(bea) = %p, want %p", name, o, &cfg.Operators[1])
		}
		if o := cfg.Operator("carla"); o != nil {
			t.Errorf("%s: Operator(carla) = %+v, want nil", name, o)
		}
	}
	r := loaded.Redacted()
	if r.Operator("anna").PasswordHash != redactedSecret || loaded.Operator("anna").PasswordHash != demoHash {
		t.Errorf("Redacted: hash %q, original %q", r.Operator("anna").PasswordHash, loaded.Operator("anna").PasswordHash)
	}
	r.Operators[0].Tenants[0] = "changed"
	if loaded.Operators[0].Tenants[0] == "changed" {
		t.Errorf("Redacted shares the operators' tenants with the original")
	}
}
