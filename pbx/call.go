package pbx

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/centralino/centralino/config"
	"github.com/centralino/centralino/dialplan"
	"github.com/centralino/centralino/media"
	"github.com/centralino/centralino/pbx/store"
)

// Who ended a call, as recorded in CDRs.
const (
	byCaller  = "caller"
	byCallee  = "callee"
	byTimeout = "timeout"
	bySystem  = "system"
)

// Call dispositions.
const (
	dispAnswered  = "answered"
	dispNoAnswer  = "no-answer"
	dispBusy      = "busy"
	dispCancelled = "cancelled"
	dispFailed    = "failed"
	dispRejected  = "rejected"  // refused by the plan (blocked caller, hangup step)
	dispVoicemail = "voicemail" // the caller left a message
)

// side names a call's two legs: A is the caller, B the answered callee.
type side int

const (
	sideA side = iota
	sideB
	// sideConsult is a warm transfer's consultation: the person an operator
	// talks to before handing the caller over. It uses leg B's media; its
	// BYE ends the consultation, not the call.
	sideConsult
)

func (sd side) String() string {
	switch sd {
	case sideA:
		return "A"
	case sideB:
		return "B"
	}
	return "consult"
}

// leg is one SIP dialog of a call with its media.
type leg struct {
	media *media.Leg

	mu sync.Mutex
	// sdp is our last description for this leg; its version is bumped on
	// every change (RFC 3264 §8).
	sdp media.SDPParams
	// remoteCSeq guards against reordered in-dialog requests.
	remoteCSeq uint32
	// lateOffer is set while we wait for the answer in an ACK (INVITE or
	// re-INVITE without SDP, RFC 3261 §13.2.1).
	lateOffer bool
	// acks are signalled when the ACK for a 2xx to a re-INVITE arrives.
	acks map[uint32]chan struct{}
}

func (l *leg) nextSDP(f func(p *media.SDPParams)) media.SDPParams {
	l.mu.Lock()
	defer l.mu.Unlock()
	f(&l.sdp)
	l.sdp.Version++
	return l.sdp
}

// call is one B2BUA call: leg A (the caller, we are UAS) bridged to leg B
// (the callee that answered, we are UAC).
type call struct {
	id      string
	srv     *Server
	cfg     *config.Config // the snapshot the call started with
	log     *slog.Logger
	rt      *route
	invite  *sip.Request
	started time.Time

	a      *sipgo.DialogServerSession
	b      *sipgo.DialogClientSession
	legA   leg
	legB   leg
	aOffer *media.SessionDescription // nil when the caller sent no SDP

	unbridge func()
	endOnce  sync.Once
	done     chan struct{}
	// ctx ends with the call (any side's BYE, a timeout, shutdown): prompts,
	// menus and recordings stop with it.
	ctx       context.Context
	cancelCtx context.CancelFunc

	// aAnswered: Centralino answered the caller itself (a greeting, a menu,
	// voicemail); ivr then drives leg A until a bridge takes it over.
	aAnswered    bool
	ivr          *media.IVR
	stopIVRWatch func()
	// bg tracks goroutines the call owns beyond its handler (branches
	// still cancelling after the answer).
	bg sync.WaitGroup

	// relayed and early are the provisional responses already relayed to
	// the caller and whether early media flows; they span every fork of
	// the call's plan. Only the call's goroutine touches them.
	relayed map[int]bool
	early   bool

	mu         sync.Mutex
	steps      []store.CDRStep
	hangupBy   string
	reason     string
	answered   time.Time
	answeredBy string
	state      string

	// The operator console's part (see operator.go).
	operator   string        // who answered from the console
	queueWait  time.Duration // how long the caller waited for them
	talkStart  time.Time
	talk       time.Duration
	transferTo string
	messageID  string
	// consultB is a warm transfer's consultation dialog until it becomes
	// leg B; consultGone is signalled when its BYE comes.
	consultB    *sipgo.DialogClientSession
	consultGone chan struct{}
	// forkStop, when set, cancels a fork in progress (the operator took the
	// caller back while the person's phone rang).
	forkStop chan struct{}
}

func newCallID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func randUint64() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:]) >> 2 // keep it positive in o= lines
}

