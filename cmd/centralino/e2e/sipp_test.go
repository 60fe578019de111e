package e2e

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sippPcapDir holds the RTP pcaps Debian's sip-tester ships (g711a.pcap,
// dtmf_2833_*.pcap).
const sippPcapDir = "/usr/share/sip-tester"

// mediaPortKey as a -key value stands for the run's own media port (sipp
// does not expand its keywords inside -key values).
const mediaPortKey = "$media_port"

// sippOpts describes one sipp run. Scenarios are text/templates in
// testdata/sipp, rendered with Data; sipp's own [keywords] pass through.
type sippOpts struct {
	Scenario  string
	Data      map[string]any
	IP        string // local address, default 127.0.0.1 (a "provider" uses 127.0.0.2)
	Port      int    // local SIP port; 0 picks a free one
	Target    string // remote host:port, for client scenarios
	Service   string // -s: the user part of the Request-URI
	User      string // -au
	Password  string // -ap
	Calls     int    // -m, default 1
	Rate      string // -r calls per second, with RatePeriod
	Transport string // -t: u1 (default) or t1
	RTPEcho   bool
	Keys      map[string]string
	Extra     []string
	Timeout   time.Duration // global, default 40s
}

// sipp is a sipp process.
type sipp struct {
	t         *testing.T
	name      string
	dir       string
	Port      int
	MediaPort int
	cmd       *exec.Cmd
	out       *syncBuffer
	done      chan struct{}
	code      int
}

func startSipp(t *testing.T, o sippOpts) *sipp {
	t.Helper()
	s := &sipp{t: t, name: strings.TrimSuffix(o.Scenario, ".xml"), dir: t.TempDir(), out: &syncBuffer{}, done: make(chan struct{})}
	if err := os.Symlink(sippPcapDir, filepath.Join(s.dir, "pcap")); err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(filepath.Join("testdata", "sipp", o.Scenario))
	if err != nil {
		t.Fatal(err)
	}
	writeTemplate(t, filepath.Join(s.dir, o.Scenario), string(text), o.Data)

	s.Port = o.Port
	if s.Port == 0 {
		s.Port = freePort(t)
	}
	ctrlPort := freePort(t)
	// Ports picked here are not held until sipp binds them: the media pair
	// must not land on the SIP or control port (seen once in CI: sipp's
	// media port + 2 was its own SIP port).
	s.MediaPort = freeEvenPortPair(t, s.Port, ctrlPort)
	if o.Calls == 0 {
		o.Calls = 1
	}
	if o.Timeout == 0 {
		o.Timeout = 40 * time.Second
	}
	if o.Transport == "" {
		o.Transport = "u1"
	}
	if o.IP == "" {
		o.IP = "127.0.0.1"
	}
	args := []string{
		"-sf", o.Scenario,
		"-i", o.IP, "-p", strconv.Itoa(s.Port),
		"-mi", o.IP, "-mp", strconv.Itoa(s.MediaPort),
		"-cp", strconv.Itoa(ctrlPort),
		"-t", o.Transport,
		"-m", strconv.Itoa(o.Calls),
		"-nostdin", "-timeout", strconv.Itoa(int(o.Timeout/time.Second)) + "s", "-timeout_error",
		"-trace_msg", "-message_file", "messages.log",
		"-trace_err", "-error_file", "errors.log",
	}
	if o.Service != "" {
		args = append(args, "-s", o.Service)
	}
	if o.User != "" {
		args = append(args, "-au", o.User, "-ap", o.Password)
	}
	if o.Rate != "" {
		args = append(args, "-r", o.Rate)
	}
	if o.RTPEcho {
		args = append(args, "-rtp_echo")
	}
	for k, v := range o.Keys {
		if v == mediaPortKey {
			v = strconv.Itoa(s.MediaPort)
		}
		args = append(args, "-key", k, v)
	}
	args = append(args, o.Extra...)
	if o.Target != "" {
		args = append(args, o.Target)
	}
	s.cmd = exec.Command("sipp", args...)
	s.cmd.Dir = s.dir
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start sipp: %v", err)
	}
	go func() {
		err := s.cmd.Wait()
		s.code = 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			s.code = ee.ExitCode()
		} else if err != nil {
			s.code = -1
		}
		close(s.done)
	}()
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			s.dump()
		}
	})
	return s
}

// wait waits for sipp to exit and returns its exit code: 0 when every
// call of the scenario succeeded.
func (s *sipp) wait(d time.Duration) int {
	s.t.Helper()
	select {
	case <-s.done:
		return s.code
	case <-time.After(d):
		s.kill()
		s.t.Fatalf("sipp %s did not finish within %s", s.name, d)
		return -1
	}
}

func (s *sipp) kill() {
	select {
	case <-s.done:
	default:
		s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.done
	}
}

func (s *sipp) dump() {
	for _, f := range []string{"messages.log", "errors.log"} {
		if b, err := os.ReadFile(filepath.Join(s.dir, f)); err == nil {
			s.t.Logf("sipp %s %s:\n%s", s.name, f, tail(string(b), 200))
		}
	}
	s.t.Logf("sipp %s output:\n%s", s.name, tail(s.out.String(), 40))
}

// messages returns sipp's message trace.
func (s *sipp) messages() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "messages.log"))
	return string(b)
}

// runSipp runs a scenario to completion and returns sipp's exit code.
func runSipp(t *testing.T, o sippOpts) (int, *sipp) {
	t.Helper()
	s := startSipp(t, o)
	return s.wait(o.timeout() + 10*time.Second), s
}

func (o sippOpts) timeout() time.Duration {
	if o.Timeout == 0 {
		return 40 * time.Second
	}
	return o.Timeout
}

// mustSipp runs a scenario and fails the test unless every call succeeded.
func mustSipp(t *testing.T, o sippOpts) *sipp {
	t.Helper()
	code, s := runSipp(t, o)
	if code != 0 {
		s.dump()
		t.Fatalf("sipp %s exited %d, want 0", o.Scenario, code)
	}
	return s
}

// freeEvenPortPair finds an even port p with p and p+2 free for UDP (sipp
// binds its media port and port+2), neither of them one of taken.
func freeEvenPortPair(t *testing.T, taken ...int) int {
	t.Helper()
	for range 100 {
		p := freePort(t) &^ 1
		if p < 1024 || p+2 > 65535 || slices.Contains(taken, p) || slices.Contains(taken, p+2) {
			continue
		}
		if udpFree(p) && udpFree(p+2) {
			return p
		}
	}
	t.Fatal("no free even port pair")
	return 0
}

func udpFree(port int) bool {
	c, err := net.ListenPacket("udp4", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	c.Close()
	return true
}
