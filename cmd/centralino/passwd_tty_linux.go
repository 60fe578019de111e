package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// canHideInput: noEcho knows a terminal when it sees one.
const canHideInput = true

// noEcho turns the terminal's echo off when f is a terminal; restore turns
// it back on. tty is false, and nothing changed, when f is not a terminal.
func noEcho(f *os.File) (restore func(), tty bool) {
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, false
	}
	t := *old
	t.Lflag &^= unix.ECHO
	t.Lflag |= unix.ICANON | unix.ISIG
	t.Iflag |= unix.ICRNL
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &t); err != nil {
		return nil, false
	}
	return func() { unix.IoctlSetTermios(fd, unix.TCSETS, old) }, true
}
