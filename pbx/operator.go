package pbx

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/centralino/centralino/config"
	"github.com/centralino/centralino/media"
	"github.com/centralino/centralino/pbx/store"
)

// Bounds on the operator's browser: answering an offer must produce a
// connected WebRTC leg quickly, or the caller goes back to the queue.
const (
	rtcAnswerTimeout  = 5 * time.Second
	rtcConnectTimeout = 10 * time.Second
)

// Results of the operator step, in CDRs.
const resMaxWait = "max-wait"

// stepOperator queues the caller for an operator who serves the tenant,
// with music on hold, until one answers or max_wait passes. settled
// reports that the call is over (or handed to someone); otherwise the plan
// goes on with its next action.
func (c *call) stepOperator(op *config.OperatorAction) (disp string, code int, settled bool) {
	t := c.rt.tenant
	if t == nil || c.srv.rtc == nil || !c.srv.desk.hasOperators(t.ID) {
		// Nobody has the console open: waiting would only delay the caller.
		c.addStep(store.CDRStep{Action: "operator", Result: resUnavailable})
		return "", 0, false
	}
	if _, err := c.ivrLeg(); err != nil {
		c.addStep(store.CDRStep{Action: "operator", Result: resFailed})
		c.log.Warn("cannot answer to queue for an operator", "error", err)
		return dispFailed, sip.StatusServiceUnavailable, true
	}
	since := c.srv.now()
	q := &queued{c: c, tenant: t.ID, since: since, take: make(chan takeRequest, 1), cmds: make(chan opCommand, 8)}
	q.pop = c.screenPop(since)
	music := c.holdMusic()
	maxWait := time.NewTimer(op.MaxWait)
	defer maxWait.Stop()
	for {
		c.setState("queued")
		hold := c.srv.sched.Play(c.legA.media, music, true)
		c.srv.desk.enqueue(q)
		// A caller who vanishes without a BYE must not wait for max_wait.
		stopWatch := c.srv.watchdog.Watch(c.cfg.RTP.Timeout, func() { c.end(byTimeout, "media timeout") }, c.legA.media)
		tr, reason := c.waitOperator(q, maxWait.C)
		stopWatch()
		hold.Stop()
		switch reason {
		case goneCallerHangup:
			c.addStep(store.CDRStep{Action: "operator", Result: resCancelled})
			return dispAnswered, sip.StatusOK, true
		case goneMaxWait:
			c.addStep(store.CDRStep{Action: "operator", Result: resMaxWait})
			return "", 0, false
		}
		rtc, ok := c.connectOperator(q, tr)
		if !ok {
			if c.ctx.Err() != nil {
				c.addStep(store.CDRStep{Action: "operator", Target: tr.op, Result: resCancelled})
				return dispAnswered, sip.StatusOK, true
			}
			continue // back in the queue, in its place
		}
		c.addStep(store.CDRStep{Action: "operator", Target: tr.op, Result: resAnswered})
		disp, code, settled, requeue := c.operatorCall(q, rtc)
		if requeue {
			// The caller was being served: they get a full max_wait again.
			c.log.Info("operator's browser went away; the caller waits again")
			maxWait.Reset(op.MaxWait)
			continue
		}
		return disp, code, settled
	}
}

// waitOperator waits in the queue for an operator's answer, the caller's
// hang-up or max_wait.
func (c *call) waitOperator(q *queued, maxWait <-chan time.Time) (takeRequest, string) {
	select {
	case tr := <-q.take:
		return tr, ""
	case <-c.ctx.Done():
		if c.srv.desk.remove(q, goneCallerHangup) {
			return takeRequest{}, goneCallerHangup
		}
	case <-maxWait:
		if c.srv.desk.remove(q, goneMaxWait) {
			return takeRequest{}, goneMaxWait
		}
	}
	// An operator took the call at the same moment: the request is queued.
	return <-q.take, ""
}

