package pbx

import (
	"cmp"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/centralino/centralino/config"
)

// Operator statuses.
const (
	opAvailable = "available"
	opPaused    = "paused"
	opBusy      = "busy"
	opWrapUp    = "wrap-up"
)

// Why an offer was withdrawn (offer_gone.reason).
const (
	goneTaken        = "taken"
	goneCallerHangup = "caller-hangup"
	goneTimeout      = "timeout"
	goneMaxWait      = "max-wait"
	gonePaused       = "paused"
)

// desk is the operator pool: who is connected and in what state, the
// calls waiting for an operator, and the offers between them. One mutex
// guards it all; nothing under it blocks (sends to consoles are queued).
//
// A call waits in its tenant's queue (the call's own goroutine holds it
// there with music, see stepOperator); the dispatcher offers it to the
// operators who serve that tenant, by the configured strategy; the first
// operator to answer takes it.
type desk struct {
	srv  *Server
	wake chan struct{}

	mu      sync.Mutex
	ops     map[string]*deskOp // by username
	waiting []*queued          // oldest first
}

// deskOp is one operator's state. It outlives the operator's connections,
// so that a page reload finds the status and the call where they were.
type deskOp struct {
	username string
	conns    map[*consoleConn]struct{}
	status   string
	reason   string // why the desk paused them (missed offers)
	wrapEnd  time.Time
	idleFrom time.Time // for longest-idle: when they last became free
	misses   int

	offer    *queued // the call offered to them now
	offerEnd time.Time
	call     *queued  // the call they are handling
	callMsg  *msgCall // its last state as told to the page, for a reloaded page's hello
}

// queued is a call waiting for an operator.
type queued struct {
	c      *call
	tenant string
	since  time.Time
	pop    screenPop
	// take receives the one operator's answer; buffered so that the desk
	// never waits for the call's goroutine.
	take chan takeRequest
	// cmds carries the handling operator's commands to the call's goroutine.
	cmds chan opCommand
	// handler is the username handling the call once taken; talking is
	// when they answered (set by the call's goroutine, read by it).
	handler string
	talking time.Time
}

type takeRequest struct {
	op    string
	sdp   string
	reply chan takeReply
}

type takeReply struct {
	sdp string
	err error
}

// opCommand is an in-call request from the handling operator.
type opCommand struct {
	op     string // who sent it: a command from an operator who no longer handles the call is dropped
	kind   string // hangup, hold, transfer, transfer_complete, transfer_cancel, browser-gone
	on     bool
	mode   string
	person string
}

// maxConsolesPerOperator bounds the pages one operator may have open (a
// few tabs or devices), so that a client cannot pile up connections.
const maxConsolesPerOperator = 8

func newDesk(s *Server) *desk {
	return &desk{srv: s, wake: make(chan struct{}, 1), ops: map[string]*deskOp{}}
}

func (d *desk) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *desk) queueCfg() config.Queue { return d.srv.config().Console.Queue }

// operator returns (creating) the state of a configured operator; nil
// when the config no longer has them.
func (d *desk) operator(username string) (*config.Operator, *deskOp) {
	cfgOp := d.srv.config().Operator(username)
	if cfgOp == nil {
		return nil, nil
	}
	op := d.ops[username]
	if op == nil {
		// A fresh login starts paused: an operator decides when calls may come.
		op = &deskOp{username: username, conns: map[*consoleConn]struct{}{}, status: opPaused, idleFrom: d.srv.now()}
		d.ops[username] = op
	}
	return cfgOp, op
}

// hasOperators reports whether an operator who serves the tenant has the
// console open: without one, waiting would be pointless.
func (d *desk) hasOperators(tenant string) bool {
	cfg := d.srv.config()
	d.mu.Lock()
	defer d.mu.Unlock()
	for name, op := range d.ops {
		if o := cfg.Operator(name); o != nil && o.Serves(tenant) && len(op.conns) > 0 {
			return true
		}
	}
	return false
}

