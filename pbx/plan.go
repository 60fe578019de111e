package pbx

import (
	"net/netip"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/centralino/centralino/config"
	"github.com/centralino/centralino/dialplan"
	"github.com/centralino/centralino/pbx/number"
	"github.com/centralino/centralino/pbx/store"
)

// Step results, as recorded in CDRs.
const (
	resAnswered    = "answered"
	resNoAnswer    = "no-answer"
	resBusy        = "busy"
	resFailed      = "failed"
	resUnavailable = "unavailable" // nothing to ring, or the action needs work not built yet
	resCancelled   = "cancelled"
	resDone        = "done"
)

// runSteps runs a plan's steps in order; each runs when the previous one
// did not connect the call. The caller's CANCEL stops everything.
func (c *call) runSteps(steps []dialplan.Step) (string, int) {
	lastDisp := dispNoAnswer
	rang := false
	for _, st := range steps {
		switch st.Kind {
		case "ring":
			groups := c.ringGroups(st.Ring)
			if len(groups) == 0 {
				c.addStep(store.CDRStep{Action: "ring", Target: ringLabel(st.Ring), Result: resUnavailable})
				continue
			}
			timeout := c.ringTimeout()
			if st.Ring != nil && st.Ring.Timeout > 0 {
				timeout = st.Ring.Timeout
			}
			for _, g := range groups {
				rang = true
				disp, code, done := c.dial(g.label, "ring", g.targets, timeout)
				if done {
					return disp, code
				}
				lastDisp = disp
			}
		case "forward":
			t, ok := c.forwardTarget(st.Forward.Number, st.Forward.Trunk)
			if !ok {
				c.addStep(store.CDRStep{Action: "forward", Target: st.Forward.Number, Result: resUnavailable})
				continue
			}
			rang = true
			disp, code, done := c.dial(st.Forward.Number, "forward", []dialTarget{t}, st.Forward.Timeout)
			if done {
				return disp, code
			}
			lastDisp = disp
		case "hangup":
			code := st.Hangup.Code
			if code == 0 {
				code = sip.StatusTemporarilyUnavailable
			}
			if code == sip.StatusTemporarilyUnavailable && lastDisp == dispBusy && c.rt.decision != nil && c.rt.decision.Rule == dialplan.RuleDefault {
				// The built-in plan tells the caller what the phones said.
				code = sip.StatusBusyHere
			}
			c.addStep(store.CDRStep{Action: "hangup", Result: resDone})
			if c.aAnswered {
				c.end(bySystem, "plan hangup")
				c.hangup()
				return dispAnswered, sip.StatusOK
			}
			c.reject(code, reasonPhrase(code))
			if !rang && code != sip.StatusTemporarilyUnavailable {
				return dispRejected, code
			}
			return lastDisp, code
		case "play":
			if !c.stepPlay(st.Play) {
				return dispAnswered, sip.StatusOK
			}
		case "menu":
			if disp, code, settled := c.stepMenu(st.Menu); settled {
				return disp, code
			}
		case "voicemail":
			return c.stepVoicemail(st.Voicemail)
		case "operator":
			if disp, code, settled := c.stepOperator(st.Operator); settled {
				return disp, code
			}
		default:
			c.addStep(store.CDRStep{Action: st.Kind, Result: resUnavailable})
			c.log.Warn("unknown plan action; moving on", "action", st.Kind)
		}
		if c.ctx.Err() != nil {
			return dispAnswered, sip.StatusOK // the caller hung up during a step
		}
	}
	if c.aAnswered {
		c.end(bySystem, "plan finished")
		c.hangup()
		return dispAnswered, sip.StatusOK
	}
	// The plan ran out without an answer: the caller learns why the last
	// phone did not answer (busy, or just no answer).
	code, reason := sip.StatusTemporarilyUnavailable, "Temporarily Unavailable"
	if lastDisp == dispBusy {
		code, reason = sip.StatusBusyHere, "Busy Here"
	}
	c.reject(code, reason)
	return lastDisp, code
}

