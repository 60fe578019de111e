package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
)

func init() {
	columns["messages"] = []string{"id", "tenant", "for", "created", "caller_number", "caller_name", "urgency", "operator", "state", "reason"}
}

// runMessages is `centralino messages [list]`: the messages operators took,
// asked of the running server like `voicemail list`.
func runMessages(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "list" {
		args = args[1:]
	}
	const what = "messages"
	fs := newFlags(what+" list", "Ask the running server for the messages operators took (over its HTTP API).", stderr)
	cfgPath := fs.String("config", "", "configuration file, to find the server's HTTP address and token")
	server := fs.String("server", "", "server URL (default: from the configuration's http.listen)")
	token := fs.String("token", "", "API token (default: $CENTRALINO_HTTP_TOKEN, else the configuration's http.token)")
	asJSON := fs.Bool("json", false, "print a JSON array of objects with stable field names")
	limit := fs.Int("limit", 20, "how many messages, newest first")
	tenant := fs.String("tenant", "", "only this tenant's messages")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	base, tok, err := apiTarget(*cfgPath, *server, *token)
	if err != nil {
		return err
	}
	body, err := apiGet(base+"/api/"+what+"?limit="+strconv.Itoa(*limit)+"&tenant="+url.QueryEscape(*tenant), tok)
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
	// A reason typed on several lines stays on its row.
	for _, r := range rows {
		if s, ok := r["reason"].(string); ok {
			r["reason"] = strings.Join(strings.Fields(s), " ")
		}
	}
	printTable(stdout, what, rows)
	return nil
}
