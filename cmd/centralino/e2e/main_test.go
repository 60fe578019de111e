// Package e2e runs the real centralino binary on loopback and drives it
// with real third-party SIP clients: sipp, baresip and sox. These tests
// are part of the full suite (`make test`); `go test -short` skips them.
// When a tool is missing they fail, naming the install script.
package e2e

import (
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

// e2e marks a test as end-to-end: skipped only in -short mode.
func e2e(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test: not run with -short")
	}
}