// enqueue puts a call at the back of the queue (or, when an operator lost
// it, at the front: it keeps its place by its waiting time).
func (d *desk) enqueue(q *queued) {
	d.mu.Lock()
	d.waiting = append(d.waiting, q)
	slices.SortStableFunc(d.waiting, func(a, b *queued) int { return a.since.Compare(b.since) })
	d.mu.Unlock()
	d.srv.metrics.queueWaiting.Inc()
	d.broadcastQueues()
	d.poke()
}

// remove takes a waiting call out of the queue; false when an operator
// took it first (its take request is then in q.take).
func (d *desk) remove(q *queued, reason string) bool {
	d.mu.Lock()
	i := slices.Index(d.waiting, q)
	if i < 0 {
		d.mu.Unlock()
		return false
	}
	d.waiting = slices.Delete(d.waiting, i, i+1)
	for _, op := range d.ops {
		if op.offer == q {
			op.offer = nil
			op.send(msgOfferGone{Type: "offer_gone", Call: q.c.id, Reason: reason})
		}
	}
	d.mu.Unlock()
	d.srv.metrics.queueWaiting.Dec()
	d.broadcastQueues()
	d.poke()
	return true
}

// answer is an operator taking an offered call: it leaves the queue, the
// other operators' cards go, and the call's goroutine gets the request.
func (d *desk) answer(username, callID, sdp string) (chan takeReply, string) {
	d.mu.Lock()
	op := d.ops[username]
	if op == nil || op.offer == nil || op.offer.c.id != callID {
		d.mu.Unlock()
		return nil, "this call is no longer offered to you"
	}
	q := op.offer
	if o := d.srv.config().Operator(username); o == nil || !o.Serves(q.tenant) {
		op.offer = nil // a reload took the tenant away from them
		d.mu.Unlock()
		return nil, "you no longer serve this office"
	}
	i := slices.Index(d.waiting, q)
	if i < 0 {
		d.mu.Unlock()
		return nil, "this call is no longer waiting"
	}
	d.waiting = slices.Delete(d.waiting, i, i+1)
	for _, o := range d.ops {
		if o.offer == q {
			o.offer = nil
			if o != op {
				o.send(msgOfferGone{Type: "offer_gone", Call: q.c.id, Reason: goneTaken})
			}
		}
	}
	op.status, op.reason, op.misses, op.call, op.callMsg = opBusy, "", 0, q, nil
	q.handler = username
	// Whatever an earlier operator of this call still had on its way is
	// not for this one.
	for len(q.cmds) > 0 {
		<-q.cmds
	}
	op.sendStatus()
	reply := make(chan takeReply, 1)
	q.take <- takeRequest{op: username, sdp: sdp, reply: reply}
	d.mu.Unlock()
	d.srv.metrics.queueWaiting.Dec()
	d.broadcastQueues()
	return reply, ""
}

// release frees the operator who handled q: wrap-up when the call was
// theirs to finish, available again when they lost it (browser gone).
func (d *desk) release(q *queued, wrapUp bool) {
	d.mu.Lock()
	defer d.poke()
	defer d.mu.Unlock()
	op := d.ops[q.handler]
	if op == nil || op.call != q {
		return
	}
	op.call, op.callMsg = nil, nil
	now := d.srv.now()
	op.idleFrom = now
	switch wrap := d.queueCfg().WrapUp; {
	case op.status != opBusy:
		// They logged out (paused) meanwhile: a new login starts paused.
	case wrapUp && wrap > 0:
		op.status, op.wrapEnd = opWrapUp, now.Add(wrap)
	default:
		op.status = opAvailable
	}
	op.sendStatus()
}

// command routes an in-call command to the call the operator handles.
func (d *desk) command(username, callID string, cmd opCommand) string {
	d.mu.Lock()
	defer d.mu.Unlock()
	op := d.ops[username]
	if op == nil || op.call == nil || op.call.c.id != callID {
		return "you are not handling this call"
	}
	cmd.op = username
	// Sent under the lock: a command never reaches a call its sender no
	// longer handles (answer drains what is left for the next operator).
	select {
	case op.call.cmds <- cmd:
		return ""
	default:
		return "the call is busy; try again"
	}
}