// connectOperator answers the operator's offer with a WebRTC leg and waits
// for it to connect. On failure the operator is freed and the call queued
// again.
func (c *call) connectOperator(q *queued, tr takeRequest) (*media.WebRTCLeg, bool) {
	fail := func(err error) (*media.WebRTCLeg, bool) {
		c.log.Info("operator could not connect", "operator", tr.op, "error", err)
		c.srv.desk.release(q, false)
		return nil, false
	}
	if c.ctx.Err() != nil {
		tr.reply <- takeReply{err: errors.New("the caller hung up")}
		return fail(c.ctx.Err())
	}
	ctx, cancel := context.WithTimeout(c.ctx, rtcAnswerTimeout)
	rtc, answer, err := c.srv.rtc.Answer(ctx, tr.sdp, c.legA.media.Remote().Codec.Name, c.log.With("operator", tr.op))
	cancel()
	if err != nil {
		tr.reply <- takeReply{err: fmt.Errorf("cannot answer your browser's offer: %w", err)}
		return fail(err)
	}
	tr.reply <- takeReply{sdp: answer}
	select {
	case <-rtc.Connected():
		return rtc, true
	case <-rtc.Done():
		err = errors.New("browser connection failed")
	case <-c.ctx.Done():
		err = errors.New("the caller hung up")
	case <-time.After(rtcConnectTimeout):
		err = errors.New("browser did not connect in time")
	}
	c.closeRTC(rtc)
	c.srv.desk.notify(q, msgCall{Type: "call", Call: c.id, State: "ended", Reason: err.Error()})
	return fail(err)
}

func (c *call) closeRTC(rtc *media.WebRTCLeg) {
	if err := rtc.Close(); err != nil {
		c.log.Debug("closing the operator's leg", "error", err)
	}
}

