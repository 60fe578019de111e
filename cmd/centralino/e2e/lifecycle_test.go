package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Registrations and call records survive a restart; a second server on
// the same data folder refuses to start, saying why.
func TestRestartKeepsStateAndLocksData(t *testing.T) {
	e2e(t)
	p := startPBX(t, pbxOptions{})
	port := registerSipp(t, p, "100", "demo-100")
	mustSipp(t, sippOpts{
		Scenario: "uac_expect.xml", Data: map[string]any{"Formats": "18", "From": "0612345678", "Expect": 488},
		Target: p.SIP, Service: demoNumber,
	})
	lastCDR(t, p, 1)

	second := startSecond(t, p)
	if second.code == 0 || !strings.Contains(second.out, "in use by another Centralino") {
		t.Errorf("second server on the same data: exit %d, output:\n%s", second.code, second.out)
	}

	p.Stop()
	q := startPBX(t, pbxOptions{Reuse: p})
	var regs []struct{ Extension, Source string }
	q.getJSON("/api/registrations", &regs)
	if len(regs) != 1 || regs[0].Extension != "100" || !strings.HasSuffix(regs[0].Source, ":"+itoa(port)) {
		t.Errorf("after restart registrations = %+v", regs)
	}
	if c := lastCDR(t, q, 1); c.Code != 488 {
		t.Errorf("after restart newest CDR = %+v", c)
	}
}

type procResult struct {
	code int
	out  string
}

// startSecond runs another server with p's data folder but other ports.
func startSecond(t *testing.T, p *pbx) procResult {
	t.Helper()
	dir := t.TempDir()
	cmd := execCommand(centralinoBin, "serve")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"CENTRALINO_SIP_LISTEN=127.0.0.1:"+itoa(freePort(t)),
		"CENTRALINO_HTTP_LISTEN=127.0.0.1:"+itoa(freePort(t)),
		"CENTRALINO_DATA="+p.Data,
	)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatalf("second server did not exit: %s", out)
	}
	return procResult{exitCode(err), string(out)}
}

// centralino check reports every problem as file:line: path: message and
// exits non-zero; a good file passes.
func TestCheckCommand(t *testing.T) {
	e2e(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "centralino.yaml")
	os.WriteFile(bad, []byte(`sip:
  listen: 127.0.0.1:5060
  lisen: oops
trunks:
  - name: main
    mode: regster
    host: sip.example.net
extensions:
  - number: "100"
    password: x
  - number: "100"
    password: y
`), 0o644)
	out, code := runCLICode(t, dir, "check")
	if code == 0 {
		t.Fatalf("check of a bad file exited 0:\n%s", out)
	}
	for _, want := range []string{`centralino.yaml:3`, `lisen`, `did you mean "listen"`} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	os.WriteFile(bad, []byte(`trunks:
  - name: main
    mode: regster
    host: sip.example.net
extensions:
  - number: "100"
    password: x
  - number: "100"
    password: y
`), 0o644)
	out, code = runCLICode(t, dir, "check", "--config", bad)
	if code == 0 {
		t.Fatalf("check exited 0:\n%s", out)
	}
	for _, want := range []string{`centralino.yaml:3`, `trunks[0].mode: "regster" is not one of register, ip`, `centralino.yaml:8`, `extensions[1].number`} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "password") && (strings.Contains(out, " x\n") || strings.Contains(out, `"y"`)) {
		t.Errorf("check output shows a password:\n%s", out)
	}
	out, code = runCLICode(t, t.TempDir(), "check")
	if code != 0 || !strings.Contains(out, "embedded demo: OK") {
		t.Errorf("check of the demo: exit %d\n%s", code, out)
	}
}

// The listing commands ask the running server and print JSON arrays with
// stable field names.
func TestListingCommands(t *testing.T) {
	e2e(t)
	p := startPBX(t, pbxOptions{})
	registerSipp(t, p, "101", "demo-101")
	for _, cmd := range []string{"registrations", "trunks", "calls", "cdrs"} {
		out := runCLI(t, cmd, "--server", p.HTTP, "--json")
		var rows []map[string]any
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatalf("%s --json is not a JSON array: %v\n%s", cmd, err, out)
		}
		switch cmd {
		case "registrations":
			if len(rows) != 1 || rows[0]["extension"] != "101" || rows[0]["transport"] != "UDP" {
				t.Errorf("registrations = %v", rows)
			}
		case "trunks":
			if len(rows) != 1 || rows[0]["name"] != "demo" || rows[0]["state"] != "ip" {
				t.Errorf("trunks = %v", rows)
			}
		}
		table := runCLI(t, cmd, "--server", p.HTTP)
		t.Logf("centralino %s:\n%s", cmd, table)
	}
	// The API never exposes secrets.
	for _, path := range []string{"/api/registrations", "/api/trunks", "/api/calls", "/api/cdrs"} {
		var raw json.RawMessage
		p.getJSON(path, &raw)
		if strings.Contains(string(raw), "demo-10") {
			t.Errorf("%s shows a password: %s", path, raw)
		}
	}
}