// setStatus is the operator's own available/paused switch.
func (d *desk) setStatus(username, status string) string {
	d.mu.Lock()
	defer d.poke()
	defer d.mu.Unlock()
	_, op := d.operator(username)
	if op == nil {
		return "unknown operator"
	}
	switch op.status {
	case opBusy:
		return "you are in a call"
	}
	if status == opAvailable && op.status != opAvailable {
		op.idleFrom = d.srv.now()
		op.misses = 0
	}
	if status == opPaused && op.offer != nil {
		op.send(msgOfferGone{Type: "offer_gone", Call: op.offer.c.id, Reason: gonePaused})
		op.offer = nil
	}
	op.status, op.reason = status, ""
	op.sendStatus()
	return ""
}

// run is the dispatcher: it ends wrap-ups, expires offers and makes new
// ones, on every change (poke) and when the next of those deadlines comes;
// an idle desk does not wake up at all.
func (d *desk) run(done <-chan struct{}) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		case <-d.wake:
		}
		next := d.dispatch()
		t.Stop()
		if !next.IsZero() {
			t.Reset(max(next.Sub(d.srv.now()), time.Millisecond))
		}
	}
}

// dispatch brings the desk up to date and returns when it must run again
// (zero: only on a change).
func (d *desk) dispatch() (next time.Time) {
	cfg := d.srv.config()
	qc := cfg.Console.Queue
	now := d.srv.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	soonest := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	defer func() {
		for _, op := range d.ops {
			if op.status == opWrapUp {
				soonest(op.wrapEnd)
			}
			if op.offer != nil {
				soonest(op.offerEnd)
			}
		}
	}()
	for _, op := range d.ops {
		if op.status == opWrapUp && !now.Before(op.wrapEnd) {
			op.status = opAvailable
			op.sendStatus()
		}
		if op.offer != nil && !now.Before(op.offerEnd) {
			op.send(msgOfferGone{Type: "offer_gone", Call: op.offer.c.id, Reason: goneTimeout})
			op.offer = nil
			op.misses++
			op.idleFrom = now // skipped: the next call tries someone else first
			if qc.MaxMisses > 0 && op.misses >= qc.MaxMisses {
				op.status, op.reason = opPaused, "missed-calls"
				op.sendStatus()
			}
		}
	}
	for _, q := range d.waiting {
		var free []*deskOp
		offered := false
		for name, op := range d.ops {
			if op.offer == q {
				offered = true
			}
			o := cfg.Operator(name)
			if o == nil || !o.Serves(q.tenant) || len(op.conns) == 0 || op.status != opAvailable || op.offer != nil || op.call != nil {
				continue
			}
			free = append(free, op)
		}
		if len(free) == 0 {
			continue
		}
		if qc.Strategy == config.QueueLongestIdle {
			if offered {
				continue
			}
			free = []*deskOp{slices.MinFunc(free, func(a, b *deskOp) int {
				return cmp.Or(a.idleFrom.Compare(b.idleFrom), cmp.Compare(a.username, b.username))
			})}
		}
		for _, op := range free {
			op.offer, op.offerEnd = q, now.Add(qc.OfferTimeout)
			op.send(msgOffer{Type: "offer", Call: q.c.id, Pop: q.pop, Expires: op.offerEnd})
			q.c.log.Debug("call offered", "operator", op.username)
		}
	}
	return next // completed by the deferred deadline scan
}

// connect registers a console connection and queues its hello message,
// under the desk's lock, so that every later event reaches the page after
// the hello it rebuilds itself from.
func (d *desk) connect(username string, cc *consoleConn) bool {
	d.mu.Lock()
	defer d.poke()
	defer d.mu.Unlock()
	cfgOp, op := d.operator(username)
	if op == nil || len(op.conns) >= maxConsolesPerOperator {
		return false
	}
	op.conns[cc] = struct{}{}
	d.srv.metrics.consoleConns.Inc()
	h := msgHello{
		Type:     "hello",
		Now:      d.srv.now(),
		Operator: helloOperator{Username: cfgOp.Username, Name: cmp.Or(cfgOp.Name, cfgOp.Username), Tenants: cfgOp.Tenants, Language: cfgOp.Language},
		Status:   op.status, Reason: op.reason,
		Queues: d.queuesFor(cfgOp),
		Offers: []msgOffer{},
	}
	if op.status == opWrapUp {
		h.Until = op.wrapEnd
	}
	if op.offer != nil {
		h.Offers = append(h.Offers, msgOffer{Type: "offer", Call: op.offer.c.id, Pop: op.offer.pop, Expires: op.offerEnd})
	}
	if op.call != nil {
		h.Call = op.callMsg
		if h.Call == nil {
			h.Call = &msgCall{Type: "call", Call: op.call.c.id, State: "connecting", Pop: &op.call.pop}
		}
	}
	cc.sendJSON(h)
	return true
}

