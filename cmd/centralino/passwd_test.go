package main

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func TestPasswd(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		stdin string
		pw    string // the password the hash must match; "" when an error is expected
		cost  int
		err   string
	}{
		{"line", nil, "s3cret pw\n", "s3cret pw", 10, ""},
		{"no newline", []string{"--cost", "4"}, "s3cret", "s3cret", 4, ""},
		{"crlf", []string{"--cost=5"}, "s3cret\r\nignored\n", "s3cret", 5, ""},
		{"spaces kept", []string{"--cost", "4"}, " s3cret \n", " s3cret ", 4, ""},
		{"empty input", nil, "", "", 0, "no password on standard input"},
		{"empty line", nil, "\n", "", 0, "the password is empty"},
		{"too long", []string{"--cost", "4"}, strings.Repeat("x", 73), "", 0, "the password is longer than 72 bytes, which bcrypt cannot hash"},
		{"cost too low", []string{"--cost", "3"}, "x\n", "", 0, "usage"},
		{"cost too high", []string{"--cost", "17"}, "x\n", "", 0, "usage"},
		{"extra argument", []string{"secret"}, "x\n", "", 0, "usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := passwd(tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				if stdout.Len() > 0 {
					t.Errorf("stdout = %q, want nothing", stdout.String())
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v (stderr %q)", err, stderr.String())
			}
			out := stdout.String()
			hash, ok := strings.CutSuffix(out, "\n")
			if !ok || strings.Contains(hash, "\n") {
				t.Fatalf("stdout = %q, want the hash on one line", out)
			}
			if err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(tt.pw)); err != nil {
				t.Errorf("hash %s does not match %q: %v", hash, tt.pw, err)
			}
			if cost, _ := bcrypt.Cost([]byte(hash)); cost != tt.cost {
				t.Errorf("cost %d, want %d", cost, tt.cost)
			}
			if stderr.Len() > 0 {
				t.Errorf("stderr = %q, want nothing when reading a pipe", stderr.String())
			}
		})
	}
}

func TestPasswdIsACommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"passwd", "--help"}, &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "Usage: centralino passwd") {
		t.Errorf("passwd --help: exit %d, stderr %q", code, stderr.String())
	}
	stdout.Reset()
	usage(&stdout)
	if !strings.Contains(stdout.String(), "  passwd ") {
		t.Errorf("usage does not list passwd:\n%s", stdout.String())
	}
}
