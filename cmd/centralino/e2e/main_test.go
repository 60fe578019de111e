// Package e2e runs the real centralino binary on loopback and drives it
// with real third-party SIP clients: sipp, baresip and sox. These tests
// are part of the full suite (`make test`); `go test -short` skips them.
// When a tool is missing they fail, naming the install script.
package e2e

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// binary is the centralino executable built once for the whole run.
var centralinoBin string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	if code, ok := rerunInNetns(); ok {
		os.Exit(code)
	}
	var missing []string
	for _, tool := range []string{"sipp", "baresip", "sox"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if _, err := os.Stat(sippPcapDir); err != nil {
		missing = append(missing, sippPcapDir)
	}
	if len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "e2e: missing %v: run .ci/install-test-deps.sh (make test does)\n", missing)
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "centralino-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	centralinoBin = filepath.Join(dir, "centralino")
	build := exec.Command("go", "build", "-race", "-o", centralinoBin, "..")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if os.Getenv("CENTRALINO_E2E_NORACE") != "" {
		build.Args = []string{"go", "build", "-o", centralinoBin, ".."}
	}
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building centralino:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// rerunInNetns runs this test binary again inside a new network namespace
// whose only interface is loopback, when it can (as root, with unshare
// and ip): then no test, and no browser gathering ICE candidates, can
// reach anything but 127.0.0.0/8 and ::1, and no port in use on the host
// gets in the way. ok is false when the tests should run here instead.
func rerunInNetns() (code int, ok bool) {
	if os.Getenv("CENTRALINO_E2E_NETNS") != "" || os.Geteuid() != 0 {
		return 0, false
	}
	unshare, err1 := exec.LookPath("unshare")
	ip, err2 := exec.LookPath("ip")
	if err1 != nil || err2 != nil || exec.Command(unshare, "-n", "true").Run() != nil {
		return 0, false // no tools, or no right to make namespaces (a container)
	}
	args := append([]string{"-n", "--", "sh", "-c", ip + ` link set lo up && exec "$@"`, "sh", os.Args[0]}, os.Args[1:]...)
	cmd := exec.Command(unshare, args...)
	cmd.Env = append(os.Environ(), "CENTRALINO_E2E_NETNS=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), true
		}
		fmt.Fprintln(os.Stderr, "e2e: running in a network namespace:", err)
		return 1, true
	}
	return 0, true
}

// e2e marks a test as end-to-end: skipped only in -short mode.
func e2e(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: not run with -short")
	}
}
