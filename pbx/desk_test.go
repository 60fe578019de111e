package pbx

import (
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/centralino/centralino/config"
	"github.com/centralino/centralino/pbx/store"
)

// deskConfig: two tenants; anna serves rossi, bruno and carla every tenant.
const deskConfig = `
sip: {listen: "127.0.0.1:5060"}
http: {listen: "127.0.0.1:8080"}
rtp: {ports: "20000-20099"}
operators:
  - {username: anna, tenants: [rossi], password_hash: "$2a$04$Jc3ftQ/lq9WQ3bDQfHIzJeMnfOsWIhHaGMVuaaLM1xo6ceHG5zuB2"}
  - {username: bruno, tenants: ["*"], password_hash: "$2a$04$Jc3ftQ/lq9WQ3bDQfHIzJeMnfOsWIhHaGMVuaaLM1xo6ceHG5zuB2"}
  - {username: carla, tenants: ["*"], password_hash: "$2a$04$Jc3ftQ/lq9WQ3bDQfHIzJeMnfOsWIhHaGMVuaaLM1xo6ceHG5zuB2"}
console:
  queue: {strategy: %s, offer_timeout: 10s, max_misses: 2, wrap_up: 5s}
tenants:
  - {id: rossi, name: Studio Rossi, numbers: ["+390211111111"]}
  - {id: bianchi, name: Studio Bianchi, numbers: ["+390222222222"]}
`

type deskEnv struct {
	t     *testing.T
	srv   *Server
	d     *desk
	now   time.Time
	conns map[string]*consoleConn
}

func newDeskEnv(t *testing.T, strategy string) *deskEnv {
	t.Helper()
	cfg, err := config.LoadBytes("desk.yaml", []byte(strings.Replace(deskConfig, "%s", strategy, 1)))
	if err != nil {
		t.Fatal(err)
	}
	e := &deskEnv{t: t, now: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), conns: map[string]*consoleConn{}}
	e.srv, err = New(cfg, Options{Store: store.NewMemory(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return e.now }})
	if err != nil {
		t.Fatal(err)
	}
	e.d = e.srv.desk
	return e
}

// open connects an operator's console and drains its hello.
func (e *deskEnv) open(user string) *consoleConn {
	e.t.Helper()
	cc := &consoleConn{session: user, out: make(chan []byte, wsSendQueue), done: make(chan struct{})}
	if !e.d.connect(user, cc) {
		e.t.Fatalf("connect %s refused", user)
	}
	e.conns[user] = cc
	if m := e.next(user); m["type"] != "hello" {
		e.t.Fatalf("%s: first message %v", user, m)
	}
	return cc
}

// next returns the operator's next message, or nil when there is none.
func (e *deskEnv) next(user string) map[string]any {
	select {
	case b := <-e.conns[user].out:
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			e.t.Fatal(err)
		}
		return m
	default:
		return nil
	}
}

// offers drains an operator's messages and returns the calls offered.
func (e *deskEnv) offers(user string) (offered, gone []string) {
	for m := e.next(user); m != nil; m = e.next(user) {
		switch m["type"] {
		case "offer":
			offered = append(offered, m["call"].(string))
		case "offer_gone":
			gone = append(gone, m["call"].(string)+":"+m["reason"].(string))
		}
	}
	return offered, gone
}

func (e *deskEnv) available(users ...string) {
	for _, u := range users {
		if msg := e.d.setStatus(u, opAvailable); msg != "" {
			e.t.Fatal(msg)
		}
	}
}

func (e *deskEnv) queue(id, tenant string) *queued {
	req := sip.NewRequest(sip.INVITE, sip.Uri{User: "x", Host: "example.test"})
	c := newCall(e.srv, e.srv.config(), req, &route{tenant: e.srv.config().Tenant(tenant)})
	c.id = id
	q := &queued{c: c, tenant: tenant, since: e.now, take: make(chan takeRequest, 1), cmds: make(chan opCommand, 8)}
	e.d.enqueue(q)
	return q
}

func same(a, b []string) bool {
	return strings.Join(a, ",") == strings.Join(b, ",")
}

