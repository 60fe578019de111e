package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error is one problem found while loading a configuration. Load and
// LoadBytes return every problem they find, joined with errors.Join, so a
// caller can list them all (errors.As, or Unwrap() []error on the result).
type Error struct {
	// File is the configuration or tenant file's name, or the environment
	// variable that supplied the faulty value (then Line is 0).
	File string
	// Line and Column are 1-based; 0 when unknown.
	Line, Column int
	// Path is the setting at fault, as in "trunks[1].mode"; empty for
	// problems with the file as a whole.
	Path string
	// Msg says what is wrong and what is allowed. It never contains a
	// secret (password, ha1, ha1_sha256, password_hash, token).
	Msg string
}

// Error formats the problem as "file:line:column: path: msg", leaving out
// the parts that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// FileError is a file that a reload rejected: Err is the errors.Join of
// the *Error values found (they may point into other files, when the
// change broke them).
type FileError struct {
	File string
	Err  error
}

// sortErrors orders one file's problems the way an admin reads them:
// environment variables first (they have no line), then top to bottom.
func sortErrors(errs []*Error) {
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].Line != errs[j].Line {
			return errs[i].Line < errs[j].Line
		}
		return errs[i].Column < errs[j].Column
	})
}

// joinErrors sorts problems and joins them.
func joinErrors(errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	sortErrors(errs)
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}

// fileErrors groups problems by the file they belong to: the main file
// (its environment variables included) and each tenant file. A file with
// problems is rejected as a whole by a reload.
type fileErrors map[string][]*Error

func (fe fileErrors) add(file string, errs ...*Error) {
	if len(errs) > 0 {
		fe[file] = append(fe[file], errs...)
	}
}

// join returns every problem, file by file in the given order (then any
// other file, by name), each file's problems top to bottom.
func (fe fileErrors) join(order []string) error {
	var all []*Error
	done := map[string]bool{}
	add := func(f string) {
		if done[f] {
			return
		}
		done[f] = true
		errs := fe[f]
		sortErrors(errs)
		all = append(all, errs...)
	}
	for _, f := range order {
		add(f)
	}
	rest := make([]string, 0, len(fe))
	for f := range fe {
		rest = append(rest, f)
	}
	sort.Strings(rest)
	for _, f := range rest {
		add(f)
	}
	if len(all) == 0 {
		return nil
	}
	out := make([]error, len(all))
	for i, e := range all {
		out[i] = e
	}
	return errors.Join(out...)
}