// operatorCall is the conversation between the caller and the operator,
// driven by the operator's commands. requeue reports that the operator's
// browser went away and the caller must wait again.
func (c *call) operatorCall(q *queued, rtc *media.WebRTCLeg) (disp string, code int, settled, requeue bool) {
	c.closeIVR()
	now := c.srv.now()
	c.mu.Lock()
	c.operator, c.answeredBy = q.handler, q.handler
	if c.answered.IsZero() || c.queueWait == 0 {
		c.answered = now
		c.queueWait = now.Sub(q.since) // the first wait: what the caller felt
	}
	c.talkStart = now
	c.mu.Unlock()
	c.setState("operator")
	c.srv.metrics.queueWait.Observe(now.Sub(q.since).Seconds())
	c.log.Info("operator answered", "operator", q.handler, "queue_wait", now.Sub(q.since).Round(time.Millisecond))
	stopWatch := c.srv.watchdog.Watch(c.cfg.RTP.Timeout, func() { c.end(byTimeout, "media timeout") }, c.legA.media)
	defer stopWatch()

	unbridge := media.BridgeWebRTC(c.legA.media, rtc)
	var hold *media.Playback
	stopHold := func() {
		if hold != nil {
			hold.Stop()
			hold = nil
		}
	}
	q.talking = now
	state := func(st, reason string) {
		c.srv.desk.notify(q, msgCall{Type: "call", Call: c.id, State: st, Reason: reason, Pop: &q.pop, Since: q.talking})
	}
	// stopTalk adds this conversation to the call's talk time.
	stopTalk := func() {
		c.mu.Lock()
		if !c.talkStart.IsZero() {
			c.talk += c.srv.now().Sub(c.talkStart)
			c.talkStart = time.Time{}
		}
		c.mu.Unlock()
	}
	// done ends the operator's part: the page learns why, the operator
	// starts wrap-up, and the talk time stops.
	done := func(reason string) {
		unbridge()
		stopHold()
		c.closeRTC(rtc)
		stopTalk()
		state("ended", reason)
		c.srv.desk.release(q, true)
	}
	// operatorHangsUp ends the call from the operator's side.
	operatorHangsUp := func() {
		c.end(byCallee, "operator hung up")
		done("operator-hangup")
		c.hangup()
	}
	// lost is the operator's browser gone: the page (if it still listens)
	// learns the call left it, and the caller waits again.
	lost := func() {
		unbridge()
		stopHold()
		c.closeRTC(rtc)
		stopTalk()
		state("ended", "browser-gone")
		c.srv.desk.release(q, false)
	}
	state("talking", "")
	for {
		select {
		case <-c.ctx.Done():
			done("caller-hangup")
			return dispAnswered, sip.StatusOK, true, false
		case <-rtc.Done():
			lost()
			return "", 0, false, true
		case cmd := <-q.cmds:
			if cmd.op != q.handler {
				continue // from an operator this call left behind
			}
			switch cmd.kind {
			case "browser-gone":
				lost()
				return "", 0, false, true
			case "hangup":
				operatorHangsUp()
				return dispAnswered, sip.StatusOK, true, false
			case "hold":
				if cmd.on && hold == nil {
					unbridge()
					hold = c.srv.sched.Play(c.legA.media, c.holdMusic(), true)
					state("held", "")
				} else if !cmd.on && hold != nil {
					stopHold()
					unbridge = media.BridgeWebRTC(c.legA.media, rtc)
					state("talking", "")
				}
			case "transfer":
				person, targets, e := c.transferTargets(cmd.person)
				if e != "" {
					c.srv.desk.notify(q, msgError{Type: "error", Error: e, Ref: "transfer", Call: c.id})
					continue
				}
				if cmd.mode == "blind" {
					c.mu.Lock()
					c.transferTo = person.ID
					c.mu.Unlock()
					done("transferred")
					disp, code, settled := c.dial(person.ID, "transfer", targets, c.ringTimeout())
					return disp, code, settled, false
				}
				unbridge()
				stopHold()
				hold = c.srv.sched.Play(c.legA.media, c.holdMusic(), true)
				out, sess := c.consult(q, rtc, person, targets)
				switch out {
				case consultCompleted, consultBrowserGone:
					// Completed, or the operator left while talking to the
					// person, which completes it too: that is what they were
					// about to do.
					stopHold()
					c.completeTransfer(sess, person)
					unbridge = func() {}
					done("transferred")
					return dispAnswered, sip.StatusOK, true, false
				case consultLost:
					unbridge = func() {}
					lost()
					return "", 0, false, true
				case consultCallerGone:
					done("caller-hangup")
					return dispAnswered, sip.StatusOK, true, false
				case consultOperatorHangup:
					operatorHangsUp()
					return dispAnswered, sip.StatusOK, true, false
				}
				// Taken back: the operator talks to the caller again.
				stopHold()
				unbridge = media.BridgeWebRTC(c.legA.media, rtc)
				state("talking", string(out))
			case "transfer_complete", "transfer_cancel":
				c.srv.desk.notify(q, msgError{Type: "error", Error: "no transfer in progress", Ref: cmd.kind, Call: c.id})
			}
		}
	}
}

// consultOutcome is how a warm transfer's consultation ended.
type consultOutcome string

const (
	consultCompleted      consultOutcome = "completed"
	consultBrowserGone    consultOutcome = "browser-gone" // while talking to the person
	consultLost           consultOutcome = "lost"         // the browser went while the person's phone rang
	consultCallerGone     consultOutcome = "caller-hangup"
	consultOperatorHangup consultOutcome = "operator-hangup"
	consultTakenBack      consultOutcome = "taken-back"
	consultDeclined       consultOutcome = "declined"
	consultNoAnswer       consultOutcome = "no-answer"
)

