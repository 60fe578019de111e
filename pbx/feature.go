package pbx

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/centralino/centralino/config"
	"github.com/centralino/centralino/media"
	"github.com/centralino/centralino/pbx/store"
)

// featureState returns the status a dialled feature code sets, or "".
func featureState(f config.Features, dialled string) string {
	switch dialled {
	case "":
		return ""
	case f.Available:
		return config.StatusAvailable
	case f.Meeting:
		return config.StatusMeeting
	case f.Away:
		return config.StatusAway
	case f.DND:
		return config.StatusDND
	}
	return ""
}

// runFeature sets the status of the people whose phone dialled a feature
// code, then answers and plays a short confirmation ("stato aggiornato")
// before hanging up.
func (c *call) runFeature() (string, int) {
	ext, tenant := c.rt.fromExt, c.rt.tenant
	var people []string
	if tenant != nil {
		for _, p := range tenant.People {
			if slices.Contains(p.Extensions, ext.Number) {
				people = append(people, p.ID)
			}
		}
	}
	if len(people) == 0 {
		c.log.Info("feature code from an extension no person owns", "extension", ext.Number, "code", c.rt.called)
		c.reject(sip.StatusNotFound, "No Person For This Extension")
		return dispRejected, sip.StatusNotFound
	}
	now := c.srv.now()
	for _, p := range people {
		st := store.Status{Tenant: tenant.ID, Person: p, State: c.rt.feature, Since: now, By: "phone"}
		if err := c.srv.statuses.set(st); err != nil {
			c.log.Error("set status", "person", p, "error", err)
			c.reject(sip.StatusInternalServerError, "Server Internal Error")
			return dispFailed, sip.StatusInternalServerError
		}
		c.log.Info("status set from the phone", "tenant", tenant.ID, "person", p, "state", c.rt.feature)
		c.addStep(store.CDRStep{Action: "status", Target: p, Result: c.rt.feature})
	}
	if err := c.answerAlone(); err != nil {
		c.log.Info("feature confirmation not played", "error", err)
		return dispAnswered, sip.StatusOK
	}
	// "Stato aggiornato." The status took effect whatever happens here.
	ctx, cancel := context.WithTimeout(c.ctx, 5*time.Second)
	defer cancel()
	pb := c.srv.sched.Play(c.legA.media, media.DefaultPrompt(c.lang(), "status-set"), false)
	select {
	case <-pb.Done():
	case <-ctx.Done():
		pb.Stop()
	}
	c.end(bySystem, "feature code done")
	c.hangup()
	return dispAnswered, sip.StatusOK
}

// answerAlone answers the caller with a leg of our own (no callee): for
// feature codes, greetings, menus and voicemail.
func (c *call) answerAlone() error {
	if c.aOffer == nil {
		c.reject(sip.StatusNotAcceptableHere, "Offer Required")
		return fmt.Errorf("no SDP offer to answer")
	}
	if err := c.ensureMedia(); err != nil {
		c.reject(sip.StatusServiceUnavailable, "Media Ports Exhausted")
		return err
	}
	codec, err := media.Negotiate(c.aOffer, supportedCodecs)
	if err != nil {
		c.reject(sip.StatusNotAcceptableHere, "Not Acceptable Here")
		return err
	}
	c.legA.media.SetRemote(remoteOf(c.aOffer, codec))
	p := c.legA.nextSDP(func(p *media.SDPParams) {
		p.Codecs, p.EventPT, p.Direction = []media.Codec{codec}, c.aOffer.EventPT, c.aOffer.Direction.Answer()
	})
	c.mu.Lock()
	c.answered = c.srv.now()
	c.mu.Unlock()
	if err := c.a.RespondSDP(media.AnswerSDP(c.aOffer, p)); err != nil {
		return fmt.Errorf("200 to caller: %w", err)
	}
	return nil
}
