package pbx

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/centralino/centralino/media"
	"github.com/centralino/centralino/pbx/number"
)

// branch is one outgoing INVITE of a fork.
type branch struct {
	target dialTarget
	sess   *sipgo.DialogClientSession // set before the branch's first event
	cancel context.CancelCauseFunc
	// heard is set once the callee sent any response: only then is there a
	// transaction to CANCEL (RFC 3261 §9.1).
	heard    atomic.Bool
	stopping atomic.Bool
	abandon  atomic.Pointer[time.Timer]
}

// abandonAfter is how long a branch being stopped waits for a first
// response before it is given up without a CANCEL. A phone that rings
// sends its 100 or 180 within milliseconds, but the fork may be decided
// in between (another phone answered at once) and a 180 already on its way
// must still be answered with a CANCEL, or that phone rings on; UDP
// retransmissions of a lost INVITE leave at 0.5, 1.5 and 3.5 s. Waiting
// the whole 32 s of Timer B only keeps a dead phone's branch alive longer.
const abandonAfter = 4 * time.Second

// stop cancels a branch: with a CANCEL once the callee has answered
// anything, and a callee that has said nothing yet is given abandonAfter
// to do so.
func (br *branch) stop() {
	// stopping before heard, and heard before stopping in onResponse: one
	// of the two sides sees the other and sends the CANCEL.
	br.stopping.Store(true)
	if br.heard.Load() {
		br.cancel(nil)
		return
	}
	br.abandon.Store(time.AfterFunc(abandonAfter, func() { br.cancel(sipgo.WaitAnswerForceCancelErr) }))
}

// onResponse records that the callee has a transaction to CANCEL, and
// cancels it if the branch was stopped before it was heard from.
func (br *branch) onResponse() {
	br.heard.Store(true)
	if br.stopping.Load() {
		br.cancel(nil) // the first cause wins: no-op if already abandoned
	}
}

// finished releases the branch's abandon timer, if any.
func (br *branch) finished() {
	if t := br.abandon.Load(); t != nil {
		t.Stop()
	}
	br.cancel(nil)
}

// branchEvent is a provisional response (done=false) or the end of a
// branch's INVITE transaction (done=true, err=nil when it answered).
type branchEvent struct {
	br   *branch
	res  *sip.Response
	done bool
	err  error
}

type forkOutcome struct {
	winner      *branch
	cancelled   bool // by the caller
	disposition string
	code        int
	reason      string
}

// fork rings every target in parallel (RFC 3261 §16.7-style, but as a
// B2BUA): the first 2xx wins, the others are cancelled; 180/183 are
// relayed to the caller; the caller's CANCEL and the ring timeout cancel
// all branches.
func (c *call) fork(targets []dialTarget, timeout time.Duration) forkOutcome {
	events := make(chan branchEvent, 16*len(targets)+1)
	branches := make([]*branch, 0, len(targets))
	for _, t := range targets {
		bctx, cancel := context.WithCancelCause(context.Background())
		br := &branch{target: t, cancel: cancel}
		branches = append(branches, br)
		c.bg.Add(1)
		go c.runBranch(bctx, br, events)
	}
	cancelAllBut := func(keep *branch) {
		for _, br := range branches {
			if br != keep {
				br.stop()
			}
		}
	}

	ring := time.NewTimer(timeout)
	defer ring.Stop()
	pending := len(branches)
	var (
		out      forkOutcome
		timedOut bool
		codes    []int
		last     *sip.Response
	)
	for pending > 0 && out.winner == nil && !out.cancelled && !timedOut {
		select {
		case ev := <-events:
			if !ev.done {
				c.early = c.relayProvisional(ev, c.relayed, c.early)
				continue
			}
			pending--
			if ev.err == nil {
				out.winner = ev.br
				cancelAllBut(ev.br)
				continue
			}
			var de *sipgo.ErrDialogResponse
			if errors.As(ev.err, &de) {
				codes = append(codes, de.Res.StatusCode)
				last = de.Res
			}
			c.log.Debug("branch failed", "target", ev.br.target.label, "error", ev.err)
		case <-ring.C:
			timedOut = true
			cancelAllBut(nil)
		case <-c.a.Context().Done():
			out.cancelled = true
			cancelAllBut(nil)
		case <-c.forkStop:
			out.cancelled = true
			cancelAllBut(nil)
		}
	}
	if pending > 0 {
		// Cancelled branches may still answer (a 200 crossing our CANCEL):
		// those must be ACKed and hung up. This goroutine is the call's.
		c.bg.Add(1)
		go c.drainBranches(events, pending)
	}
	if out.winner != nil || out.cancelled {
		return out
	}
	out.disposition, out.code, out.reason = dispNoAnswer, sip.StatusTemporarilyUnavailable, "Temporarily Unavailable"
	switch {
	case timedOut:
		out.reason = "No Answer"
	case len(codes) == len(branches) && allBusy(codes):
		out.disposition, out.code, out.reason = dispBusy, sip.StatusBusyHere, "Busy Here"
	case len(branches) == 1 && branches[0].target.trunk != nil && last != nil:
		// Through a trunk the provider knows best why: relay its answer,
		// except auth problems, which are ours and not the caller's.
		out.disposition, out.code, out.reason = dispFailed, last.StatusCode, last.Reason
		switch last.StatusCode {
		case sip.StatusUnauthorized, sip.StatusProxyAuthRequired:
			out.code, out.reason = sip.StatusServiceUnavailable, "Trunk Authentication Failed"
		case sip.StatusBusyHere, sip.StatusGlobalBusyEverywhere:
			out.disposition = dispBusy
		case sip.StatusTemporarilyUnavailable, sip.StatusRequestTimeout:
			out.disposition = dispNoAnswer
		}
	}
	return out
}