// consult rings the person while the caller holds and, when they answer,
// connects them to the operator. It ends when the operator completes the
// transfer (sess is then the person's dialog, for the caller's leg B),
// takes the caller back, or someone hangs up.
func (c *call) consult(q *queued, rtc *media.WebRTCLeg, person config.Person, targets []dialTarget) (consultOutcome, *sipgo.DialogClientSession) {
	state := func(st, reason string) {
		c.srv.desk.notify(q, msgCall{Type: "call", Call: c.id, State: st, Reason: reason, Person: person.ID, Pop: &q.pop, Since: q.talking})
	}
	state("consult-ringing", "")
	stop := make(chan struct{})
	c.forkStop = stop
	defer func() { c.forkStop = nil }()
	result := make(chan forkOutcome, 1)
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		result <- c.fork(targets, c.ringTimeout())
	}()
	// Ringing: wait for the fork, acting on what happens meanwhile. Each
	// event stops the fork once; its channel is then ignored.
	var pending consultOutcome
	var out forkOutcome
	callerGone, browserGone := c.ctx.Done(), rtc.Done()
	giveUp := func(why consultOutcome) {
		if pending == "" {
			pending = why
			close(stop)
		}
	}
ringing:
	for {
		select {
		case out = <-result:
			break ringing
		case <-callerGone:
			callerGone = nil
			giveUp(consultCallerGone)
		case <-browserGone:
			browserGone = nil
			giveUp(consultLost)
		case cmd := <-q.cmds:
			if cmd.op != q.handler {
				continue // from an operator this call left behind
			}
			switch cmd.kind {
			case "transfer_cancel":
				giveUp(consultTakenBack)
			case "hangup":
				giveUp(consultOperatorHangup)
			case "browser-gone":
				giveUp(consultLost)
			default:
				c.srv.desk.notify(q, msgError{Type: "error", Error: "the person's phone is ringing; wait or take the caller back", Ref: cmd.kind, Call: c.id})
			}
		}
	}
	if out.winner == nil {
		if pending != "" {
			return pending, nil
		}
		if out.disposition == dispBusy {
			return consultDeclined, nil
		}
		return consultNoAnswer, nil
	}
	sess := out.winner.sess
	if pending != "" || c.startConsult(sess) != nil {
		c.byeConsult(sess)
		return cmpOutcome(pending, consultDeclined), nil
	}
	unbridge := media.BridgeWebRTC(c.legB.media, rtc)
	state("consult-talking", "")
	for {
		select {
		case <-c.consultGone:
			unbridge()
			c.endConsult(sess, false)
			return consultDeclined, nil
		case <-c.ctx.Done():
			unbridge()
			c.endConsult(sess, true)
			return consultCallerGone, nil
		case <-rtc.Done():
			unbridge()
			return consultBrowserGone, sess
		case cmd := <-q.cmds:
			if cmd.op != q.handler {
				continue // from an operator this call left behind
			}
			switch cmd.kind {
			case "transfer_complete":
				unbridge()
				return consultCompleted, sess
			case "transfer_cancel":
				unbridge()
				c.endConsult(sess, true)
				return consultTakenBack, nil
			case "hangup":
				unbridge()
				c.endConsult(sess, true)
				return consultOperatorHangup, nil
			case "browser-gone":
				unbridge()
				return consultBrowserGone, sess
			default:
				c.srv.desk.notify(q, msgError{Type: "error", Error: "finish the transfer first", Ref: cmd.kind, Call: c.id})
			}
		}
	}
}

func cmpOutcome(a, b consultOutcome) consultOutcome {
	if a != "" {
		return a
	}
	return b
}

// startConsult takes the person's answer as the consultation leg.
func (c *call) startConsult(sess *sipgo.DialogClientSession) error {
	desc, err := media.ParseSDP(sess.InviteResponse.Body())
	if err != nil {
		return err
	}
	codec, err := media.Negotiate(desc, supportedCodecs)
	if err != nil {
		return err
	}
	c.legB.media.SetRemote(remoteOf(desc, codec))
	// A new dialog on leg B: its CSeq numbers start afresh.
	c.legB.mu.Lock()
	c.legB.remoteCSeq = 0
	c.legB.mu.Unlock()
	c.mu.Lock()
	c.consultB = sess
	c.consultGone = make(chan struct{}, 1)
	c.mu.Unlock()
	c.srv.calls.bindDialog(sess.ID, c, sideConsult)
	return nil
}

