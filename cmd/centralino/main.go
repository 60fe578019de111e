// Command centralino is the Centralino PBX: `centralino` (or `centralino
// serve`) runs it; the other subcommands check the configuration or ask a
// running server about its state.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	// Tenants' time zones and calendars' TZIDs must resolve on minimal
	// systems without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise it comes from the VCS information Go embeds.
var version = ""

func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "dev-" + rev
}

type command struct {
	name  string
	short string
	run   func(args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the PBX (the default when no command is given)", runServe},
		{"check", "validate the configuration and exit non-zero on errors", runCheck},
		{"registrations", "list the registered phones of a running server", listCommand("registrations")},
		{"trunks", "show the trunks' registration state of a running server", listCommand("trunks")},
		{"calls", "list the calls in progress on a running server", listCommand("calls")},
		{"cdrs", "list the most recent call records of a running server", listCommand("cdrs")},
		{"status", "list the people's statuses, or set one: status set TENANT[:PERSON] STATE [--until T]", runStatus},
		{"dialplan", "dialplan explain: show, step by step, what a tenant's plan does with a call", runDialplan},
		{"reload", "make the running server re-read its configuration and tenant files now", runReload},
		{"voicemail", "voicemail list [--tenant T]: the voicemails left (audio at /api/voicemails/ID/audio)", runVoicemail},
		{"messages", "messages list [--tenant T]: the messages operators took for the tenants' people", runMessages},
		{"passwd", "print the bcrypt hash of a password read from stdin, for an operator's password_hash [--cost N]", runPasswd},
		{"demo-config", "print the embedded demo configuration (a starting point for centralino.yaml)", runDemoConfig},
		{"version", "print the version", runVersion},
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "Centralino %s: a PBX that answers the phone for Italian professionals.\n\n", buildVersion())
	fmt.Fprintf(w, "Usage: centralino [command] [flags]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.short)
	}
	fmt.Fprintf(w, "\nRun 'centralino <command> --help' for the flags of a command.\n")
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		usage(stdout)
		return 0
	}
	name := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		err := c.run(args, stdout, stderr)
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.Is(err, errUsage):
			return 2
		default:
			fmt.Fprintf(stderr, "centralino %s: %v\n", name, err)
			return 1
		}
	}
	fmt.Fprintf(stderr, "centralino: unknown command %q\n\n", name)
	usage(stderr)
	return 2
}

// errUsage means the flags were wrong; the flag package already said why.
var errUsage = errors.New("usage")

func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("centralino "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: centralino %s [flags]\n\n%s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		fs.Usage()
		return errUsage
	}
	return nil
}

func runVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", "Print the version.", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "centralino %s\n", buildVersion())
	return nil
}