// outboundRingTimeout bounds a call out through a trunk: the provider ends
// unanswered calls itself (and plays its own announcements), so
// sip.ring_timeout, meant for the office's phones, does not apply.
const outboundRingTimeout = 3 * time.Minute

func (c *call) ringTimeout() time.Duration {
	if c.rt.direction == dirOutbound {
		return outboundRingTimeout
	}
	return c.cfg.SIP.RingTimeout
}

func allBusy(codes []int) bool {
	for _, c := range codes {
		switch c {
		case sip.StatusBusyHere, sip.StatusGlobalBusyEverywhere, sip.StatusGlobalDecline:
		default:
			return false
		}
	}
	return len(codes) > 0
}

// relayProvisional tells the caller the callee is ringing, once, and
// starts early media when a callee sends SDP in a 183. It returns whether
// early media is on.
func (c *call) relayProvisional(ev branchEvent, relayed map[int]bool, early bool) bool {
	if c.aAnswered {
		// We answered the caller ourselves (a greeting, the operator): they
		// hear our ringback, and a provisional response after the 200 would
		// break the dialog.
		return early
	}
	res := ev.res
	switch {
	case res.StatusCode == sip.StatusSessionInProgress && len(res.Body()) > 0 && c.aOffer != nil && !early:
		desc, err := media.ParseSDP(res.Body())
		if err != nil {
			c.log.Debug("ignoring early media SDP", "error", err)
			return early
		}
		codec, err := media.Negotiate(desc, supportedCodecs)
		if err != nil {
			return early
		}
		c.legB.media.SetRemote(remoteOf(desc, codec))
		answer := c.answerA(desc)
		aCodec, err := media.Negotiate(c.aOffer, []string{codec.Name})
		if err != nil {
			aCodec, _ = media.Negotiate(c.aOffer, supportedCodecs)
		}
		c.legA.media.SetRemote(remoteOf(c.aOffer, aCodec))
		c.bridge()
		if err := c.a.Respond(sip.StatusSessionInProgress, "Session Progress", answer, sip.NewHeader("Content-Type", "application/sdp")); err != nil {
			c.log.Debug("relay 183", "error", err)
		}
		relayed[sip.StatusSessionInProgress] = true
		return true
	case early:
		return early
	case res.StatusCode == sip.StatusSessionInProgress || res.StatusCode == sip.StatusRinging:
		if relayed[res.StatusCode] || relayed[sip.StatusRinging] {
			return early
		}
		relayed[res.StatusCode] = true
		if err := c.a.Respond(res.StatusCode, res.Reason, nil); err != nil {
			c.log.Debug("relay provisional", "code", res.StatusCode, "error", err)
		}
	}
	return early
}

// drainBranches consumes the events of branches still running after the
// fork was decided.
func (c *call) drainBranches(events <-chan branchEvent, pending int) {
	defer c.bg.Done()
	for pending > 0 {
		ev := <-events
		if !ev.done {
			continue
		}
		pending--
		if ev.err == nil {
			c.log.Info("late answer from a cancelled branch: hanging it up", "target", ev.br.target.label)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			ev.br.sess.Bye(ctx)
			cancel()
			ev.br.sess.Close()
		}
	}
}

// runBranch sends one INVITE and waits for its final response. A 2xx is
// ACKed here, at once, whatever the fork decides.
func (c *call) runBranch(ctx context.Context, br *branch, events chan<- branchEvent) {
	defer c.bg.Done()
	req := c.branchInvite(br.target)
	sess, err := c.srv.dialogUA(br.target.transport).WriteInvite(ctx, req)
	if err != nil {
		events <- branchEvent{br: br, done: true, err: err}
		return
	}
	br.sess = sess
	opts := sipgo.AnswerOptions{OnResponse: func(res *sip.Response) error {
		br.onResponse()
		if res.IsProvisional() && res.StatusCode > 100 {
			select {
			case events <- branchEvent{br: br, res: res}:
			default: // a flood of provisionals is not worth blocking for
			}
		}
		return nil
	}}
	if t := br.target.trunk; t != nil {
		opts.Username = t.AuthUsername
		if opts.Username == "" {
			opts.Username = t.Username
		}
		opts.Password = t.Password
	}
	err = sess.WaitAnswer(ctx, opts)
	br.finished()
	if err != nil && sess.InviteResponse != nil && sess.InviteResponse.IsSuccess() {
		// The callee answered while our CANCEL was on its way: sipgo
		// reports the cancellation, but the 200 must still be ACKed (and
		// the call hung up by whoever drains the branch).
		err = nil
	}
	if err == nil {
		if aerr := sess.Ack(context.Background()); aerr != nil {
			c.log.Warn("ACK failed", "target", br.target.label, "error", aerr)
		}
	}
	events <- branchEvent{br: br, done: true, err: err}
}

