package pbx

import (
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/centralino/centralino/config"
	"github.com/centralino/centralino/pbx/store"
)

const popConfig = `
sip: {listen: "127.0.0.1:5060"}
http: {listen: "127.0.0.1:8080"}
rtp: {ports: "20000-20099"}
tenants:
  - id: rossi
    name: Studio Legale Rossi
    numbers: ["+390211111111"]
    time_zone: Europe/Rome
    people:
      - {id: rossi, name: Avv. Rossi, role: avvocato}
      - {id: verdi, name: Avv. Verdi}
    console:
      instructions: Mai passare chiamate durante le udienze.
    contacts:
      - {number: "+393331234567", name: Mario Bianchi, note: Cliente dal 2019}
    callers:
      blocked: ["+39899*"]
`

// The screen pop carries what the operator needs before answering: the
// phrase (built from the tenant's name when not configured), the caller
// named from the contacts, the staff with their statuses, and the caller's
// earlier calls and messages with this tenant only.
func TestScreenPop(t *testing.T) {
	cfg, err := config.LoadBytes("pop.yaml", []byte(popConfig))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	mem := store.NewMemory()
	s, err := New(cfg, Options{Store: mem, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	caller := "+393331234567"
	for i, c := range []store.CDR{
		{ID: "a", Start: now.Add(-48 * time.Hour), Tenant: "rossi", Caller: caller, Disposition: "answered", Operator: "anna"},
		{ID: "b", Start: now.Add(-24 * time.Hour), Tenant: "other", Caller: caller, Disposition: "answered"},
		{ID: "c", Start: now.Add(-time.Hour), Tenant: "rossi", Caller: "+390600000000", Disposition: "voicemail"},
	} {
		if err := mem.AddCDR(c); err != nil {
			t.Fatal(i, err)
		}
	}
	if err := mem.SaveMessage(store.Message{ID: store.NewID(now.Add(-47*time.Hour), ""), Tenant: "rossi", For: "rossi", CallerNumber: caller,
		Reason: "Preventivo", Urgency: "urgent", Operator: "anna", Created: now.Add(-47 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.statuses.set(store.Status{Tenant: "rossi", Person: "rossi", State: config.StatusMeeting, Until: now.Add(5 * time.Hour), Since: now, By: "api"}); err != nil {
		t.Fatal(err)
	}

	req := sip.NewRequest(sip.INVITE, sip.Uri{User: "+390211111111", Host: "example.test"})
	c := newCall(s, cfg, req, &route{tenant: cfg.Tenant("rossi"), caller: caller, callerName: "MARIO B", called: "+390211111111"})
	p := c.screenPop(now)

	if p.AnswerPhrase != "Studio Legale Rossi, buongiorno" || p.TenantName != "Studio Legale Rossi" || !strings.Contains(p.Instructions, "udienze") {
		t.Errorf("tenant part: %+v", p)
	}
	if p.CallerName != "Mario Bianchi" || p.CallerNote != "Cliente dal 2019" || p.CallerDisplay != "+39 333 123 4567" || p.CalledDisplay != "+39 02 1111 1111" {
		t.Errorf("caller part: name %q note %q display %q called %q", p.CallerName, p.CallerNote, p.CallerDisplay, p.CalledDisplay)
	}
	if p.VIP || p.Blocked || p.Anonymous {
		t.Errorf("flags: vip %v blocked %v anonymous %v", p.VIP, p.Blocked, p.Anonymous)
	}
	if len(p.People) != 2 || p.People[0].Status != config.StatusMeeting || p.People[0].StatusText != "in riunione fino alle 16:00" ||
		p.People[0].Role != "avvocato" || p.People[1].Status != config.StatusAvailable || p.People[0].Reachable {
		t.Errorf("people: %+v", p.People)
	}
	if len(p.History.Calls) != 1 || p.History.Calls[0].Operator != "anna" {
		t.Errorf("history calls (this tenant and caller only): %+v", p.History.Calls)
	}
	if len(p.History.Messages) != 1 || p.History.Messages[0].Reason != "Preventivo" || p.History.Messages[0].Urgency != "urgent" {
		t.Errorf("history messages: %+v", p.History.Messages)
	}
}