// consultBye is the person's BYE during a consultation.
func (c *call) consultBye(req *sip.Request, tx sip.ServerTransaction) {
	c.mu.Lock()
	sess, gone := c.consultB, c.consultGone
	c.mu.Unlock()
	if sess == nil || sess.ReadBye(req, tx) != nil {
		respond(tx, req, sip.StatusOK, "OK", nil)
	}
	if gone != nil {
		select {
		case gone <- struct{}{}:
		default:
		}
	}
}

// endConsult forgets the consultation leg, hanging it up when bye is set.
func (c *call) endConsult(sess *sipgo.DialogClientSession, bye bool) {
	c.srv.calls.unbindDialog(sess.ID)
	c.mu.Lock()
	c.consultB = nil
	c.mu.Unlock()
	if bye {
		c.byeConsult(sess)
	} else {
		sess.Close()
	}
}

func (c *call) byeConsult(sess *sipgo.DialogClientSession) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sess.Bye(ctx); err != nil {
		c.log.Debug("consultation bye", "error", err)
	}
	sess.Close()
}

// completeTransfer makes the consultation leg the call's leg B and bridges
// the caller to it; the call then runs like any answered call.
func (c *call) completeTransfer(sess *sipgo.DialogClientSession, person config.Person) {
	c.mu.Lock()
	c.b = sess
	c.transferTo = person.ID
	c.mu.Unlock()
	// Rebinding replaces the consultation entry: no moment without one,
	// when the person's BYE would get a 481.
	c.srv.calls.bindDialog(sess.ID, c, sideB)
	c.mu.Lock()
	c.consultB = nil
	gone := c.consultGone
	c.mu.Unlock()
	c.bridge()
	select {
	case <-gone:
		// The person hung up as the operator connected them.
		c.end(byCallee, "transfer target hung up")
	default:
	}
}

// transferTargets finds a person of the call's tenant and what to ring
// for them: their registered extensions and their mobile.
func (c *call) transferTargets(id string) (config.Person, []dialTarget, string) {
	for _, p := range c.rt.tenant.People {
		if p.ID != id {
			continue
		}
		var targets []dialTarget
		for _, e := range p.Extensions {
			targets = append(targets, c.srv.phoneTargets(e, c.callerSource())...)
		}
		if p.Mobile != "" {
			if t, ok := c.forwardTarget(p.Mobile, ""); ok {
				targets = append(targets, t)
			}
		}
		if len(targets) == 0 {
			return p, nil, fmt.Sprintf("%s has no phone to ring right now", p.Name)
		}
		return p, targets, ""
	}
	return config.Person{}, nil, fmt.Sprintf("no person %q in this office", id)
}

// holdMusic is the tenant's hold sound, or the built-in music.
func (c *call) holdMusic() *media.Prompt {
	if t := c.rt.tenant; t != nil {
		if p, err := c.sound(t.Console.Hold); err == nil && p != nil {
			return p
		} else if err != nil {
			c.log.Warn("hold music", "error", err)
		}
	}
	return c.srv.holdMusic
}

// builtinHoldMusic is a calm loop of soft chords (10 s), so that a caller
// on hold knows the line is alive without being tired by it.
func builtinHoldMusic() *media.Prompt {
	const rate = 8000
	chords := [][]float64{
		{261.63, 329.63, 392.00}, // C
		{220.00, 261.63, 329.63}, // Am
		{174.61, 220.00, 261.63}, // F
		{196.00, 246.94, 293.66}, // G
	}
	per := rate * 5 / 2 // 2.5 s per chord
	samples := make([]int16, per*len(chords))
	for ci, ch := range chords {
		for i := range per {
			// A slow attack and release on each chord, no clicks at the joins.
			env := math.Min(1, math.Min(float64(i)/800, float64(per-i)/1600))
			v := 0.0
			for _, f := range ch {
				v += math.Sin(2 * math.Pi * f * float64(ci*per+i) / rate)
			}
			samples[ci*per+i] = int16(2200 * env * v)
		}
	}
	return media.PromptFromPCM(samples)
}
