package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a process writing and a test reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// freePort returns a port that is free for both UDP and TCP on 127.0.0.1
// (SIP listens on both). The kernel picks it, so parallel runs do not clash.
func freePort(t *testing.T) int {
	t.Helper()
	for range 50 {
		u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
		u.Close()
		if err != nil {
			continue
		}
		l.Close()
		return port
	}
	t.Fatal("no free port")
	return 0
}

// rtpRange picks a port range for the server's RTP below the kernel's
// ephemeral range, so that it never collides with the ports tools pick.
func rtpRange() (int, int) {
	base := 20000 + 200*rand.IntN(60)
	return base, base + 199
}

// pbx is a running centralino process.
type pbx struct {
	t       *testing.T
	SIPPort int
	SIP     string // 127.0.0.1:port
	HTTP    string // 127.0.0.1:port
	RTPMin  int
	RTPMax  int
	Dir     string // working directory
	Data    string // data folder
	Config  string // config file path ("" for the demo)

	cmd    *exec.Cmd
	stdout *syncBuffer
	stderr *syncBuffer
	exited chan struct{}
}

// pbxOptions describe how to start a server.
type pbxOptions struct {
	// Config is a text/template of centralino.yaml with fields .SIP,
	// .HTTP, .RTP (a "min-max" range), .Data and .Dir. Empty means the
	// embedded demo, with the addresses given through CENTRALINO_*
	// environment variables.
	Config string
	// Vars are extra template fields for Config.
	Vars map[string]any
	// Env adds environment variables (CENTRALINO_* overrides).
	Env []string
	// Dir and ports reuse an earlier server's (restart tests).
	Reuse *pbx
	// PreStart runs once the directories are chosen, before the server
	// starts (to write tenant files, say).
	PreStart func(p *pbx)
}

func startPBX(t *testing.T, opts pbxOptions) *pbx {
	t.Helper()
	p := &pbx{t: t}
	if r := opts.Reuse; r != nil {
		p.SIPPort, p.SIP, p.HTTP, p.RTPMin, p.RTPMax, p.Dir, p.Data = r.SIPPort, r.SIP, r.HTTP, r.RTPMin, r.RTPMax, r.Dir, r.Data
	} else {
		p.SIPPort = freePort(t)
		p.SIP = "127.0.0.1:" + strconv.Itoa(p.SIPPort)
		p.HTTP = "127.0.0.1:" + strconv.Itoa(freePort(t))
		p.RTPMin, p.RTPMax = rtpRange()
		p.Dir = t.TempDir()
		p.Data = filepath.Join(p.Dir, "data")
	}
	args := []string{"serve"}
	env := append(os.Environ(),
		"CENTRALINO_SIP_LISTEN="+p.SIP,
		"CENTRALINO_HTTP_LISTEN="+p.HTTP,
		fmt.Sprintf("CENTRALINO_RTP_PORTS=%d-%d", p.RTPMin, p.RTPMax),
		"CENTRALINO_DATA="+p.Data,
		"GORACE=halt_on_error=0",
	)
	env = append(env, opts.Env...)
	if opts.Config != "" {
		p.Config = filepath.Join(p.Dir, "centralino.yaml")
		vars := map[string]any{
			"SIP": p.SIP, "HTTP": p.HTTP, "RTP": fmt.Sprintf("%d-%d", p.RTPMin, p.RTPMax), "Data": p.Data, "Dir": p.Dir,
		}
		for k, v := range opts.Vars {
			vars[k] = v
		}
		writeTemplate(t, p.Config, opts.Config, vars)
		args = append(args, "--config", p.Config)
	}
	if opts.PreStart != nil {
		opts.PreStart(p)
	}
	p.stdout, p.stderr = &syncBuffer{}, &syncBuffer{}
	p.cmd = exec.Command(centralinoBin, args...)
	p.cmd.Dir, p.cmd.Env = p.Dir, env
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start centralino: %v", err)
	}
	p.exited = make(chan struct{})
	go func() { p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("centralino stdout:\n%s", p.stdout.String())
			t.Logf("centralino stderr:\n%s", tail(p.stderr.String(), 400))
		}
	})
	p.waitReady()
	return p
}

func tail(s string, lines int) string {
	ls := strings.Split(s, "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}

func (p *pbx) waitReady() {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			p.t.Fatalf("centralino exited at start:\n%s\n%s", p.stdout.String(), p.stderr.String())
		default:
		}
		if strings.Contains(p.stderr.String(), "centralino ready") {
			if res, err := http.Get("http://" + p.HTTP + "/healthz"); err == nil {
				res.Body.Close()
				// 400: an HTTPS listener telling a plain request off.
				if res.StatusCode == 200 || res.StatusCode == 400 {
					return
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatalf("centralino not ready after 20s:\n%s", p.stderr.String())
}

// Stop ends the server with SIGTERM (SIGKILL after 15 s) and fails the test
// if the race detector reported anything.
func (p *pbx) Stop() {
	select {
	case <-p.exited:
	default:
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(15 * time.Second):
			p.t.Errorf("centralino did not stop within 15s of SIGTERM")
			p.cmd.Process.Kill()
			<-p.exited
		}
	}
	if strings.Contains(p.stderr.String(), "DATA RACE") {
		p.t.Errorf("the race detector found a data race in centralino:\n%s", p.stderr.String())
	}
	if strings.Contains(p.stderr.String(), "panic:") {
		p.t.Errorf("centralino panicked:\n%s", p.stderr.String())
	}
}

// Kill ends the server with SIGKILL, as a crash would.
func (p *pbx) Kill() {
	p.cmd.Process.Kill()
	<-p.exited
}

// getJSON fetches an API path into v.
func (p *pbx) getJSON(path string, v any) {
	p.t.Helper()
	res, err := http.Get("http://" + p.HTTP + path)
	if err != nil {
		p.t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		p.t.Fatalf("GET %s: %s: %s", path, res.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		p.t.Fatalf("GET %s: %v: %s", path, err, body)
	}
}

// metric returns the value of a Prometheus sample line like
// `centralino_active_calls 0` or `name{label="x"} 1`; -1 if absent.
func (p *pbx) metric(sample string) float64 {
	p.t.Helper()
	res, err := http.Get("http://" + p.HTTP + "/metrics")
	if err != nil {
		p.t.Fatalf("metrics: %v", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func writeTemplate(t *testing.T, path, text string, data any) {
	t.Helper()
	tpl, err := template.New(filepath.Base(path)).Option("missingkey=error").Parse(text)
	if err != nil {
		t.Fatalf("template %s: %v", path, err)
	}
	var b bytes.Buffer
	if err := tpl.Execute(&b, data); err != nil {
		t.Fatalf("template %s: %v", path, err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// run runs a command with a deadline and returns its combined output.
func run(ctx context.Context, dir string, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}
