package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/centralino/centralino/config"
)

// runPasswd prints the bcrypt hash of an operator's password, for
// password_hash in centralino.yaml.
func runPasswd(args []string, stdout, stderr io.Writer) error {
	return passwd(args, os.Stdin, stdout, stderr)
}

// passwd is runPasswd reading from stdin: typed twice without echo when it
// is a terminal, else its first line. Only the hash goes to stdout, so
// that `centralino passwd < file` or `... | centralino passwd` can be
// used in scripts.
func passwd(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("passwd", "Print the bcrypt hash of an operator's password, for password_hash in centralino.yaml.\n"+
		"The password is read from standard input: on a terminal it is typed twice and not shown;\n"+
		"otherwise the first line is used (printf 'secret' | centralino passwd).", stderr)
	cost := fs.Int("cost", config.DefaultPasswordCost, fmt.Sprintf("bcrypt cost, %d to %d: each step doubles the work of a login", config.MinPasswordCost, config.MaxPasswordCost))
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cost < config.MinPasswordCost || *cost > config.MaxPasswordCost {
		fmt.Fprintf(stderr, "--cost %d must be from %d to %d\n", *cost, config.MinPasswordCost, config.MaxPasswordCost)
		fs.Usage()
		return errUsage
	}
	pw, err := readPassword(stdin, stderr)
	if err != nil {
		return err
	}
	hash, err := config.HashPassword(pw, *cost)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, hash)
	return nil
}

// readPassword reads the password: from a terminal, typed twice with the
// echo off; otherwise the first line.
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	r := bufio.NewReader(stdin)
	f, ok := stdin.(*os.File)
	if !ok {
		return readLine(r)
	}
	restore, tty := noEcho(f)
	if !tty {
		if fi, err := f.Stat(); canHideInput || err != nil || fi.Mode()&os.ModeCharDevice == 0 {
			return readLine(r) // a pipe or a file
		}
		fmt.Fprintln(stderr, "warning: the password cannot be hidden on this system: it is shown as you type")
		restore = func() {}
	}
	defer restore()
	// Ctrl-C while the echo is off must not leave the terminal mute.
	sig, done := make(chan os.Signal, 1), make(chan struct{})
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-sig:
			restore()
			fmt.Fprintln(stderr)
			os.Exit(130)
		case <-done:
		}
	}()
	defer func() {
		signal.Stop(sig)
		close(done)
	}()

	prompt := func(p string) (string, error) {
		fmt.Fprint(stderr, p)
		line, err := readLine(r)
		if tty {
			fmt.Fprintln(stderr) // the Enter was not echoed
		}
		return line, err
	}
	pw, err := prompt("Password: ")
	if err != nil {
		return "", err
	}
	again, err := prompt("Again: ")
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", errors.New("the two passwords differ: nothing printed")
	}
	return pw, nil
}

// readLine returns the first line of r without its line ending; an empty
// one is an error.
func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		if errors.Is(err, io.EOF) {
			return "", errors.New("no password on standard input")
		}
		return "", fmt.Errorf("read the password: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("the password is empty")
	}
	return line, nil
}
