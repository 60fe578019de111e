package e2e

import (
	"context"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// runCLI runs the centralino binary with args and returns its output; it
// fails the test on a non-zero exit.
func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, code := runCLICode(t, "", args...)
	if code != 0 {
		t.Fatalf("centralino %v exited %d:\n%s", args, code, out)
	}
	return out
}

func runCLICode(t *testing.T, dir string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, centralinoBin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("centralino %v: %v", args, err)
	}
	return string(out), 0
}

func execCommand(name string, args ...string) *exec.Cmd { return exec.Command(name, args...) }

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

func itoa(n int) string { return strconv.Itoa(n) }