func TestDeskRingAllOffersEveryoneWhoServesTheTenant(t *testing.T) {
	e := newDeskEnv(t, config.QueueRingAll)
	for _, u := range []string{"anna", "bruno", "carla"} {
		e.open(u)
	}
	e.available("anna", "bruno") // carla stays paused
	e.queue("c1", "rossi")
	e.queue("c2", "bianchi")
	e.d.dispatch()
	if got, _ := e.offers("anna"); !same(got, []string{"c1"}) {
		t.Errorf("anna offered %v, want c1 (she serves rossi only)", got)
	}
	if got, _ := e.offers("bruno"); !same(got, []string{"c1"}) {
		t.Errorf("bruno offered %v, want c1 (the oldest call first, one offer at a time)", got)
	}
	if got, _ := e.offers("carla"); len(got) != 0 {
		t.Errorf("paused carla offered %v", got)
	}

	// Bruno answers: anna's card goes; the next call is offered to bruno
	// only after his call (he is busy).
	reply, msg := e.d.answer("bruno", "c1", "v=0")
	if msg != "" || reply == nil {
		t.Fatalf("answer: %q", msg)
	}
	if _, gone := e.offers("anna"); !same(gone, []string{"c1:taken"}) {
		t.Errorf("anna's withdrawn offers %v, want c1:taken", gone)
	}
	if _, msg := e.d.answer("anna", "c1", "v=0"); msg == "" {
		t.Error("anna could answer a call bruno took")
	}
	e.d.dispatch()
	if got, _ := e.offers("bruno"); len(got) != 0 {
		t.Errorf("busy bruno offered %v", got)
	}
	if got, _ := e.offers("anna"); len(got) != 0 {
		t.Errorf("anna offered %v; c2 is not her tenant's", got)
	}
}

func TestDeskLongestIdleOffersOneOperator(t *testing.T) {
	e := newDeskEnv(t, config.QueueLongestIdle)
	e.open("bruno")
	e.open("carla")
	e.available("carla")
	e.now = e.now.Add(time.Minute)
	e.available("bruno") // idle for less time than carla
	e.queue("c1", "bianchi")
	e.d.dispatch()
	if got, _ := e.offers("carla"); !same(got, []string{"c1"}) {
		t.Errorf("carla (idle longest) offered %v, want c1", got)
	}
	if got, _ := e.offers("bruno"); len(got) != 0 {
		t.Errorf("bruno offered %v, want nothing while carla has the call", got)
	}
	// Carla does not answer: the offer times out and goes to bruno.
	e.now = e.now.Add(10 * time.Second)
	e.d.dispatch()
	if _, gone := e.offers("carla"); !same(gone, []string{"c1:timeout"}) {
		t.Errorf("carla's withdrawn offers %v, want c1:timeout", gone)
	}
	if got, _ := e.offers("bruno"); !same(got, []string{"c1"}) {
		t.Errorf("bruno offered %v after carla missed it, want c1", got)
	}
}

func TestDeskMissedOffersPauseAndWrapUpEnds(t *testing.T) {
	e := newDeskEnv(t, config.QueueRingAll)
	e.open("anna")
	e.available("anna")
	q := e.queue("c1", "rossi")
	for range 2 { // max_misses: 2
		e.d.dispatch()
		e.now = e.now.Add(10 * time.Second)
	}
	e.d.dispatch()
	var status, reason string
	for m := e.next("anna"); m != nil; m = e.next("anna") {
		if m["type"] == "status" {
			status, _ = m["status"].(string)
			reason, _ = m["reason"].(string)
		}
	}
	if status != opPaused || reason != "missed-calls" {
		t.Errorf("after two missed offers anna is %q (%q), want paused for missed-calls", status, reason)
	}

	// Back to work: she takes the call; once it ends she is in wrap-up for
	// 5 s, then available.
	e.available("anna")
	e.d.dispatch()
	e.offers("anna")
	if _, msg := e.d.answer("anna", "c1", "v=0"); msg != "" {
		t.Fatal(msg)
	}
	e.d.release(q, true)
	if got := e.d.counts()[opWrapUp]; got != 1 {
		t.Errorf("wrap-up count %d after the call, want 1", got)
	}
	e.now = e.now.Add(5 * time.Second)
	e.d.dispatch()
	if got := e.d.counts()[opAvailable]; got != 1 {
		t.Errorf("available count %d after wrap-up, want 1", got)
	}
}

func TestDeskOnlyConnectedOperatorsCount(t *testing.T) {
	e := newDeskEnv(t, config.QueueRingAll)
	if e.d.hasOperators("rossi") {
		t.Error("hasOperators with nobody connected")
	}
	cc := e.open("anna")
	if !e.d.hasOperators("rossi") || e.d.hasOperators("bianchi") {
		t.Error("anna serves rossi only")
	}
	e.available("anna")
	e.queue("c1", "rossi")
	e.d.dispatch()
	e.offers("anna")
	// The page closes (a reload): the offer is dropped, the status kept,
	// and the new page gets the call offered again.
	e.d.disconnect("anna", cc)
	e.open("anna")
	e.d.dispatch()
	if got, _ := e.offers("anna"); !same(got, []string{"c1"}) {
		t.Errorf("after reconnecting anna is offered %v, want c1", got)
	}
	// The caller hangs up: the card goes.
	q := e.d.waiting[0]
	if !e.d.remove(q, goneCallerHangup) {
		t.Fatal("remove")
	}
	if _, gone := e.offers("anna"); !same(gone, []string{"c1:caller-hangup"}) {
		t.Errorf("withdrawn %v, want c1:caller-hangup", gone)
	}
}