// dial rings targets once and, when someone answers, connects the call.
// done reports that the call is settled (answered, cancelled, or failed
// for good); otherwise disp says how this attempt ended.
func (c *call) dial(label, action string, targets []dialTarget, timeout time.Duration) (disp string, code int, done bool) {
	if err := c.ensureMedia(); err != nil {
		c.log.Error("no RTP port", "error", err)
		c.reject(sip.StatusServiceUnavailable, "Media Ports Exhausted")
		return dispFailed, sip.StatusServiceUnavailable, true
	}
	c.setState("ringing")
	if c.aAnswered {
		// The caller is already connected to us: let them hear it ring
		// (Italian ringback, 425 Hz, 1 s on, 4 s off) while we try.
		pb := c.srv.sched.Play(c.legA.media, c.srv.ringback, true)
		defer pb.Stop()
	}
	out := c.fork(targets, timeout)
	switch {
	case out.winner != nil:
		c.addStep(store.CDRStep{Action: action, Target: out.winner.target.label, Result: resAnswered})
		disp, code := c.connect(out.winner)
		return disp, code, true
	case out.cancelled:
		c.addStep(store.CDRStep{Action: action, Target: label, Result: resCancelled})
		if c.aAnswered {
			return dispAnswered, sip.StatusOK, true // the caller hung up while it rang
		}
		// The transaction layer already answered the CANCEL and sent 487.
		return dispCancelled, sip.StatusRequestTerminated, true
	}
	res := resNoAnswer
	switch out.disposition {
	case dispBusy:
		res = resBusy
	case dispFailed:
		res = resFailed
	}
	c.addStep(store.CDRStep{Action: action, Target: label, Result: res})
	if c.rt.decision == nil && !c.aAnswered {
		// A plain call between extensions has no fallback: the caller gets
		// the callee's answer.
		c.reject(out.code, out.reason)
		return out.disposition, out.code, true
	}
	return out.disposition, out.code, false
}

func (c *call) addStep(st store.CDRStep) {
	c.mu.Lock()
	c.steps = append(c.steps, st)
	c.mu.Unlock()
}

// ringGroup is a set of branches rung together.
type ringGroup struct {
	label   string
	targets []dialTarget
}

// ringGroups turns a ring step into what to dial: one group for parallel
// ringing, one group per target for sequential. Extensions with no
// registered phone and mobiles with no trunk are left out.
func (c *call) ringGroups(r *dialplan.RingStep) []ringGroup {
	if r == nil {
		// A plain call: the targets routing found.
		if len(c.rt.targets) == 0 {
			return nil
		}
		return []ringGroup{{label: c.rt.called, targets: c.rt.targets}}
	}
	var groups []ringGroup
	var all []dialTarget
	var labels []string
	targets := r.Targets
	if len(targets) == 0 && c.rt.tenant != nil {
		// No explicit targets: the tenant's extensions (the default plan).
		for _, e := range c.rt.tenant.Extensions {
			targets = append(targets, dialplan.Target{Kind: "extension", Value: e})
		}
	}
	for _, t := range targets {
		var ts []dialTarget
		switch t.Kind {
		case "extension":
			ts = c.srv.phoneTargets(t.Value, c.callerSource())
		case "mobile":
			if mt, ok := c.forwardTarget(t.Value, ""); ok {
				ts = []dialTarget{mt}
			}
		}
		if len(ts) == 0 {
			continue
		}
		if r.Strategy == config.RingSequential {
			groups = append(groups, ringGroup{label: t.Value, targets: ts})
			continue
		}
		all = append(all, ts...)
		labels = append(labels, t.Value)
	}
	if len(all) > 0 {
		groups = append(groups, ringGroup{label: strings.Join(labels, ","), targets: all})
	}
	return groups
}

func ringLabel(r *dialplan.RingStep) string {
	if r == nil {
		return ""
	}
	var parts []string
	for _, t := range r.Targets {
		parts = append(parts, t.Value)
	}
	return strings.Join(parts, ",")
}

// callerSource is the caller's address when it is one of our phones, so
// that its own contacts are not rung.
func (c *call) callerSource() netip.AddrPort {
	return c.rt.source
}

// forwardTarget builds a branch to an outside number through a trunk: the
// named one, else the tenant's outbound trunk.
func (c *call) forwardTarget(e164, trunkName string) (dialTarget, bool) {
	var t *config.Trunk
	if trunkName != "" {
		t = c.cfg.Trunk(trunkName)
	} else {
		t = c.cfg.OutboundTrunk(c.rt.tenant)
	}
	if t == nil || t.Host == "" {
		c.log.Warn("no trunk to reach an outside number", "number", e164, "trunk", trunkName)
		return dialTarget{}, false
	}
	host, port := splitHostPort(t.Host)
	ruri := sip.Uri{Scheme: "sip", User: number.Format(e164, t.DialFormat), Host: host, Port: port}
	return dialTarget{label: e164, ruri: ruri, transport: strings.ToUpper(t.Transport), trunk: t}, true
}