func newCall(s *Server, cfg *config.Config, req *sip.Request, rt *route) *call {
	id := newCallID()
	tenant := ""
	if rt.tenant != nil {
		tenant = rt.tenant.ID
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &call{
		id: id, srv: s, cfg: cfg, rt: rt, invite: req, started: s.now(), done: make(chan struct{}), state: "routing",
		relayed: map[int]bool{}, ctx: ctx, cancelCtx: cancel,
		log: s.log.With("call", id, "call_id", callID(req), "direction", rt.direction, "caller", rt.caller, "called", rt.called, "tenant", tenant),
	}
	return c
}

// end asks the call to finish; the first reason wins.
func (c *call) end(by, reason string) {
	c.endOnce.Do(func() {
		c.mu.Lock()
		c.hangupBy, c.reason = by, reason
		c.mu.Unlock()
		close(c.done)
		c.cancelCtx()
	})
}

func (c *call) setState(st string) {
	c.mu.Lock()
	c.state = st
	c.mu.Unlock()
}

// run is the call's life, on the INVITE handler's goroutine.
func (c *call) run(req *sip.Request, tx sip.ServerTransaction) {
	s := c.srv
	a, err := s.dialogUA(req.Transport()).ReadInvite(req, tx)
	if err != nil {
		c.log.Warn("cannot read invite", "error", err)
		respond(tx, req, sip.StatusBadRequest, "Bad Request", nil)
		return
	}
	c.a = a
	// Branches still being cancelled may outlive the call by a few
	// seconds; the handler waits for them last, after the record is written
	// and the call is gone from the registry.
	defer c.bg.Wait()
	s.calls.add(c)
	s.calls.bindDialog(a.ID, c, sideA)
	s.metrics.activeCalls.Inc()
	defer s.metrics.activeCalls.Dec()
	defer s.calls.remove(c)
	c.legA.remoteCSeq = req.CSeq().SeqNo

	disp, code := c.setup(tx)
	if disp != dispAnswered || c.rt.feature != "" || !c.bridged() {
		// Refused, not answered, or answered by Centralino itself and over.
		c.finish(disp, code)
		return
	}
	c.setState("answered")
	c.log.Info("call answered", "answered_by", c.answeredBy)
	stopWatch := s.watchdog.Watch(c.cfg.RTP.Timeout, func() { c.end(byTimeout, "media timeout") }, c.legA.media, c.legB.media)
	<-c.done
	stopWatch()
	c.hangup()
	c.finish(dispAnswered, sip.StatusOK)
}

func (c *call) bridged() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.unbridge != nil && c.b != nil
}

// setup does everything up to the caller's ACK: checks the offer, then
// runs the call's steps (a plain ring for calls between extensions, the
// tenant's plan otherwise) until one answers. It returns the disposition
// and the final code sent to the caller.
func (c *call) setup(tx sip.ServerTransaction) (string, int) {
	if body := c.invite.Body(); len(body) > 0 {
		offer, err := media.ParseSDP(body)
		if err != nil {
			code, reason := sip.StatusBadRequest, "Malformed SDP"
			if errors.Is(err, media.ErrNoAudio) {
				code, reason = sip.StatusNotAcceptableHere, "No Audio Stream"
			}
			c.log.Info("refusing offer", "error", err)
			c.reject(code, reason)
			return dispFailed, code
		}
		if _, err := media.Negotiate(offer, supportedCodecs); err != nil {
			c.log.Info("no common codec", "offer", codecNames(offer.Codecs))
			c.reject(sip.StatusNotAcceptableHere, "Not Acceptable Here")
			return dispFailed, sip.StatusNotAcceptableHere
		}
		c.aOffer = offer
	}
	if c.rt.feature != "" {
		return c.runFeature()
	}
	if c.rt.decision == nil {
		// A plain call (between extensions, or out through a trunk): ring
		// what routing found.
		return c.runSteps([]dialplan.Step{{Kind: "ring"}})
	}
	return c.runSteps(c.rt.decision.Steps)
}

// ensureMedia allocates both legs' RTP sockets the first time a step
// needs them: a call refused by its plan costs no ports.
func (c *call) ensureMedia() error {
	if c.legA.media != nil {
		return nil
	}
	s := c.srv
	var err error
	if c.legA.media, err = c.newMediaLeg(); err != nil {
		return fmt.Errorf("leg A: %w", err)
	}
	if c.legB.media, err = c.newMediaLeg(); err != nil {
		return fmt.Errorf("leg B: %w", err)
	}
	c.legA.sdp = media.SDPParams{SessionID: randUint64(), Addr: netip.AddrPortFrom(s.rtpIP, c.legA.media.LocalAddr().Port()), Ptime: 20}
	c.legB.sdp = media.SDPParams{SessionID: randUint64(), Addr: netip.AddrPortFrom(s.rtpIP, c.legB.media.LocalAddr().Port()), Ptime: 20}
	return nil
}

// connect answers the caller with the winning branch; on failure it tells
// the caller and returns the disposition and code for the record.
func (c *call) connect(winner *branch) (string, int) {
	if code, err := c.answer(winner); err != nil {
		c.log.Warn("answering the caller failed", "error", err)
		c.end(bySystem, err.Error())
		if code != 0 {
			c.reject(code, reasonPhrase(code))
		}
		c.hangup()
		return dispFailed, cmp.Or(code, sip.StatusOK)
	}
	return dispAnswered, sip.StatusOK
}

