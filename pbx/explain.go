package pbx

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/centralino/centralino/config"
	"github.com/centralino/centralino/dialplan"
	"github.com/centralino/centralino/pbx/number"
)

// Explanation is a dry run of a tenant's plan: what `centralino dialplan
// explain` prints, and its --json output.
type Explanation struct {
	Tenant   string            `json:"tenant"`
	At       time.Time         `json:"at"`
	Caller   string            `json:"caller"`
	Called   string            `json:"called"`
	Class    string            `json:"class"`
	Open     bool              `json:"open"`
	Holiday  string            `json:"holiday,omitempty"`
	Closure  string            `json:"closure,omitempty"`
	Rule     string            `json:"rule"`
	Actions  []map[string]any  `json:"actions"`
	Trace    []string          `json:"trace"`
	Statuses map[string]string `json:"statuses"` // person → effective status (and why)
	Notes    []string          `json:"notes,omitempty"`
}

// ExplainRequest is what to explain.
type ExplainRequest struct {
	Tenant string
	From   string   // the caller's number as dialled or presented ("anonymous" for a hidden number)
	To     string   // the dialled number; default the tenant's first number
	At     string   // "2026-12-24 10:30" in the tenant's zone; default now
	Status []string // person=state overrides of the live statuses
}

// explain decides req with the given live state. Statuses from req
// override st's.
func explain(plan *dialplan.Plan, req ExplainRequest, st dialplan.State, now time.Time, busyAround func(time.Time) map[string][]dialplan.Busy) (Explanation, error) {
	t := plan.Tenant()
	loc := t.Location
	if loc == nil {
		loc = time.Local
	}
	at := now
	if req.At != "" {
		var err error
		at, err = parseAt(req.At, loc)
		if err != nil {
			return Explanation{}, err
		}
	}
	caller, _ := number.Normalize(req.From)
	if req.From == "" || strings.EqualFold(req.From, "anonymous") {
		caller = "anonymous"
	}
	called := req.To
	if called == "" && len(t.Numbers) > 0 {
		called = t.Numbers[0]
	}
	called, _ = number.Normalize(called)

	statuses := make(map[string]dialplan.Status, len(st.Statuses)+len(req.Status))
	for k, v := range st.Statuses {
		statuses[k] = v
	}
	for _, kv := range req.Status {
		person, state, ok := strings.Cut(kv, "=")
		if !ok || !slices.Contains(validStates, state) {
			return Explanation{}, fmt.Errorf("--status %q: write person=state, state one of %s", kv, strings.Join(validStates, ", "))
		}
		if !slices.ContainsFunc(t.People, func(p config.Person) bool { return p.ID == person }) {
			return Explanation{}, fmt.Errorf("--status %q: tenant %s has no person %q", kv, t.ID, person)
		}
		statuses[person] = dialplan.Status{State: state, Since: at}
	}
	state := dialplan.State{Statuses: statuses, Busy: st.Busy}
	if busyAround != nil {
		state.Busy = busyAround(at)
	}

	d := plan.Decide(dialplan.Call{Caller: caller, Called: called}, state, at)
	e := Explanation{
		Tenant: t.ID, At: at.In(loc), Caller: caller, Called: called, Class: d.Class, Open: d.Day.Open,
		Holiday: d.Day.Holiday, Rule: d.Rule, Statuses: map[string]string{},
	}
	if d.Day.Closure != nil {
		e.Closure = d.Day.Closure.Name
	}
	for _, l := range d.Trace {
		e.Trace = append(e.Trace, l.String())
	}
	e.Actions = stepsJSON(d.Steps)
	for _, p := range t.People {
		s, why := plan.EffectiveStatus(p.ID, state, at)
		e.Statuses[p.ID] = s + " (" + why + ")"
	}
	if req.At != "" && busyAround == nil {
		e.Notes = append(e.Notes, "calendars are read for the next 48 hours only; statuses are today's")
	}
	return e, nil
}

