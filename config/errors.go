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
	// File is the configuration file's name, or the environment variable
	// that supplied the faulty value (then Line is 0).
	File string
	// Line and Column are 1-based; 0 when unknown.
	Line, Column int
	// Path is the setting at fault, as in "trunks[1].mode"; empty for
	// problems with the file as a whole.
	Path string
	// Msg says what is wrong and what is allowed. It never contains a
	// secret (password, ha1, ha1_sha256, token).
	Msg string
}

// Error formats the problem as "file:line: path: msg", leaving out the parts
// that are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// joinErrors sorts problems the way an admin reads them (environment
// variables first, then top to bottom through the file) and joins them.
func joinErrors(errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].Line != errs[j].Line {
			return errs[i].Line < errs[j].Line
		}
		return errs[i].Column < errs[j].Column
	})
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}
