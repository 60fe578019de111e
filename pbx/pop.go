package pbx

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/centralino/centralino/config"
	"github.com/centralino/centralino/pbx/number"
	"github.com/centralino/centralino/pbx/store"
	"github.com/centralino/centralino/pbx/webauth"
)

// screenPop is what an operator sees before answering: whose call it is,
// what to say, who is calling and what they called about before.
type screenPop struct {
	Call          string      `json:"call"`
	Tenant        string      `json:"tenant"`
	TenantName    string      `json:"tenant_name"`
	AnswerPhrase  string      `json:"answer_phrase"`
	Instructions  string      `json:"instructions,omitempty"`
	Caller        string      `json:"caller"`
	CallerDisplay string      `json:"caller_display"`
	CallerName    string      `json:"caller_name,omitempty"`
	CallerNote    string      `json:"caller_note,omitempty"`
	Called        string      `json:"called"`
	CalledDisplay string      `json:"called_display"`
	VIP           bool        `json:"vip"`
	Blocked       bool        `json:"blocked"`
	Anonymous     bool        `json:"anonymous"`
	WaitingSince  time.Time   `json:"waiting_since"`
	People        []popPerson `json:"people"`
	History       popHistory  `json:"history"`
}

type popPerson struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Role       string `json:"role,omitempty"`
	Status     string `json:"status"`
	StatusText string `json:"status_text,omitempty"`
	Reachable  bool   `json:"reachable"`
}

type popHistory struct {
	Calls    []popCall    `json:"calls"`
	Messages []popMessage `json:"messages"`
}

type popCall struct {
	Start       time.Time `json:"start"`
	Disposition string    `json:"disposition"`
	AnsweredBy  string    `json:"answered_by,omitempty"`
	Operator    string    `json:"operator,omitempty"`
}

type popMessage struct {
	Created time.Time `json:"created"`
	Reason  string    `json:"reason"`
	Urgency string    `json:"urgency"`
	For     string    `json:"for,omitempty"`
}

// popHistoryLimit is how many earlier calls and messages the card shows.
const popHistoryLimit = 5

func (c *call) screenPop(since time.Time) screenPop {
	t := c.rt.tenant
	p := screenPop{
		Call: c.id, Tenant: t.ID, TenantName: cmp.Or(t.Name, t.ID),
		AnswerPhrase: t.Console.AnswerPhrase, Instructions: t.Console.Instructions,
		Caller: c.rt.caller, CallerDisplay: number.Display(c.rt.caller), CallerName: c.rt.callerName,
		Called: c.rt.called, CalledDisplay: number.Display(c.rt.called),
		Anonymous:    c.rt.caller == "anonymous",
		WaitingSince: since,
		People:       []popPerson{},
		History:      popHistory{Calls: []popCall{}, Messages: []popMessage{}},
	}
	if p.AnswerPhrase == "" {
		p.AnswerPhrase = defaultAnswerPhrase(p.TenantName, c.lang())
	}
	if ct, ok := t.Contact(c.rt.caller); ok {
		p.CallerName, p.CallerNote = cmp.Or(ct.Name, p.CallerName), ct.Note
	}
	if d := c.rt.decision; d != nil {
		p.VIP = d.Class == config.CallerVIP
	}
	p.Blocked = number.MatchAny(t.Callers.Blocked, c.rt.caller)
	now := c.srv.now()
	snap := c.srv.snap.Load()
	st := c.srv.state(t.ID)
	for _, person := range t.People {
		pp := popPerson{ID: person.ID, Name: person.Name, Role: person.Role, Status: config.StatusAvailable}
		if rec, ok := c.srv.statuses.record(t.ID, person.ID); ok {
			pp.Status = rec.State
			pp.StatusText = statusText(rec, c.lang(), t.Location)
		}
		if plan := snap.plans[t.ID]; plan != nil {
			eff, why := plan.EffectiveStatus(person.ID, st, now)
			if eff != "" {
				pp.Status = eff
			}
			if pp.StatusText == "" && eff != config.StatusAvailable {
				pp.StatusText = why
			}
		}
		for _, e := range person.Extensions {
			if len(c.srv.phoneTargets(e, c.callerSource())) > 0 {
				pp.Reachable = true
			}
		}
		if person.Mobile != "" && c.cfg.OutboundTrunk(t) != nil {
			pp.Reachable = true
		}
		p.People = append(p.People, pp)
	}
	if !p.Anonymous {
		cdrs, msgs, err := c.srv.store.CallerHistory(t.ID, c.rt.caller, popHistoryLimit)
		if err != nil {
			c.log.Warn("screen pop history", "error", err)
		}
		for _, r := range cdrs {
			p.History.Calls = append(p.History.Calls, popCall{Start: r.Start, Disposition: r.Disposition, AnsweredBy: r.AnsweredBy, Operator: r.Operator})
		}
		for _, m := range msgs {
			p.History.Messages = append(p.History.Messages, popMessage{Created: m.Created, Reason: m.Reason, Urgency: m.Urgency, For: m.For})
		}
	}
	return p
}

func defaultAnswerPhrase(name, lang string) string {
	if lang == "en" {
		return name + ", good morning"
	}
	return name + ", buongiorno"
}