// The console's WebSocket answers bad messages with errors; the desk
// state is untouched.
func TestConsoleRequestValidation(t *testing.T) {
	e := newDeskEnv(t, config.QueueRingAll)
	cc := e.open("anna")
	for _, tt := range []struct {
		msg  inbound
		want string
	}{
		{inbound{}, "type is required"},
		{inbound{Type: "dance"}, "unknown message type"},
		{inbound{Type: "status", Status: "busy"}, "status must be"},
		{inbound{Type: "answer"}, "call is required"},
		{inbound{Type: "answer", Call: "c1", SDP: "v=0"}, "sdp must be"},
		{inbound{Type: "hold", Call: "c1"}, "on (true or false)"},
		{inbound{Type: "transfer", Call: "c1", Mode: "blind"}, "person is required"},
		{inbound{Type: "transfer_complete", Call: "c1"}, "not handling this call"},
	} {
		got := e.srv.consoleRequest(t.Context(), "anna", tt.msg, cc, e.srv.log)
		if !strings.Contains(got, tt.want) {
			t.Errorf("%+v: %q, want %q", tt.msg, got, tt.want)
		}
	}
	if got := e.d.counts()[opPaused]; got != 1 {
		t.Errorf("anna's status changed: %v", e.d.counts())
	}
}

// A command still on its way from an operator who left a call must not
// reach the next operator's conversation.
func TestDeskStaleCommandsDoNotReachTheNextOperator(t *testing.T) {
	e := newDeskEnv(t, config.QueueRingAll)
	e.open("anna")
	e.open("bruno")
	e.available("anna")
	q := e.queue("c1", "rossi")
	e.d.dispatch()
	if _, msg := e.d.answer("anna", "c1", "v=0"); msg != "" {
		t.Fatal(msg)
	}
	<-q.take
	if msg := e.d.command("anna", "c1", opCommand{kind: "hangup"}); msg != "" {
		t.Fatal(msg)
	}
	// Anna's audio never connects: the call goes back to the queue and
	// bruno takes it.
	e.d.release(q, false)
	if msg := e.d.command("anna", "c1", opCommand{kind: "hangup"}); msg == "" {
		t.Error("anna could still command a call she left")
	}
	e.d.enqueue(q)
	e.available("bruno")
	e.d.dispatch()
	if _, msg := e.d.answer("bruno", "c1", "v=0"); msg != "" {
		t.Fatal(msg)
	}
	if n := len(q.cmds); n != 0 {
		t.Errorf("%d of anna's commands wait for bruno's conversation", n)
	}
	if msg := e.d.command("bruno", "c1", opCommand{kind: "hold", on: true}); msg != "" {
		t.Fatal(msg)
	}
	if cmd := <-q.cmds; cmd.op != "bruno" || q.handler != "bruno" {
		t.Errorf("command from %q to a call handled by %q", cmd.op, q.handler)
	}
}

// Pausing withdraws the card in front of the operator; logging out in a
// call leaves them paused, not available, when the call lets them go.
func TestDeskPauseAndLogout(t *testing.T) {
	e := newDeskEnv(t, config.QueueRingAll)
	cc := e.open("anna")
	e.available("anna")
	q := e.queue("c1", "rossi")
	e.d.dispatch()
	e.offers("anna")
	if msg := e.d.setStatus("anna", opPaused); msg != "" {
		t.Fatal(msg)
	}
	if _, gone := e.offers("anna"); !same(gone, []string{"c1:paused"}) {
		t.Errorf("withdrawn %v, want c1:paused", gone)
	}
	if _, msg := e.d.answer("anna", "c1", "v=0"); msg == "" {
		t.Error("a paused operator answered a withdrawn offer")
	}

	e.available("anna")
	e.d.dispatch()
	if _, msg := e.d.answer("anna", "c1", "v=0"); msg != "" {
		t.Fatal(msg)
	}
	<-q.take
	e.d.logout("anna", cc.session)
	if cmd := <-q.cmds; cmd.kind != "browser-gone" {
		t.Errorf("logout sent %q to the call", cmd.kind)
	}
	e.d.release(q, false)
	if got := e.d.ops["anna"].status; got != opPaused {
		t.Errorf("after logging out in a call anna is %q, want paused", got)
	}
}
