package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// listCommand builds a command that asks the running server's HTTP API
// for a list: the CLI cannot open the database itself, the server holds
// its lock.
func listCommand(what string) func(args []string, stdout, stderr io.Writer) error {
	return func(args []string, stdout, stderr io.Writer) error {
		fs := newFlags(what, fmt.Sprintf("Ask the running server for its %s (over its HTTP API).", what), stderr)
		cfgPath := fs.String("config", "", "configuration file, to find the server's HTTP address and token")
		server := fs.String("server", "", "server URL (default: from the configuration's http.listen)")
		token := fs.String("token", "", "API token (default: $CENTRALINO_HTTP_TOKEN, else the configuration's http.token)")
		asJSON := fs.Bool("json", false, "print a JSON array of objects with stable field names")
		limit := 0
		tenant := ""
		paged := what == "cdrs" || what == "voicemails" || what == "messages"
		if paged {
			fs.IntVar(&limit, "limit", 20, "how many records, newest first")
		}
		if what == "voicemails" || what == "messages" {
			fs.StringVar(&tenant, "tenant", "", "only this tenant's "+what)
		}
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		base, tok, err := apiTarget(*cfgPath, *server, *token)
		if err != nil {
			return err
		}
		path := "/api/" + what
		if paged {
			path += "?limit=" + strconv.Itoa(limit) + "&tenant=" + url.QueryEscape(tenant)
		}
		body, err := apiGet(base+path, tok)
		if err != nil {
			return err
		}
		if *asJSON {
			var out bytes.Buffer
			if err := json.Indent(&out, body, "", "  "); err != nil {
				return fmt.Errorf("server sent invalid JSON: %w", err)
			}
			_, err = stdout.Write(out.Bytes())
			return err
		}
		var rows []map[string]any
		if err := json.Unmarshal(body, &rows); err != nil {
			return fmt.Errorf("server sent invalid JSON: %w", err)
		}
		printTable(stdout, what, rows)
		return nil
	}
}

// apiTarget works out the API's base URL and token.
func apiTarget(cfgPath, server, token string) (string, string, error) {
	if token == "" {
		token = os.Getenv("CENTRALINO_HTTP_TOKEN")
	}
	if server == "" || token == "" {
		cfg, err := loadConfig(cfgPath)
		switch {
		case err == nil:
			if server == "" {
				// The certificate must name the address the CLI dials: give
				// --server https://name:port when it names a host name.
				scheme := "http://"
				if cfg.HTTP.TLSCert != "" {
					scheme = "https://"
				}
				server = scheme + cfg.HTTP.Listen
			}
			if token == "" {
				token = cfg.HTTP.Token
			}
		case server == "":
			return "", "", fmt.Errorf("reading the configuration to find the server: %w", err)
		}
		// With --server given, a configuration that does not load (say, a
		// tenant file being edited) must not stop us talking to the server.
	}
	if !strings.Contains(server, "://") {
		server = "http://" + server
	}
	return strings.TrimRight(server, "/"), token, nil
}

// apiCall does one request to the server's API. A transport error comes
// back as an unreachableError, which still wraps the cause (so that a
// server that is not running can be told apart).
func apiCall(method, url, token string, body []byte) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return nil, &unreachableError{base: strings.TrimSuffix(url, req.URL.RequestURI()), err: err}
	}
	defer res.Body.Close()
	out, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("server answered %s: %s", res.Status, strings.TrimSpace(string(out)))
	}
	return out, nil
}

func apiGet(url, token string) ([]byte, error) { return apiCall(http.MethodGet, url, token, nil) }

type unreachableError struct {
	base string
	err  error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("cannot reach the server at %s (is centralino running?): %v", e.base, e.err)
}

func (e *unreachableError) Unwrap() error { return e.err }

// columns per listing, in display order.
var columns = map[string][]string{
	"registrations": {"extension", "contact", "source", "transport", "expires_in", "user_agent"},
	"trunks":        {"name", "mode", "host", "state", "last_code", "last_error", "next_attempt"},
	"calls":         {"id", "direction", "state", "caller", "called", "tenant", "trunk", "started", "answered_by"},
	"cdrs":          {"start", "direction", "caller", "called", "tenant", "trunk", "rule", "disposition", "code", "answered_by", "hangup_by"},
	"statuses":      {"tenant", "person", "name", "state", "until", "note", "effective", "effective_why"},
	"voicemails":    {"id", "tenant", "person", "caller", "start", "seconds", "state"},
	"messages":      {"id", "tenant", "for", "created", "caller_number", "caller_name", "urgency", "operator", "state", "reason"},
}

func printTable(w io.Writer, what string, rows []map[string]any) {
	if len(rows) == 0 {
		fmt.Fprintf(w, "no %s\n", what)
		return
	}
	cols := columns[what]
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.ToUpper(strings.Join(cols, "\t")))
	for _, r := range rows {
		vals := make([]string, len(cols))
		for i, c := range cols {
			vals[i] = cell(r[c])
		}
		fmt.Fprintln(tw, strings.Join(vals, "\t"))
	}
	tw.Flush()
}

func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return "-"
	case string:
		if x == "" {
			return "-"
		}
		// Text typed on several lines (a message's reason) stays on its row.
		x = strings.Join(strings.Fields(x), " ")
		if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
			if t.IsZero() || t.Year() < 2000 {
				return "-"
			}
			return t.Local().Format("2006-01-02 15:04:05")
		}
		return x
	case float64:
		if x == float64(int64(x)) {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}