var supportedCodecs = []string{"PCMA", "PCMU"}

func codecNames(cs []media.Codec) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

func (c *call) newMediaLeg() (*media.Leg, error) {
	conn, err := c.srv.ports.Listen()
	if err != nil {
		return nil, err
	}
	l := media.NewLeg(conn, c.log)
	l.Start()
	return l, nil
}

// reject sends a final error response to the caller.
func (c *call) reject(code int, reason string) {
	if err := c.a.Respond(code, reason, nil); err != nil {
		c.log.Debug("reject", "code", code, "error", err)
	}
}

// answer connects the winning branch: media, then 200 OK to the caller,
// which returns when the caller's ACK arrives. On failure it returns the
// final code still to send to the caller (0 when the 200 already went).
func (c *call) answer(br *branch) (int, error) {
	res := br.sess.InviteResponse
	c.b = br.sess
	c.srv.calls.bindDialog(br.sess.ID, c, sideB)
	c.mu.Lock()
	c.answered, c.answeredBy = c.srv.now(), br.target.label
	c.mu.Unlock()

	// A callee whose answer we cannot use leaves the caller with nothing
	// to talk to: 488, as if the callee had refused the offer.
	bAnswer, err := media.ParseSDP(res.Body())
	if err != nil {
		return sip.StatusNotAcceptableHere, fmt.Errorf("callee answer: %w", err)
	}
	bCodec, err := media.Negotiate(bAnswer, supportedCodecs)
	if err != nil {
		return sip.StatusNotAcceptableHere, fmt.Errorf("callee answer: %w", err)
	}
	c.legB.media.SetRemote(remoteOf(bAnswer, bCodec))

	if c.aAnswered {
		// The caller is already talking to us (a greeting, a menu): the
		// callee joins; our SDP to the caller stays as it is and the bridge
		// converts A-law/µ-law if the legs differ.
		c.closeIVR()
		c.bridge()
		return 0, nil
	}
	var body []byte
	if c.aOffer == nil {
		// Late offer: our 200 carries the offer, the ACK the answer.
		c.legA.mu.Lock()
		c.legA.lateOffer = true
		c.legA.mu.Unlock()
		body = media.OfferSDP(c.legA.nextSDP(func(p *media.SDPParams) {
			p.Codecs, p.EventPT, p.Direction = []media.Codec{bCodec}, bAnswer.EventPT, media.SendRecv
		}))
	} else {
		body = c.answerA(bAnswer)
		aCodec, _ := media.Negotiate(c.aOffer, []string{bCodec.Name})
		if aCodec.Name == "" {
			aCodec, _ = media.Negotiate(c.aOffer, supportedCodecs)
		}
		c.legA.media.SetRemote(remoteOf(c.aOffer, aCodec))
	}
	c.bridge()
	if err := c.a.RespondSDP(body); err != nil {
		return 0, fmt.Errorf("200 to caller: %w", err)
	}
	return 0, nil
}

// answerA returns our SDP answer to the caller's offer, built once: the
// 200 must repeat what an early 183 said (RFC 3264 §4).
func (c *call) answerA(bDesc *media.SessionDescription) []byte {
	c.legA.mu.Lock()
	if c.legA.sdp.Version > 0 {
		p := c.legA.sdp
		c.legA.mu.Unlock()
		return media.AnswerSDP(c.aOffer, p)
	}
	c.legA.mu.Unlock()
	codec, err := media.Negotiate(c.aOffer, []string{mustNegotiate(bDesc).Name})
	if err != nil {
		codec, _ = media.Negotiate(c.aOffer, supportedCodecs)
	}
	var ev uint8
	if bDesc.EventPT != 0 {
		// Only promise RFC 4733 to the caller if the callee can take it;
		// otherwise the caller's phone falls back to in-band tones, which
		// the relay carries.
		ev = c.aOffer.EventPT
	}
	p := c.legA.nextSDP(func(p *media.SDPParams) {
		p.Codecs, p.EventPT, p.Direction = []media.Codec{codec}, ev, c.aOffer.Direction.Answer()
	})
	return media.AnswerSDP(c.aOffer, p)
}

func mustNegotiate(d *media.SessionDescription) media.Codec {
	cd, _ := media.Negotiate(d, supportedCodecs)
	return cd
}

// remoteOf turns a peer's SDP into what a media leg needs.
func remoteOf(d *media.SessionDescription, codec media.Codec) media.Remote {
	dir := d.Direction
	if d.Hold() && dir == media.SendRecv {
		dir = media.Inactive // c=0.0.0.0: RFC 2543 hold
	}
	return media.Remote{Addr: d.Addr, Codec: codec, EventPT: d.EventPT, Direction: dir}
}