// statusText says a person's status the way an operator repeats it to a
// caller: "in riunione fino alle 15:00".
func statusText(st store.Status, lang string, loc *time.Location) string {
	words := map[string][2]string{
		config.StatusMeeting: {"in riunione", "in a meeting"},
		config.StatusAway:    {"fuori ufficio", "away"},
		config.StatusDND:     {"non disturbare", "do not disturb"},
	}
	w, ok := words[st.State]
	if !ok {
		return ""
	}
	i := 0
	if lang == "en" {
		i = 1
	}
	text := w[i]
	if !st.Until.IsZero() {
		if loc == nil {
			loc = time.Local
		}
		if i == 0 {
			text += " fino alle " + st.Until.In(loc).Format("15:04")
		} else {
			text += " until " + st.Until.In(loc).Format("15:04")
		}
	}
	if st.Note != "" {
		text += " (" + st.Note + ")"
	}
	return text
}

// messageRequest is the body of POST /console/api/messages.
type messageRequest struct {
	Call         string `json:"call"`
	Tenant       string `json:"tenant"`
	For          string `json:"for"`
	CallerName   string `json:"caller_name"`
	CallerNumber string `json:"caller_number"`
	Reason       string `json:"reason"`
	Urgency      string `json:"urgency"`
}

const maxMessageField = 4000

// consoleSaveMessage stores a message an operator took. It answers only
// once the record is durable: the operator may close the page at once.
func (s *Server) consoleSaveMessage(w http.ResponseWriter, r *http.Request) {
	sess, _ := webauth.FromContext(r.Context())
	var req messageRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeJSONError(w, http.StatusBadRequest, "malformed JSON: "+err.Error())
		return
	}
	cfg := s.config()
	op := cfg.Operator(sess.Username)
	t := cfg.Tenant(req.Tenant)
	switch {
	case op == nil:
		writeJSONError(w, http.StatusForbidden, "not an operator")
		return
	case t == nil:
		writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("unknown tenant %q", req.Tenant))
		return
	case !op.Serves(t.ID):
		writeJSONError(w, http.StatusForbidden, fmt.Sprintf("you do not serve tenant %q", t.ID))
		return
	case strings.TrimSpace(req.Reason) == "" && strings.TrimSpace(req.CallerNumber) == "":
		writeJSONError(w, http.StatusBadRequest, "a message needs a reason or the caller's number")
		return
	case req.Urgency != "" && req.Urgency != "normal" && req.Urgency != "urgent":
		writeJSONError(w, http.StatusBadRequest, `urgency must be "normal" or "urgent"`)
		return
	}
	for _, f := range []string{req.CallerName, req.CallerNumber, req.Reason, req.For, req.Call} {
		if len(f) > maxMessageField || !utf8.ValidString(f) {
			writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("fields are UTF-8 text of at most %d bytes", maxMessageField))
			return
		}
	}
	if req.For != "" && !slices.ContainsFunc(t.People, func(p config.Person) bool { return p.ID == req.For }) {
		writeJSONError(w, http.StatusBadRequest, fmt.Sprintf("tenant %q has no person %q", t.ID, req.For))
		return
	}
	m := store.Message{
		ID: store.NewID(s.now(), ""), Tenant: t.ID, For: req.For, CallID: req.Call,
		CallerName: strings.TrimSpace(req.CallerName), CallerNumber: strings.TrimSpace(req.CallerNumber),
		Reason: strings.TrimSpace(req.Reason), Urgency: cmp.Or(req.Urgency, "normal"),
		Operator: sess.Username, Created: s.now(), State: "new",
	}
	if n, ok := number.Normalize(m.CallerNumber); ok {
		m.CallerNumber = n
	}
	if err := s.store.SaveMessage(m); err != nil {
		s.log.Error("save message", "error", err, "operator", sess.Username)
		writeJSONError(w, http.StatusInternalServerError, "the message could not be stored; keep it and try again")
		return
	}
	if c := s.calls.byID(req.Call); c != nil && c.rt.tenant != nil && c.rt.tenant.ID == t.ID {
		c.mu.Lock()
		c.messageID = m.ID
		c.mu.Unlock()
	}
	s.log.Info("message taken", "message", m.ID, "tenant", m.Tenant, "operator", sess.Username, "call", req.Call)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]string{"id": m.ID})
}

// recentCall is one line of the console's recent calls.
type recentCall struct {
	ID          string    `json:"id"`
	Tenant      string    `json:"tenant"`
	Caller      string    `json:"caller"`
	CallerName  string    `json:"caller_name,omitempty"`
	Called      string    `json:"called"`
	Start       time.Time `json:"start"`
	AnsweredBy  string    `json:"answered_by,omitempty"`
	Disposition string    `json:"disposition"`
	Operator    string    `json:"operator,omitempty"`
	Message     string    `json:"message,omitempty"`
}

// consoleRecent lists the latest calls of the operator's tenants.
func (s *Server) consoleRecent(w http.ResponseWriter, r *http.Request) {
	sess, _ := webauth.FromContext(r.Context())
	op := s.config().Operator(sess.Username)
	if op == nil {
		writeJSONError(w, http.StatusForbidden, "not an operator")
		return
	}
	cdrs, err := s.store.CDRs(200)
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, err.Error())
		return
	}
	out := []recentCall{}
	for _, c := range cdrs {
		if c.Tenant == "" || !op.Serves(c.Tenant) {
			continue
		}
		out = append(out, recentCall{ID: c.ID, Tenant: c.Tenant, Caller: c.Caller, Called: c.Called, Start: c.Start,
			AnsweredBy: c.AnsweredBy, Disposition: c.Disposition, Operator: c.Operator, Message: c.MessageID})
		if len(out) == 30 {
			break
		}
	}
	writeJSON(w, out)
}

func writeJSONError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
