package main

import "io"

// runMessages is `centralino messages [list]`: the messages operators took,
// asked of the running server like `voicemail list`.
func runMessages(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "list" {
		args = args[1:]
	}
	return listCommand("messages")(args, stdout, stderr)
}