// branchInvite builds the INVITE of one branch: our SDP offer (the
// caller's codecs, so that no transcoding is needed), the caller's
// identity, and a trunk's caller-ID and header rules.
func (c *call) branchInvite(t dialTarget) *sip.Request {
	s := c.srv
	req := sip.NewRequest(sip.INVITE, *t.ruri.Clone())
	req.SetTransport(t.transport)
	if t.dest != "" {
		req.SetDestination(t.dest)
	}

	fromUser, display := c.rt.caller, c.rt.callerName
	fromHost := s.publicHost
	toURI := sip.Uri{Scheme: "sip", User: t.ruri.User, Host: s.publicHost}
	var identity sip.Header
	if tr := t.trunk; tr != nil {
		domain := tr.Domain
		if domain == "" {
			domain, _ = splitHostPort(tr.Host)
		}
		fromHost = domain
		toURI.Host = domain
		presented := c.presentedNumber()
		switch tr.CallerID.Header {
		case "pai", "ppi":
			name := "P-Asserted-Identity"
			if tr.CallerID.Header == "ppi" {
				name = "P-Preferred-Identity"
			}
			identity = sip.NewHeader(name, "<sip:"+presented+"@"+domain+">")
			fromUser = tr.CallerID.FromUser
			if fromUser == "" {
				fromUser = tr.Username
			}
		default:
			fromUser = number.Format(presented, tr.DialFormat)
		}
		if fromUser == "" {
			fromUser = "anonymous"
		}
	}
	fromParams := sip.NewParams()
	fromParams.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(&sip.FromHeader{DisplayName: display, Address: sip.Uri{Scheme: "sip", User: fromUser, Host: fromHost}, Params: fromParams})
	req.AppendHeader(&sip.ToHeader{Address: toURI, Params: sip.NewParams()})
	if identity != nil {
		req.AppendHeader(identity)
	}
	mf := sip.MaxForwardsHeader(70)
	if in := c.invite.MaxForwards(); in != nil && *in > 0 {
		mf = sip.MaxForwardsHeader(*in - 1)
	}
	req.AppendHeader(&mf)
	req.AppendHeader(sip.NewHeader("Allow", s.allowed()))
	req.AppendHeader(sip.NewHeader("User-Agent", c.cfg.SIP.UserAgent))
	if t.trunk != nil && c.rt.direction == dirInbound {
		for _, name := range t.trunk.CopyHeaders {
			for _, h := range c.invite.GetHeaders(name) {
				req.AppendHeader(sip.NewHeader(h.Name(), h.Value()))
			}
		}
	}

	p := c.legB.nextSDP(func(p *media.SDPParams) {
		p.Codecs = nil
		if c.aOffer != nil {
			for _, cd := range c.aOffer.Codecs {
				if cd.Name == "PCMA" || cd.Name == "PCMU" {
					p.Codecs = append(p.Codecs, cd)
				}
			}
			p.EventPT = c.aOffer.EventPT
		} else {
			p.Codecs = []media.Codec{{Name: "PCMA", PayloadType: 8, ClockRate: 8000}, {Name: "PCMU", PayloadType: 0, ClockRate: 8000}}
			p.EventPT = 101
		}
		p.Direction = media.SendRecv
	})
	req.SetBody(media.OfferSDP(p))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	s.setLocalAddr(req)
	return req
}

// presentedNumber is the E.164 number shown to the called party on a call
// out through a trunk. A call from outside being forwarded (to a mobile, to
// a number) shows the original caller, so the professional sees who is
// calling; Messagenet-style providers accept that when the inbound leg's
// header is copied (copy_headers). Otherwise: the extension's own caller ID,
// else its tenant's first number.
func (c *call) presentedNumber() string {
	if c.rt.direction == dirInbound && strings.HasPrefix(c.rt.caller, "+") {
		return c.rt.caller
	}
	if e := c.rt.fromExt; e != nil && e.CallerID != "" {
		return e.CallerID
	}
	if c.rt.tenant != nil && len(c.rt.tenant.Numbers) > 0 {
		return c.rt.tenant.Numbers[0]
	}
	return ""
}
