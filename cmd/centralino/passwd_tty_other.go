//go:build !linux

package main

import "os"

// canHideInput: this system's terminals are not known here, so a
// character device is taken for one, with a warning.
const canHideInput = false

// noEcho cannot turn the echo off on this system: the caller warns.
func noEcho(*os.File) (restore func(), tty bool) { return nil, false }