// disconnect forgets a console connection. The operator keeps their
// status; with no connection left they get no offers, and a call they
// were offered goes to someone else.
func (d *desk) disconnect(username string, cc *consoleConn) {
	d.mu.Lock()
	defer d.poke()
	defer d.mu.Unlock()
	op := d.ops[username]
	if op == nil {
		return
	}
	if _, ok := op.conns[cc]; !ok {
		return
	}
	delete(op.conns, cc)
	d.srv.metrics.consoleConns.Dec()
	if len(op.conns) == 0 && op.offer != nil {
		op.offer = nil
	}
}

// logout closes an operator's consoles for one session (or all when
// session is ""); the call they handle, if any, goes back to the queue.
func (d *desk) logout(username, session string) {
	d.mu.Lock()
	op := d.ops[username]
	var conns []*consoleConn
	var q *queued
	if op != nil {
		for cc := range op.conns {
			if session == "" || cc.session == session {
				conns = append(conns, cc)
			}
		}
		if len(conns) > 0 && len(conns) == len(op.conns) {
			q = op.call
			op.status = opPaused
		}
	}
	d.mu.Unlock()
	for _, cc := range conns {
		cc.close("logged out")
	}
	if q != nil {
		select {
		case q.cmds <- opCommand{op: username, kind: "browser-gone"}:
		default:
		}
	}
}

// queuesFor lists the waiting calls of the operator's tenants.
func (d *desk) queuesFor(o *config.Operator) []queueInfo {
	cfg := d.srv.config()
	out := []queueInfo{}
	for i := range cfg.Tenants {
		t := &cfg.Tenants[i]
		if !o.Serves(t.ID) {
			continue
		}
		qi := queueInfo{Tenant: t.ID, Name: cmp.Or(t.Name, t.ID), Waiting: []waitingInfo{}}
		for _, q := range d.waiting {
			if q.tenant == t.ID {
				qi.Waiting = append(qi.Waiting, waitingInfo{Call: q.c.id, Caller: q.pop.Caller, CallerName: q.pop.CallerName, Since: q.since})
			}
		}
		out = append(out, qi)
	}
	return out
}

func (d *desk) broadcastQueues() {
	cfg := d.srv.config()
	d.mu.Lock()
	defer d.mu.Unlock()
	for name, op := range d.ops {
		if len(op.conns) == 0 {
			continue
		}
		if o := cfg.Operator(name); o != nil {
			op.send(msgQueues{Type: "queues", Queues: d.queuesFor(o)})
		}
	}
}

// notify sends a message to the operator handling q.
func (d *desk) notify(q *queued, msg any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if op := d.ops[q.handler]; op != nil {
		if m, ok := msg.(msgCall); ok && op.call == q {
			op.callMsg = &m
		}
		op.send(msg)
	}
}

// counts reports operators by status (those with a console open).
func (d *desk) counts() map[string]int {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string]int{}
	for _, op := range d.ops {
		if len(op.conns) > 0 {
			out[op.status]++
		}
	}
	return out
}

func (op *deskOp) send(msg any) {
	b, err := json.Marshal(msg)
	if err != nil {
		return
	}
	for cc := range op.conns {
		cc.send(b)
	}
}

func (op *deskOp) sendStatus() {
	m := msgStatus{Type: "status", Status: op.status, Reason: op.reason}
	if op.status == opWrapUp {
		m.Until = op.wrapEnd
	}
	op.send(m)
}
