package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/centralino/centralino/pbx"
)

// runStatus is `centralino status [list|set]`.
func runStatus(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "set" {
		return runStatusSet(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "list" {
		args = args[1:]
	}
	return listCommand("statuses")(args, stdout, stderr)
}

func runStatusSet(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("status set", "Set a person's status: centralino status set TENANT[:PERSON] STATE [--until T] [--note TEXT]\n"+
		"STATE is available, meeting, away or dnd. PERSON may be left out when the tenant has one person,\n"+
		"or TENANT when the person's id is unique. --until takes \"15:00\" (today), \"2026-12-24 15:00\" or a duration (\"2h\").", stderr)
	cfgPath := fs.String("config", "", "configuration file, to find the server and the people")
	server := fs.String("server", "", "server URL (default: from the configuration's http.listen)")
	token := fs.String("token", "", "API token (default: $CENTRALINO_HTTP_TOKEN, else the configuration's http.token)")
	until := fs.String("until", "", "when the status ends")
	note := fs.String("note", "", "a note shown to operators (\"in udienza fino alle 13\")")
	if err := fs.Parse(reorderFlags(args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return errUsage
	}
	who, state := fs.Arg(0), fs.Arg(1)
	tenant, person, err := resolvePerson(*cfgPath, who)
	if err != nil {
		return err
	}
	base, tok, err := apiTarget(*cfgPath, *server, *token)
	if err != nil {
		return err
	}
	body, _ := json.Marshal(map[string]string{"state": state, "until": *until, "note": *note, "by": "cli"})
	res, err := apiCall(http.MethodPut, base+"/api/statuses/"+url.PathEscape(tenant)+"/"+url.PathEscape(person), tok, body)
	if err != nil {
		return err
	}
	var st struct {
		State string    `json:"state"`
		Until time.Time `json:"until"`
	}
	json.Unmarshal(res, &st)
	msg := fmt.Sprintf("%s/%s is now %s", tenant, person, st.State)
	if !st.Until.IsZero() {
		msg += " until " + st.Until.Local().Format("2006-01-02 15:04")
	}
	fmt.Fprintln(stdout, msg)
	return nil
}

// reorderFlags moves flags after positional arguments to the front, so
// that `status set rossi meeting --until 15:00` parses.
func reorderFlags(args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			flags = append(flags, a)
			if !strings.Contains(a, "=") && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") && a != "-h" && a != "--help" && a != "-help" {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

// resolvePerson turns TENANT[:PERSON] (or a unique PERSON) into both ids.
func resolvePerson(cfgPath, who string) (string, string, error) {
	if t, p, ok := strings.Cut(who, ":"); ok {
		return t, p, nil
	}
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return "", "", fmt.Errorf("reading the configuration to find %q: %w (or write TENANT:PERSON)", who, err)
	}
	if t := cfg.Tenant(who); t != nil && len(t.People) == 1 {
		return t.ID, t.People[0].ID, nil
	}
	var found []string
	for _, t := range cfg.Tenants {
		for _, p := range t.People {
			if p.ID == who {
				found = append(found, t.ID+":"+p.ID)
			}
		}
	}
	switch len(found) {
	case 1:
		t, p, _ := strings.Cut(found[0], ":")
		return t, p, nil
	case 0:
		if t := cfg.Tenant(who); t != nil {
			var ids []string
			for _, p := range t.People {
				ids = append(ids, t.ID+":"+p.ID)
			}
			return "", "", fmt.Errorf("tenant %s has %d people: say which (%s)", who, len(t.People), strings.Join(ids, ", "))
		}
		return "", "", fmt.Errorf("no tenant or person %q", who)
	default:
		return "", "", fmt.Errorf("%q is a person of several tenants: write one of %s", who, strings.Join(found, ", "))
	}
}

// runDialplan is `centralino dialplan explain`.
func runDialplan(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "explain" {
		fmt.Fprintln(stderr, "Usage: centralino dialplan explain --tenant T --from NUMBER [--to NUMBER] [--at \"2026-12-24 10:30\"] [--status person=state]... [--json]")
		return errUsage
	}
	fs := newFlags("dialplan explain", "Explain, step by step, what a tenant's plan does with a call. It asks the running server\n"+
		"(live statuses and calendars); when none is running it reads the configuration and calendars itself.", stderr)
	cfgPath := fs.String("config", "", "configuration file")
	server := fs.String("server", "", "server URL (default: from the configuration's http.listen)")
	token := fs.String("token", "", "API token (default: $CENTRALINO_HTTP_TOKEN, else the configuration's http.token)")
	tenant := fs.String("tenant", "", "tenant id (required)")
	from := fs.String("from", "", "calling number as presented, e.g. 3331234567 or +393331234567; \"anonymous\" for a hidden number (required)")
	to := fs.String("to", "", "dialled number (default: the tenant's first number)")
	at := fs.String("at", "", "when, \"2026-12-24 10:30\" in the tenant's time zone (default: now)")
	asJSON := fs.Bool("json", false, "print JSON: {\"tenant\", \"rule\", \"actions\": [...], \"trace\": [...]}")
	var statuses multiFlag
	fs.Var(&statuses, "status", "person=state, instead of the live status (repeatable)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *tenant == "" || *from == "" {
		fs.Usage()
		return errUsage
	}
	req := pbx.ExplainRequest{Tenant: *tenant, From: *from, To: *to, At: *at, Status: statuses}
	var e pbx.Explanation
	base, tok, err := apiTarget(*cfgPath, *server, *token)
	if err != nil {
		return err
	}
	q := url.Values{"tenant": {req.Tenant}, "from": {req.From}, "to": {req.To}, "at": {req.At}, "status": statuses}
	body, err := apiGet(base+"/api/explain?"+q.Encode(), tok)
	switch {
	case err == nil:
		if err := json.Unmarshal(body, &e); err != nil {
			return fmt.Errorf("server sent invalid JSON: %w", err)
		}
	case errors.Is(err, syscall.ECONNREFUSED):
		cfg, cerr := loadConfig(*cfgPath)
		if cerr != nil {
			return cerr
		}
		if e, err = pbx.ExplainOffline(context.Background(), cfg, req); err != nil {
			return err
		}
	default:
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(e)
	}
	_, err = io.WriteString(stdout, e.Text())
	return err
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// runReload is `centralino reload`: the server re-reads its files now.
func runReload(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("reload", "Ask the running server to re-read its configuration and tenant files now (as SIGHUP does).", stderr)
	cfgPath := fs.String("config", "", "configuration file, to find the server")
	server := fs.String("server", "", "server URL")
	token := fs.String("token", "", "API token")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	base, tok, err := apiTarget(*cfgPath, *server, *token)
	if err != nil {
		return err
	}
	body, err := apiCall(http.MethodPost, base+"/api/reload", tok, nil)
	if err != nil {
		return err
	}
	var rep struct {
		Loaded, Removed, Restart []string
		Errors                   []struct{ File, Error string }
	}
	json.Unmarshal(body, &rep)
	for _, f := range rep.Loaded {
		fmt.Fprintf(stdout, "loaded   %s\n", f)
	}
	for _, f := range rep.Removed {
		fmt.Fprintf(stdout, "removed  %s\n", f)
	}
	for _, r := range rep.Restart {
		fmt.Fprintf(stdout, "restart needed for %s (the running value stays)\n", r)
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(stderr, "rejected %s (last good version stays):\n%s\n", e.File, e.Error)
	}
	if len(rep.Errors) > 0 {
		return errors.New("some files were rejected")
	}
	return nil
}

// runVoicemail is `centralino voicemail [list]`.
func runVoicemail(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "list" {
		args = args[1:]
	}
	return listCommand("voicemails")(args, stdout, stderr)
}
