package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// clearEnv hides any CENTRALINO_* variable of the developer's shell from the
// test (viper ignores empty variables, and so does the loader).
func clearEnv(t testing.TB) {
	t.Helper()
	keys, sections := envKeys()
	for _, k := range append(keys, sections...) {
		t.Setenv(k.name, "")
	}
}

// problems loads y as "c.yaml" and returns its error lines, nil if it loads.
func problems(t *testing.T, y string) []string {
	t.Helper()
	_, err := LoadBytes("c.yaml", []byte(y))
	return errorLines(t, err)
}

func errorLines(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var out []string
	for _, e := range unwrapAll(err) {
		var ce *Error
		if !errors.As(e, &ce) {
			t.Fatalf("error %q is a %T, want *Error", e, e)
		}
		out = append(out, ce.Error())
	}
	return out
}

func unwrapAll(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func mustLoad(t *testing.T, y string) *Config {
	t.Helper()
	cfg, err := LoadBytes("c.yaml", []byte(y))
	if err != nil {
		t.Fatalf("LoadBytes: unexpected error:\n%v", err)
	}
	return cfg
}

func checkLines(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "centralino.yaml", Line: 14, Column: 11, Path: "trunks[1].mode", Msg: `"regster" is not one of register, ip`},
			`centralino.yaml:14:11: trunks[1].mode: "regster" is not one of register, ip`},
		{Error{File: "c.yaml", Line: 2, Path: "x", Msg: "no column"}, "c.yaml:2: x: no column"},
		{Error{File: "CENTRALINO_RTP_PORTS", Path: "rtp.ports", Msg: "bad"}, "CENTRALINO_RTP_PORTS: rtp.ports: bad"},
		{Error{File: "c.yaml", Line: 3, Msg: "invalid YAML: x"}, "c.yaml:3: invalid YAML: x"},
		{Error{File: "c.yaml", Msg: "file is empty"}, "c.yaml: file is empty"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestDemo(t *testing.T) {
	clearEnv(t)
	cfg, err := Demo()
	if err != nil {
		t.Fatalf("Demo: %v", err)
	}
	if cfg.Source != DemoSource {
		t.Errorf("Source = %q, want %q", cfg.Source, DemoSource)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"sip.listen", cfg.SIP.Listen, "127.0.0.1:5060"},
		{"http.listen", cfg.HTTP.Listen, "127.0.0.1:8080"},
		{"rtp ports", [2]int{cfg.RTP.PortMin, cfg.RTP.PortMax}, [2]int{20000, 20999}},
		{"data", cfg.Data, "./centralino-data"},
		{"tenant", cfg.Tenant("demo").Name, "Studio Demo"},
		{"tenant numbers", strings.Join(cfg.Tenant("demo").Numbers, ","), "+390200000000"},
		{"tenant extensions", strings.Join(cfg.Tenant("demo").Extensions, ","), "100,101"},
		{"trunk mode", cfg.Trunk("demo").Mode, TrunkIP},
		{"trunk host", cfg.Trunk("demo").Host, "127.0.0.1:5070"},
		{"trunk allow", cfg.Trunk("demo").AllowPrefixes[0].String(), "127.0.0.0/8"},
		{"trunk default tenant", cfg.Trunk("demo").DefaultTenant, "demo"},
		{"ext 100 password", cfg.Extension("100").Password, "demo-100"},
		{"ext 100 name", cfg.Extension("100").Name, "Demo 100"},
		{"ext 101 password", cfg.Extension("101").Password, "demo-101"},
		{"outbound trunk", cfg.OutboundTrunk(cfg.Tenant("demo")).Name, "demo"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if !strings.Contains(string(DemoYAML()), "tenants:") {
		t.Errorf("DemoYAML does not look like the demo file")
	}
	// The caller owns the bytes: changing them must not change the demo.
	b := DemoYAML()
	clear(b)
	if _, err := Demo(); err != nil {
		t.Errorf("Demo after clearing a DemoYAML copy: %v", err)
	}
}

func TestDefaults(t *testing.T) {
	clearEnv(t)
	cfg := mustLoad(t, `
trunks:
  - name: mnet
    mode: register
    host: sip.messagenet.it:5061
    username: "0212345678"
    password: pw
  - name: ip
    mode: ip
    allow: [192.0.2.1]
extensions:
  - number: "100"
    password: pw
tenants:
  - id: a
    name: A
    numbers: ["+390212345678"]
    extensions: ["100"]
`)
	s := cfg.SIP
	tests := []struct {
		name      string
		got, want any
	}{
		{"sip.listen", s.Listen, "127.0.0.1:5060"},
		{"sip.public_address", s.PublicAddress, "127.0.0.1:5060"},
		{"sip.realm", s.Realm, "centralino"},
		{"sip.user_agent", s.UserAgent, "Centralino"},
		{"sip.auth_algorithms", strings.Join(s.AuthAlgorithms, ","), "MD5"},
		{"sip.nonce_ttl", s.NonceTTL, 5 * time.Minute},
		{"sip.min_expires", s.MinExpires, 60 * time.Second},
		{"sip.max_expires", s.MaxExpires, 3600 * time.Second},
		{"sip.default_expires", s.DefaultExpires, 3600 * time.Second},
		{"sip.ring_timeout", s.RingTimeout, 30 * time.Second},
		{"sip.outbound_deny", strings.Join(s.OutboundDeny, ","), "+3989*"},
		{"rtp.ports", cfg.RTP.Ports, "20000-20999"},
		{"rtp.port_min", cfg.RTP.PortMin, 20000},
		{"rtp.port_max", cfg.RTP.PortMax, 20999},
		{"rtp.public_address", cfg.RTP.PublicAddress, "127.0.0.1"},
		{"rtp.timeout", cfg.RTP.Timeout, 30 * time.Second},
		{"http.listen", cfg.HTTP.Listen, "127.0.0.1:8080"},
		{"data", cfg.Data, "./centralino-data"},
		{"log.level", cfg.Log.Level, "info"},
		{"log.format", cfg.Log.Format, "text"},
		{"register transport", cfg.Trunks[0].Transport, "udp"},
		{"register expires", cfg.Trunks[0].Expires, 300 * time.Second},
		{"register called_number", strings.Join(cfg.Trunks[0].CalledNumber, ","), "to,request_uri"},
		{"register dial_format", cfg.Trunks[0].DialFormat, DialNational},
		{"register caller_id.header", cfg.Trunks[0].CallerID.Header, CallerIDFrom},
		{"register caller_id.from_user", cfg.Trunks[0].CallerID.FromUser, "0212345678"},
		{"register domain", cfg.Trunks[0].Domain, "sip.messagenet.it"},
		{"register auth_username", cfg.Trunks[0].AuthUsername, "0212345678"},
		{"ip called_number", strings.Join(cfg.Trunks[1].CalledNumber, ","), "request_uri,to"},
		{"ip allow prefix", cfg.Trunks[1].AllowPrefixes[0].String(), "192.0.2.1/32"},
		{"ext allow_outbound", strings.Join(cfg.Extensions[0].AllowOutbound, ","), "+390*,+393*,112,113,115,118"},
		{"ext max_contacts", cfg.Extensions[0].MaxContacts, 5},
		{"ext auth_algorithms", strings.Join(cfg.Extensions[0].AuthAlgorithms, ","), "MD5"},
		{"ext caller_id", cfg.Extensions[0].CallerID, "+390212345678"},
		{"source", cfg.Source, "c.yaml"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

// TestExplicitValues checks that what the admin writes wins over defaults,
// including empty lists, and that YAML's number parsing does not eat the
// text: 0100 is not 64, +390200000000 keeps its plus.
func TestExplicitValues(t *testing.T) {
	clearEnv(t)
	cfg := mustLoad(t, `
sip:
  public_address: pbx.example.com
  outbound_deny: []
  auth_algorithms: [sha-256, md5]
rtp:
  public_address: 203.0.113.7
log:
  level: DEBUG
  sip_trace: true
extensions:
  - number: 0100
    name: 1.10
    password: 0123
    allow_outbound: []
    max_contacts: 010
    caller_id: +390200000001
tenants:
  - id: a
    name: A
    numbers: [+390200000000]
    extensions: [0100]
`)
	tests := []struct {
		name      string
		got, want any
	}{
		{"outbound_deny", len(cfg.SIP.OutboundDeny), 0},
		{"auth_algorithms", strings.Join(cfg.SIP.AuthAlgorithms, ","), "SHA-256,MD5"},
		{"rtp.public_address", cfg.RTP.PublicAddress, "203.0.113.7"},
		{"log.level", cfg.Log.Level, "debug"},
		{"log.sip_trace", cfg.Log.SIPTrace, true},
		{"number", cfg.Extensions[0].Number, "0100"},
		{"name", cfg.Extensions[0].Name, "1.10"},
		{"password", cfg.Extensions[0].Password, "0123"},
		{"allow_outbound", len(cfg.Extensions[0].AllowOutbound), 0},
		{"max_contacts", cfg.Extensions[0].MaxContacts, 10},
		{"caller_id", cfg.Extensions[0].CallerID, "+390200000001"},
		{"tenant number", cfg.Tenants[0].Numbers[0], "+390200000000"},
		{"tenant of 0100", cfg.TenantOfExtension("0100").ID, "a"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func TestStructureErrors(t *testing.T) {
	clearEnv(t)
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"empty", "", []string{"c.yaml: file is empty: it has no settings"}},
		{"comments only", "# nothing\n\n", []string{"c.yaml: file is empty: it has no settings"}},
		{"document marker only", "---\n", []string{"c.yaml: file is empty: it has no settings"}},
		{"syntax on first line", "a: b: c\n", []string{"c.yaml:1: invalid YAML: mapping values are not allowed in this context"}},
		{"syntax later", "sip:\n  realm: x\n  listen: a: b\n", []string{"c.yaml:3: invalid YAML: mapping values are not allowed in this context"}},
		{"unterminated list", "sip:\n  auth_algorithms: [MD5,\n", []string{"c.yaml:2: invalid YAML: did not find expected node content"}},
		{"unknown anchor", "sip:\n  realm: x\n  listen: *nope\n", []string{`c.yaml:3: invalid YAML: unknown anchor 'nope' referenced (a value starting with * must be quoted, like "*30")`}},
		{"top level list", "- sip\n", []string{"c.yaml:1:1: the file must be a mapping of sections (sip:, rtp:, trunks:, ...), not a list"}},
		{"top level scalar", "hello\n", []string{"c.yaml:1:1: the file must be a mapping of sections (sip:, rtp:, trunks:, ...), not a single value"}},
		{"unknown keys with suggestions", "sip:\n  lisen: 127.0.0.1:5060\ntrunk: []\nrtp:\n  portz: 1-2\n", []string{
			`c.yaml:2:3: sip.lisen: unknown key (did you mean "listen"?)`,
			`c.yaml:3:1: trunk: unknown key (did you mean "trunks"?)`,
			`c.yaml:5:3: rtp.portz: unknown key (did you mean "ports"?)`,
		}},
		{"unknown key in list item", "extensions:\n  - number: \"100\"\n    pasword: x\n", []string{
			`c.yaml:3:5: extensions[0].pasword: unknown key (did you mean "password"?)`,
		}},
		{"unknown key without suggestion", "colour: blue\n", []string{"c.yaml:1:1: colour: unknown key"}},
		{"keys are case sensitive", "SIP:\n  listen: 127.0.0.1:5060\n", []string{`c.yaml:1:1: SIP: unknown key (did you mean "sip"?)`}},
		{"duplicate key", "sip:\n  realm: a\n  realm: b\n", []string{"c.yaml:3:3: sip.realm: duplicate key (first set at line 2)"}},
		{"merge key", "x: &b {realm: a}\nsip:\n  <<: *b\n", []string{
			"c.yaml:1:1: x: unknown key",
			"c.yaml:3:3: sip: YAML merge keys (<<) are not supported: write the settings out",
		}},
		{"string where list expected", "sip:\n  auth_algorithms: MD5\n", []string{
			`c.yaml:2:20: sip.auth_algorithms: must be a list (one "- item" per line, or [a, b]), not a single value`,
		}},
		{"list where value expected", "sip:\n  realm: [a, b]\n", []string{"c.yaml:2:10: sip.realm: must be a single value, not a list"}},
		{"value where section expected", "sip: 127.0.0.1\n", []string{"c.yaml:1:6: sip: must be a mapping (key: value lines), not a single value"}},
		{"list of values where list of mappings expected", "trunks:\n  - demo\n", []string{"c.yaml:2:5: trunks[0]: must be a mapping (key: value lines), not a single value"}},
		{"mapping where list expected", "trunks:\n  name: x\n", []string{`c.yaml:2:3: trunks: must be a list (one "- item" per line, or [a, b]), not a mapping`}},
		{"bad duration", "sip:\n  nonce_ttl: abc\n", []string{`c.yaml:2:14: sip.nonce_ttl: "abc" is not a duration: write a number with a unit, like "30s" or "5m"`}},
		{"duration without unit", "rtp:\n  timeout: 30\n", []string{`c.yaml:2:12: rtp.timeout: "30" is not a duration: write a number with a unit, like "30s" or "5m"`}},
		{"bad int", "extensions:\n  - max_contacts: lots\n", []string{`c.yaml:2:19: extensions[0].max_contacts: "lots" is not a whole number`}},
		{"bad bool", "log:\n  sip_trace: maybe\n", []string{`c.yaml:2:14: log.sip_trace: "maybe" is not true or false`}},
		{"timestamp", "trunks:\n  - name: 2024-01-02\n", []string{"c.yaml:2:11: trunks[0].name: must be plain text: put the value in quotes"}},
		{"empty list item", "sip:\n  outbound_deny:\n    -\n", []string{"c.yaml:3:6: sip.outbound_deny[0]: empty list item"}},
		{"non-scalar key", "? [a]\n: b\n", []string{"c.yaml:1:3: keys must be plain names, not a list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkLines(t, problems(t, tt.yaml), tt.want)
		})
	}
}

func TestAliases(t *testing.T) {
	clearEnv(t)
	cfg := mustLoad(t, `
trunks:
  - name: a
    mode: ip
    allow: &nets [192.0.2.0/24, 198.51.100.7]
  - name: b
    mode: ip
    allow: *nets
`)
	for _, tr := range cfg.Trunks {
		if got := fmt.Sprint(tr.AllowPrefixes); got != "[192.0.2.0/24 198.51.100.7/32]" {
			t.Errorf("trunk %s: AllowPrefixes = %s", tr.Name, got)
		}
	}
}

func TestEnvOverrides(t *testing.T) {
	clearEnv(t)
	t.Setenv("CENTRALINO_SIP_LISTEN", "192.0.2.10:5062")
	t.Setenv("CENTRALINO_HTTP_LISTEN", "192.0.2.10:8081")
	t.Setenv("CENTRALINO_HTTP_TOKEN", "t0ken")
	t.Setenv("CENTRALINO_RTP_PORTS", "30000-30099")
	t.Setenv("CENTRALINO_DATA", "/var/lib/centralino")
	t.Setenv("CENTRALINO_SIP_NONCE_TTL", "20s")
	t.Setenv("CENTRALINO_SIP_AUTH_ALGORITHMS", "sha-256, md5")
	t.Setenv("CENTRALINO_LOG_SIP_TRACE", "true")
	t.Setenv("CENTRALINO_LOG_LEVEL", "warn")
	// The file sets some of the same keys: the environment wins.
	cfg := mustLoad(t, "sip:\n  listen: 127.0.0.2:5060\nlog:\n  level: debug\n")
	tests := []struct {
		name      string
		got, want any
	}{
		{"sip.listen", cfg.SIP.Listen, "192.0.2.10:5062"},
		{"http.listen", cfg.HTTP.Listen, "192.0.2.10:8081"},
		{"http.token", cfg.HTTP.Token, "t0ken"},
		{"rtp.ports", [2]int{cfg.RTP.PortMin, cfg.RTP.PortMax}, [2]int{30000, 30099}},
		{"data", cfg.Data, "/var/lib/centralino"},
		{"sip.nonce_ttl", cfg.SIP.NonceTTL, 20 * time.Second},
		{"sip.auth_algorithms", strings.Join(cfg.SIP.AuthAlgorithms, ","), "SHA-256,MD5"},
		{"log.sip_trace", cfg.Log.SIPTrace, true},
		{"log.level", cfg.Log.Level, "warn"},
		{"rtp.public_address", cfg.RTP.PublicAddress, "192.0.2.10"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}

	// The demo honours the environment too.
	demo, err := Demo()
	if err != nil {
		t.Fatalf("Demo: %v", err)
	}
	if demo.SIP.Listen != "192.0.2.10:5062" || demo.Data != "/var/lib/centralino" {
		t.Errorf("Demo: sip.listen %q, data %q: environment not applied", demo.SIP.Listen, demo.Data)
	}
}

func TestEnvErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		yaml string
		want []string
	}{
		{"bad port range", map[string]string{"CENTRALINO_RTP_PORTS": "20000"}, "rtp:\n  ports: 20000-20999\n", []string{
			`CENTRALINO_RTP_PORTS: rtp.ports: "20000" must be a range MIN-MAX, like "20000-20999"`,
		}},
		{"bad duration", map[string]string{"CENTRALINO_SIP_RING_TIMEOUT": "long"}, "{}", []string{
			`CENTRALINO_SIP_RING_TIMEOUT: sip.ring_timeout: "long" is not a duration: write a number with a unit, like "30s" or "5m"`,
		}},
		{"bad bool", map[string]string{"CENTRALINO_LOG_SIP_TRACE": "maybe"}, "{}", []string{
			`CENTRALINO_LOG_SIP_TRACE: log.sip_trace: "maybe" is not true or false`,
		}},
		{"any address", map[string]string{"CENTRALINO_SIP_LISTEN": "0.0.0.0:5060"}, "{}", []string{
			`CENTRALINO_SIP_LISTEN: sip.listen: 0.0.0.0:5060 listens on every address, which is not allowed: Centralino sends SIP from the address it listens on; use the machine's IP, like "192.168.1.10:5060"`,
		}},
		{"token needed", map[string]string{"CENTRALINO_HTTP_LISTEN": "0.0.0.0:8080"}, "{}", []string{
			`CENTRALINO_HTTP_LISTEN: http.token: the API is reachable from other hosts (http.listen is 0.0.0.0:8080): set http.token`,
		}},
		{"bad algorithm", map[string]string{"CENTRALINO_SIP_AUTH_ALGORITHMS": "MD5,SHA1"}, "{}", []string{
			`CENTRALINO_SIP_AUTH_ALGORITHMS: sip.auth_algorithms[1]: "SHA1" is not one of MD5, SHA-256`,
		}},
		{"list variable", map[string]string{"CENTRALINO_TRUNKS": "x"}, "{}", []string{
			"CENTRALINO_TRUNKS: trunks: trunks, extensions, operators and tenants can only be set in the file: unset this variable",
		}},
		{"section variable", map[string]string{"CENTRALINO_SIP": "x"}, "{}", []string{
			"CENTRALINO_SIP: sip: is a section, not a setting: unset this variable and set its keys one at a time, like CENTRALINO_SIP_LISTEN",
		}},
		{"empty variable is ignored", map[string]string{"CENTRALINO_SIP_LISTEN": ""}, "{}", nil},
		{"env and file problems together", map[string]string{"CENTRALINO_DATA": "x", "CENTRALINO_LOG_LEVEL": "loud"}, "log:\n  format: xml\n", []string{
			`CENTRALINO_LOG_LEVEL: log.level: "loud" is not one of debug, info, warn, error`,
			`c.yaml:2:3: log.format: "xml" is not one of text, json`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			checkLines(t, problems(t, tt.yaml), tt.want)
		})
	}
}

func TestLoad(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "centralino.yaml")
	if err := os.WriteFile(path, []byte("log:\n  level: verbose\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	checkLines(t, errorLines(t, err), []string{path + `:2:3: log.level: "verbose" is not one of debug, info, warn, error`})

	if err := os.WriteFile(path, DemoYAML(), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load(demo copy): %v", err)
	}
	if cfg.Source != path {
		t.Errorf("Source = %q, want %q", cfg.Source, path)
	}

	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want an fs.ErrNotExist error", err)
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	other := filepath.Join(dir, "other.yaml")
	if err := os.WriteFile(other, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}

	// No flag, no file: the demo.
	if got, err := Resolve(""); got != "" || err != nil {
		t.Errorf(`Resolve("") without centralino.yaml = %q, %v; want "", nil`, got, err)
	}
	// The flag must name an existing regular file.
	if got, err := Resolve(other); got != other || err != nil {
		t.Errorf("Resolve(%q) = %q, %v; want the path", other, got, err)
	}
	if _, err := Resolve(filepath.Join(dir, "nope.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Resolve(missing) error = %v, want fs.ErrNotExist", err)
	}
	if _, err := Resolve(dir); err == nil {
		t.Errorf("Resolve(a directory) = nil error, want one")
	}
	// A directory named centralino.yaml is a mistake, not "use the demo".
	if err := os.Mkdir(DefaultFile, 0o700); err != nil {
		t.Fatal(err)
	}
	if got, err := Resolve(""); err == nil {
		t.Errorf(`Resolve("") with a centralino.yaml directory = %q, nil; want an error`, got)
	}
	if err := os.Remove(DefaultFile); err != nil {
		t.Fatal(err)
	}
	// ./centralino.yaml is used when present; the flag still wins.
	if err := os.WriteFile(DefaultFile, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := Resolve(""); got != DefaultFile || err != nil {
		t.Errorf(`Resolve("") = %q, %v; want %q`, got, err, DefaultFile)
	}
	if got, err := Resolve(other); got != other || err != nil {
		t.Errorf("Resolve(%q) with centralino.yaml present = %q, %v; want the flag", other, got, err)
	}
}