// bridge connects legs A and B, replacing any earlier bridge: an early-
// media bridge from a ring step nobody answered may be stale, its
// handlers since taken over by a prompt or the operator's leg.
func (c *call) bridge() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.unbridge != nil {
		c.unbridge()
	}
	c.unbridge = media.Bridge(c.legA.media, c.legB.media)
}

// hangup sends BYE to the legs that did not end the call themselves.
func (c *call) hangup() {
	c.mu.Lock()
	by := c.hangupBy
	c.mu.Unlock()
	var wg sync.WaitGroup
	bye := func(f func(context.Context) error, who string) {
		defer wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := f(ctx); err != nil {
			c.log.Debug("bye failed", "leg", who, "error", err)
		}
	}
	if by != byCaller && c.a != nil {
		wg.Add(1)
		go bye(c.a.Bye, "A")
	}
	if by != byCallee && c.b != nil {
		wg.Add(1)
		go bye(c.b.Bye, "B")
	}
	wg.Wait()
}

// finish releases media, forgets dialogs and writes the CDR.
func (c *call) finish(disp string, code int) {
	s := c.srv
	c.end(bySystem, "")
	c.closeIVR()
	c.mu.Lock()
	if c.unbridge != nil {
		c.unbridge()
	}
	c.mu.Unlock()
	for _, l := range []*media.Leg{c.legA.media, c.legB.media} {
		if l != nil {
			l.Close()
		}
	}
	if c.a != nil {
		s.calls.unbindDialog(c.a.ID)
		c.a.Close()
	}
	if c.b != nil {
		s.calls.unbindDialog(c.b.ID)
		c.b.Close()
	}

	c.mu.Lock()
	cdr := store.CDR{
		ID: c.id, Start: c.started, Answer: c.answered, End: s.now(), Direction: c.rt.direction,
		Caller: c.rt.caller, Called: c.rt.called, AnsweredBy: c.answeredBy,
		Disposition: disp, Code: code, HangupBy: c.hangupBy, Reason: c.reason,
		Steps:    c.steps,
		Operator: c.operator, QueueWait: c.queueWait.Seconds(), TransferTo: c.transferTo, MessageID: c.messageID,
	}
	if talk := c.talk; talk > 0 || !c.talkStart.IsZero() {
		if !c.talkStart.IsZero() {
			talk += s.now().Sub(c.talkStart)
		}
		cdr.TalkSeconds = talk.Round(time.Millisecond).Seconds()
	}
	if d := c.rt.decision; d != nil {
		cdr.Rule = d.Rule
	}
	if c.rt.feature != "" {
		cdr.Rule = "feature " + c.rt.feature
	}
	c.mu.Unlock()
	if disp == dispCancelled {
		cdr.HangupBy = byCaller
	}
	if c.rt.tenant != nil {
		cdr.Tenant = c.rt.tenant.ID
	}
	if c.rt.trunk != nil {
		cdr.Trunk = c.rt.trunk.Name
	}
	if err := s.store.AddCDR(cdr); err != nil {
		c.log.Error("write CDR", "error", err)
	}
	s.metrics.callsTotal.WithLabelValues(disp).Inc()
	c.log.Info("call ended", "disposition", disp, "code", code, "hangup_by", cdr.HangupBy, "reason", cdr.Reason,
		"duration", cdr.End.Sub(cdr.Start).Round(time.Millisecond))
}

// CallInfo is what the API shows about a call in progress.
type CallInfo struct {
	ID         string    `json:"id"`
	CallID     string    `json:"call_id"`
	Direction  string    `json:"direction"`
	State      string    `json:"state"`
	Caller     string    `json:"caller"`
	CallerName string    `json:"caller_name"`
	Called     string    `json:"called"`
	Tenant     string    `json:"tenant"`
	Trunk      string    `json:"trunk"`
	Started    time.Time `json:"started"`
	Answered   time.Time `json:"answered"`
	AnsweredBy string    `json:"answered_by"`
}

func (c *call) info() CallInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	ci := CallInfo{
		ID: c.id, CallID: callID(c.invite), Direction: c.rt.direction, State: c.state,
		Caller: c.rt.caller, CallerName: c.rt.callerName, Called: c.rt.called,
		Started: c.started, Answered: c.answered, AnsweredBy: c.answeredBy,
	}
	if c.rt.tenant != nil {
		ci.Tenant = c.rt.tenant.ID
	}
	if c.rt.trunk != nil {
		ci.Trunk = c.rt.trunk.Name
	}
	return ci
}

// reasonPhrase is the RFC 3261 reason phrase of the codes we originate.
func reasonPhrase(code int) string {
	switch code {
	case sip.StatusNotAcceptableHere:
		return "Not Acceptable Here"
	case sip.StatusServiceUnavailable:
		return "Service Unavailable"
	case sip.StatusTemporarilyUnavailable:
		return "Temporarily Unavailable"
	default:
		return "Server Internal Error"
	}
}
