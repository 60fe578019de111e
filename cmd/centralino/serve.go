package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/centralino/centralino/config"
	"github.com/centralino/centralino/media"
	"github.com/centralino/centralino/pbx"
	"github.com/centralino/centralino/pbx/store"
)

// loadConfig resolves and loads the configuration: the --config file, else
// ./centralino.yaml, else the embedded demo.
func loadConfig(flagPath string) (*config.Config, error) {
	path, err := config.Resolve(flagPath)
	if err != nil {
		return nil, err
	}
	if path == "" {
		return config.Demo()
	}
	return config.LoadWith(path, loadOptions())
}

// loadOptions make loading decode every greeting file once, so that one
// that cannot be played is reported with its file and line now, not when a
// caller should hear it.
func loadOptions() config.Options {
	return config.Options{CheckSound: func(path string) error {
		_, err := media.LoadPrompt(path)
		return err
	}}
}

// configFromFlags parses a command's only flag, --config, and loads the
// configuration, printing every problem on its own line.
func configFromFlags(name, synopsis, usage string, args []string, stderr io.Writer) (*config.Config, error) {
	fs := newFlags(name, synopsis, stderr)
	cfgPath := fs.String("config", "", usage)
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		printConfigErrors(stderr, err)
		return nil, errors.New("configuration is not valid")
	}
	return cfg, nil
}

func runCheck(args []string, stdout, stderr io.Writer) error {
	cfg, err := configFromFlags("check",
		"Validate the configuration (the --config file, else ./centralino.yaml, else the embedded demo).\nEvery problem is printed as file:line: field: what is wrong.",
		"configuration file", args, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: OK (%d trunks, %d extensions, %d tenants)\n", cfg.Source, len(cfg.Trunks), len(cfg.Extensions), len(cfg.Tenants))
	if _, err := exec.LookPath("espeak-ng"); err != nil && pbx.UsesSay(cfg) {
		fmt.Fprintln(stdout, "warning: the plans speak `say:` texts but espeak-ng is not installed: those steps will be skipped (apt install espeak-ng)")
	}
	return nil
}

// printConfigErrors prints one line per problem.
func printConfigErrors(w io.Writer, err error) {
	var multi interface{ Unwrap() []error }
	if errors.As(err, &multi) {
		for _, e := range multi.Unwrap() {
			printConfigErrors(w, e)
		}
		return
	}
	fmt.Fprintln(w, err)
}

func runServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "Run the PBX. Without a configuration file it starts the embedded demo on loopback.", stderr)
	cfgPath := fs.String("config", "", "configuration file (default ./centralino.yaml if present, else the embedded demo)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	path, err := config.Resolve(*cfgPath)
	if err != nil {
		return err
	}
	live, err := config.NewLiveWith(path, loadOptions())
	if err != nil {
		printConfigErrors(stderr, err)
		return errors.New("configuration is not valid")
	}
	cfg := live.Current()
	log := newLogger(cfg.Log, stderr)
	if cfg.Log.SIPTrace {
		// sipgo's trace switch is package-level: set once, here, before anything runs.
		sip.SIPDebug = true
		sip.SIPDebugTracer(sipTracer{log.With("component", "sip-trace")})
	}

	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return fmt.Errorf("data folder: %w", err)
	}
	db, err := store.Open(filepath.Join(cfg.Data, "centralino.db"), 2*time.Second)
	if err != nil {
		return err
	}
	defer db.Close()

	spareProcessors()
	srv, err := pbx.New(cfg, pbx.Options{Logger: log, Store: db, Version: buildVersion(), Live: live})
	if err != nil {
		return err
	}
	if cfg.Source == "embedded demo" {
		printDemoBanner(stdout, cfg)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			log.Info("SIGHUP: reloading the configuration")
			srv.Reload()
		}
	}()
	return srv.Run(ctx)
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	switch c.Level {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

type sipTracer struct{ log *slog.Logger }

func (t sipTracer) SIPTraceRead(transport, laddr, raddr string, msg []byte) {
	t.log.Info("sip in", "transport", transport, "local", laddr, "remote", raddr, "msg", string(msg))
}

func (t sipTracer) SIPTraceWrite(transport, laddr, raddr string, msg []byte) {
	t.log.Info("sip out", "transport", transport, "local", laddr, "remote", raddr, "msg", string(msg))
}

func printDemoBanner(w io.Writer, cfg *config.Config) {
	var b strings.Builder
	fmt.Fprintf(&b, "\nCentralino %s is running the embedded DEMO configuration (no centralino.yaml found).\n\n", buildVersion())
	fmt.Fprintf(&b, "  SIP      udp+tcp %s\n", cfg.SIP.Listen)
	fmt.Fprintf(&b, "  HTTP     http://%s  (/api/..., /metrics, /healthz)\n", cfg.HTTP.Listen)
	fmt.Fprintf(&b, "  RTP      ports %s\n", cfg.RTP.Ports)
	fmt.Fprintf(&b, "  Data     %s\n", cfg.Data)
	for _, t := range cfg.Tenants {
		fmt.Fprintf(&b, "  Tenant   %s %q  %s  (extensions %s)\n", t.ID, t.Name, strings.Join(t.Numbers, ", "), strings.Join(t.Extensions, ", "))
	}
	for _, t := range cfg.Trunks {
		if t.Mode == config.TrunkIP {
			fmt.Fprintf(&b, "  Trunk    %s: IP-authenticated, accepts calls from %s\n", t.Name, strings.Join(t.Allow, ", "))
		} else {
			fmt.Fprintf(&b, "  Trunk    %s: registers to %s\n", t.Name, t.Host)
		}
	}
	for _, e := range cfg.Extensions {
		// Printing passwords is right only here: they are the demo's, and
		// a newcomer needs them to register a softphone.
		fmt.Fprintf(&b, "  Phone    extension %s  password %s\n", e.Number, e.Password)
	}
	for _, o := range cfg.Operators {
		// The demo operator's password is in the demo file's comment too.
		fmt.Fprintf(&b, "  Console  http://%s/console/  operator %s  password demo\n", cfg.HTTP.Listen, o.Username)
	}
	fmt.Fprintf(&b, "\nRegister a softphone as 100 (user 100, password demo-100, server %s), then call it\n", cfg.SIP.Listen)
	fmt.Fprintf(&b, "from the demo trunk: any SIP client on this machine calling sip:+390200000000@%s.\n", cfg.SIP.Listen)
	fmt.Fprintf(&b, "Write your own centralino.yaml to leave the demo: 'centralino demo-config' prints a starting point.\n\n")
	io.WriteString(w, b.String())
}

func runDemoConfig(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo-config", "Print the embedded demo configuration.", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	_, err := stdout.Write(config.DemoYAML())
	return err
}

// spareProcessors gives the Go runtime two processors (Ps) more than it has
// CPUs, unless GOMAXPROCS says otherwise. Under load the prompt player
// sleeps between its 2 ms slots on a realtime thread that keeps its P (see
// media.Scheduler.Run), which would otherwise leave one CPU's worth of Ps
// to everything else; and a thread back from a system call finds an idle P
// sooner (with 1,600 voicemail calls on two cores and a player that gave
// its P up while asleep, 0.9% of the prompt packets left more than 2 ms
// late with two Ps, 0.4% with three, 0.14% with four). Idle Ps cost
// nothing.
func spareProcessors() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + 2)
	}
}