func parseAt(v string, loc *time.Location) (time.Time, error) {
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05"} {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--at %q: write a date and time like \"2026-12-24 10:30\" (the tenant's time zone)", v)
}

// stepsJSON turns steps into the stable JSON shape of explain --json:
// {"type": "ring"|"operator"|"play"|"menu"|"voicemail"|"forward"|"hangup", …}.
func stepsJSON(steps []dialplan.Step) []map[string]any {
	out := make([]map[string]any, 0, len(steps))
	for _, st := range steps {
		m := map[string]any{"type": st.Kind}
		switch {
		case st.Ring != nil:
			var targets []map[string]string
			for _, t := range st.Ring.Targets {
				targets = append(targets, map[string]string{"kind": t.Kind, "value": t.Value, "person": t.Person})
			}
			m["targets"], m["strategy"], m["timeout"] = targets, st.Ring.Strategy, st.Ring.Timeout.String()
		case st.Forward != nil:
			m["number"], m["trunk"], m["timeout"] = st.Forward.Number, st.Forward.Trunk, st.Forward.Timeout.String()
		case st.Operator != nil:
			m["max_wait"] = st.Operator.MaxWait.String()
		case st.Play != nil:
			m["sound"] = soundJSON(*st.Play)
		case st.Menu != nil:
			opts := map[string]any{}
			for k, v := range st.Menu.Options {
				opts[k] = stepsJSON(v)
			}
			m["prompt"], m["options"], m["timeout"], m["retries"] = soundJSON(st.Menu.Prompt), opts, st.Menu.Timeout.String(), st.Menu.Retries
		case st.Voicemail != nil:
			m["greeting"], m["max_length"] = soundJSON(st.Voicemail.Greeting), st.Voicemail.MaxLength.String()
		case st.Hangup != nil:
			m["code"] = st.Hangup.Code
		}
		out = append(out, m)
	}
	return out
}

func soundJSON(s config.Sound) map[string]any {
	switch {
	case s.File != "":
		return map[string]any{"file": s.File}
	case s.Say != "":
		return map[string]any{"say": s.Say}
	case s.Closure:
		return map[string]any{"closure": true}
	}
	return nil
}

// Text renders the explanation for people.
func (e Explanation) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Tenant %s: call from %s to %s at %s\n", e.Tenant, e.Caller, e.Called, e.At.Format("Mon 2006-01-02 15:04 MST"))
	day := "open"
	if !e.Open {
		day = "closed"
	}
	if e.Holiday != "" {
		day += ", holiday: " + e.Holiday
	}
	if e.Closure != "" {
		day += ", closure: " + e.Closure
	}
	fmt.Fprintf(&b, "Day:    %s\nCaller: %s\n", day, e.Class)
	names := make([]string, 0, len(e.Statuses))
	for p := range e.Statuses {
		names = append(names, p)
	}
	slices.Sort(names)
	for _, p := range names {
		fmt.Fprintf(&b, "Status: %s is %s\n", p, e.Statuses[p])
	}
	fmt.Fprintf(&b, "\nChecks:\n")
	for _, l := range e.Trace {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	fmt.Fprintf(&b, "\nRule: %s\nActions:\n", e.Rule)
	writeActions(&b, e.Actions, "  ")
	for _, n := range e.Notes {
		fmt.Fprintf(&b, "\nNote: %s\n", n)
	}
	return b.String()
}

func writeActions(b *strings.Builder, actions []map[string]any, indent string) {
	for i, a := range actions {
		fmt.Fprintf(b, "%s%d. %s", indent, i+1, a["type"])
		switch a["type"] {
		case "ring":
			var ts []string
			for _, t := range asMaps(a["targets"]) {
				s := fmt.Sprintf("%v %v", t["kind"], t["value"])
				if p, _ := t["person"].(string); p != "" {
					s += " (" + p + ")"
				}
				ts = append(ts, s)
			}
			fmt.Fprintf(b, " %s, %v, %v", strings.Join(ts, ", "), a["strategy"], a["timeout"])
		case "forward":
			fmt.Fprintf(b, " %v via %v, %v", a["number"], a["trunk"], a["timeout"])
		case "hangup":
			fmt.Fprintf(b, " (%v)", a["code"])
		case "play":
			fmt.Fprintf(b, " %s", soundText(a["sound"]))
		case "voicemail":
			fmt.Fprintf(b, " (greeting %s, max %v)", soundText(a["greeting"]), a["max_length"])
		case "operator":
			fmt.Fprintf(b, " (max wait %v)", a["max_wait"])
		case "menu":
			fmt.Fprintf(b, " %s", soundText(a["prompt"]))
			if opts, ok := a["options"].(map[string]any); ok {
				keys := make([]string, 0, len(opts))
				for k := range opts {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				for _, k := range keys {
					fmt.Fprintf(b, "\n%s   key %s:\n", indent, k)
					writeActions(b, asMaps(opts[k]), indent+"     ")
				}
			}
		}
		fmt.Fprintln(b)
	}
}

// asMaps reads a list of objects whether it was built here or decoded
// from the server's JSON.
func asMaps(v any) []map[string]any {
	switch x := v.(type) {
	case []map[string]any:
		return x
	case []map[string]string:
		out := make([]map[string]any, len(x))
		for i, m := range x {
			out[i] = map[string]any{}
			for k, v := range m {
				out[i][k] = v
			}
		}
		return out
	case []any:
		var out []map[string]any
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

func soundText(v any) string {
	m, _ := v.(map[string]any)
	switch {
	case m == nil:
		return "built-in"
	case m["file"] != nil:
		return fmt.Sprintf("file %v", m["file"])
	case m["say"] != nil:
		return fmt.Sprintf("say %q", m["say"])
	case m["closure"] != nil:
		return "the closure's greeting"
	}
	return "built-in"
}

// apiExplain serves GET /api/explain?tenant=&from=&to=&at=&status=p=s…
// with the server's live statuses and calendars.
func (s *Server) apiExplain(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	snap := s.snap.Load()
	plan := snap.plans[q.Get("tenant")]
	if plan == nil {
		http.Error(w, fmt.Sprintf("no tenant %q", q.Get("tenant")), http.StatusNotFound)
		return
	}
	req := ExplainRequest{Tenant: q.Get("tenant"), From: q.Get("from"), To: q.Get("to"), At: q.Get("at"), Status: q["status"]}
	var around func(time.Time) map[string][]dialplan.Busy
	if req.At != "" {
		around = func(t time.Time) map[string][]dialplan.Busy {
			return s.calendars.busyAround(req.Tenant, t, plan.Tenant().Location)
		}
	}
	e, err := explain(plan, req, s.state(req.Tenant), s.now(), around)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	writeJSON(w, e)
}

// ExplainOffline explains a decision without a running server: the
// calendars are read now, and statuses are only those given.
func ExplainOffline(ctx context.Context, cfg *config.Config, req ExplainRequest) (Explanation, error) {
	snap, err := compileSnapshot(cfg)
	if err != nil {
		return Explanation{}, err
	}
	plan := snap.plans[req.Tenant]
	if plan == nil {
		return Explanation{}, fmt.Errorf("no tenant %q (tenants: %s)", req.Tenant, strings.Join(tenantIDs(cfg), ", "))
	}
	cals := newCalendarBoard(slog.New(slog.DiscardHandler), time.Now)
	cals.refresh(ctx, cfg)
	around := func(t time.Time) map[string][]dialplan.Busy {
		return cals.busyAround(req.Tenant, t, plan.Tenant().Location)
	}
	e, err := explain(plan, req, dialplan.State{}, time.Now(), around)
	if err == nil {
		e.Notes = append(e.Notes, "the server was not reachable: statuses are the ones given with --status, everyone else is treated as available unless a calendar says otherwise")
	}
	return e, err
}

func tenantIDs(cfg *config.Config) []string {
	var ids []string
	for _, t := range cfg.Tenants {
		ids = append(ids, t.ID)
	}
	return ids
}
