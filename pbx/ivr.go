package pbx

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/centralino/centralino/config"
	"github.com/centralino/centralino/dialplan"
	"github.com/centralino/centralino/media"
	"github.com/centralino/centralino/pbx/store"
)

// Voicemail states.
const (
	vmRecording = "recording"
	vmComplete  = "complete"
	vmRecovered = "recovered"
)

// voicemailSilence ends a recording after this much continuous silence:
// the caller has said what they had to say and forgot to hang up.
const voicemailSilence = 8 * time.Second

// answeredBySelf is the CDR's answered_by when Centralino itself answered
// (greeting, menu, voicemail).
const answeredBySelf = "centralino"

// ivrLeg answers the caller (once) with a leg of our own and returns the
// IVR that plays to it and listens to it.
func (c *call) ivrLeg() (*media.IVR, error) {
	if c.ivr != nil {
		return c.ivr, nil
	}
	if !c.aAnswered {
		if err := c.answerAlone(); err != nil {
			return nil, err
		}
		c.aAnswered = true
		c.mu.Lock()
		c.answeredBy = answeredBySelf
		c.mu.Unlock()
		c.setState("answered")
		c.stopIVRWatch = c.srv.watchdog.Watch(c.cfg.RTP.Timeout, func() { c.end(byTimeout, "media timeout") }, c.legA.media)
	}
	ivr := media.NewIVR(c.legA.media, c.srv.sched, media.IVROptions{
		// Trunks that did not offer telephone-event send keys as tones.
		InbandDTMF: c.legA.media.Remote().EventPT == 0,
		Log:        c.log,
		Poller:     c.srv.poller,
	})
	c.mu.Lock()
	c.ivr = ivr
	c.mu.Unlock()
	return ivr, nil
}

// injectDigit hands a key received as SIP INFO to the IVR, if one listens.
// INFO arrives on sipgo's goroutines: the IVR pointer is read under the
// call's lock.
func (c *call) injectDigit(key rune) {
	c.mu.Lock()
	ivr := c.ivr
	c.mu.Unlock()
	if ivr != nil {
		ivr.InjectDigit(key)
	}
}

// closeIVR hands leg A back (to a bridge, or to nothing).
func (c *call) closeIVR() {
	c.mu.Lock()
	ivr := c.ivr
	c.ivr = nil
	c.mu.Unlock()
	if ivr != nil {
		ivr.Close()
	}
	if c.stopIVRWatch != nil {
		c.stopIVRWatch()
		c.stopIVRWatch = nil
	}
}

// sound turns a plan's sound into a prompt: a file (decoded once, cached)
// or a text spoken by espeak-ng (synthesised once, cached on disk).
func (c *call) sound(s config.Sound) (*media.Prompt, error) {
	switch {
	case s.File != "":
		return c.srv.prompts.Get(s.File)
	case s.Say != "":
		lang := "it"
		if c.rt.tenant != nil {
			lang = c.rt.tenant.Language
		}
		return c.srv.tts.prompt(c.ctx, s.Say, lang)
	}
	return nil, nil
}

func (c *call) lang() string {
	if c.rt.tenant != nil && c.rt.tenant.Language != "" {
		return c.rt.tenant.Language
	}
	return "it"
}

// stepPlay plays a greeting. It reports whether the call goes on (false:
// the caller hung up).
func (c *call) stepPlay(s *config.Sound) bool {
	ivr, err := c.ivrLeg()
	if err != nil {
		c.addStep(store.CDRStep{Action: "play", Result: resFailed})
		c.log.Warn("cannot answer to play a greeting", "error", err)
		return false
	}
	p, err := c.sound(*s)
	if err != nil || p == nil {
		c.addStep(store.CDRStep{Action: "play", Result: resUnavailable})
		c.log.Warn("greeting not available", "error", err)
		return true
	}
	if _, err := ivr.Play(c.ctx, false, p); err != nil {
		c.addStep(store.CDRStep{Action: "play", Result: resCancelled})
		return false
	}
	c.addStep(store.CDRStep{Action: "play", Result: resDone})
	return true
}

// stepMenu plays the prompt and collects a key; a known key runs its
// options (a sequence of its own, ending the plan), an unknown one gets the
// "invalid choice" prompt and a retry. After the retries the plan moves on.
// settled reports that the call is over (an option ran, or the caller hung up).
func (c *call) stepMenu(m *dialplan.MenuStep) (disp string, code int, settled bool) {
	ivr, err := c.ivrLeg()
	if err != nil {
		c.addStep(store.CDRStep{Action: "menu", Result: resFailed})
		return dispFailed, sip500, true
	}
	prompt, err := c.sound(m.Prompt)
	if err != nil || prompt == nil {
		c.addStep(store.CDRStep{Action: "menu", Result: resUnavailable})
		c.log.Warn("menu prompt not available", "error", err)
		return "", 0, false
	}
	invalid, _ := c.sound(m.Invalid)
	if invalid == nil {
		invalid = media.DefaultPrompt(c.lang(), "invalid")
	}
	for attempt := 0; attempt <= m.Retries; attempt++ {
		// A key pressed during the prompt stops it and stays buffered:
		// CollectDigits takes it at once (or waits for one).
		if _, err := ivr.Play(c.ctx, true, prompt); err != nil {
			c.addStep(store.CDRStep{Action: "menu", Result: resCancelled})
			return dispAnswered, sip200, true
		}
		choice, err := collectChoice(c.ctx, ivr, m)
		if err != nil && c.ctx.Err() != nil {
			c.addStep(store.CDRStep{Action: "menu", Result: resCancelled})
			return dispAnswered, sip200, true
		}
		if choice == "" {
			continue // no key: ask again
		}
		if steps, ok := m.Options[choice]; ok {
			c.addStep(store.CDRStep{Action: "menu", Target: choice, Result: resDone})
			c.log.Info("menu choice", "keys", choice)
			disp, code := c.runSteps(steps)
			return disp, code, true
		}
		c.log.Info("menu: invalid choice", "keys", choice)
		if attempt < m.Retries {
			if _, err := ivr.Play(c.ctx, true, invalid); err != nil {
				return dispAnswered, sip200, true
			}
		}
	}
	c.addStep(store.CDRStep{Action: "menu", Result: resNoAnswer})
	return "", 0, false
}

// digitSource is where a menu takes the caller's keys from.
type digitSource interface {
	CollectDigits(ctx context.Context, maxDigits int, firstTimeout, interDigit time.Duration, terminator rune) (string, error)
}

// collectChoice reads the caller's choice one key at a time: it waits
// m.Timeout for the first key and m.DigitTimeout for each next one, and ends
// at once when the keys so far are a choice that no longer choice starts
// with ("1" among "1", "2", "21"), when they are as long as the longest
// choice, or, where choices have several keys, on '#'. Otherwise the keys
// so far, when the caller stops, are the choice.
func collectChoice(ctx context.Context, keys digitSource, m *dialplan.MenuStep) (string, error) {
	longest := 0
	for choice := range m.Options {
		longest = max(longest, len(choice))
	}
	var terminator rune
	if longest > 1 {
		terminator = '#'
	}
	got := ""
	for len(got) < longest {
		timeout := m.DigitTimeout
		if got == "" {
			timeout = m.Timeout
		}
		k, err := keys.CollectDigits(ctx, 1, timeout, 0, terminator)
		if err != nil {
			return got, err
		}
		if k == "" {
			break // timed out, or the terminator
		}
		got += k
		if _, ok := m.Options[got]; ok && !extended(m.Options, got) {
			break
		}
	}
	return got, nil
}

// extended reports whether some choice is longer than prefix and starts with it.
func extended(options map[string][]dialplan.Step, prefix string) bool {
	for choice := range options {
		if len(choice) > len(prefix) && strings.HasPrefix(choice, prefix) {
			return true
		}
	}
	return false
}

// stepVoicemail plays the greeting and the beep, records the caller until
// '#', hang-up, the maximum length or a long silence, and files the message.
// The record is written before the recording starts, so a crash leaves a
// record pointing at the partial file, which start-up repairs.
func (c *call) stepVoicemail(v *config.VoicemailAction) (string, int) {
	ivr, err := c.ivrLeg()
	if err != nil {
		c.addStep(store.CDRStep{Action: "voicemail", Result: resFailed})
		return dispFailed, sip500
	}
	greeting, err := c.sound(v.Greeting)
	if err != nil {
		c.log.Warn("voicemail greeting not available; using the built-in one", "error", err)
	}
	if greeting == nil {
		greeting = media.DefaultPrompt(c.lang(), "leave-message")
	}
	// '#' during the greeting skips it, as callers expect.
	if _, err := ivr.Play(c.ctx, true, greeting, media.DefaultPrompt(c.lang(), "beep")); err != nil {
		c.addStep(store.CDRStep{Action: "voicemail", Result: resCancelled})
		return dispAnswered, sip200
	}
	s := c.srv
	tenant := ""
	if c.rt.tenant != nil {
		tenant = c.rt.tenant.ID
	}
	now := s.now()
	id := now.UTC().Format("20060102T150405.000") + "-" + c.id
	rel := filepath.Join("voicemail", tenant, id+".wav")
	abs := filepath.Join(c.cfg.Data, rel)
	rec := store.Voicemail{
		ID: id, Tenant: tenant, Person: c.lastPerson(), Caller: c.rt.caller, CallerName: c.rt.callerName,
		Called: c.rt.called, CallID: callID(c.invite), Start: now, File: rel, State: vmRecording,
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		c.log.Error("voicemail folder", "error", err)
		c.addStep(store.CDRStep{Action: "voicemail", Result: resFailed})
		return dispFailed, sip500
	}
	w, err := media.CreateWAV(abs)
	if err != nil {
		c.log.Error("voicemail file", "error", err)
		c.addStep(store.CDRStep{Action: "voicemail", Result: resFailed})
		return dispFailed, sip500
	}
	if err := s.store.SaveVoicemail(rec); err != nil {
		w.Close()
		c.log.Error("voicemail record", "error", err)
		c.addStep(store.CDRStep{Action: "voicemail", Result: resFailed})
		return dispFailed, sip500
	}
	res, recErr := ivr.Record(c.ctx, w, "#", v.MaxLength, voicemailSilence)
	closeErr := w.Close()
	rec.Seconds, rec.State = w.Duration().Seconds(), vmComplete
	if err := errors.Join(recErr, closeErr); err != nil && !errors.Is(err, context.Canceled) {
		c.log.Warn("voicemail recording", "error", err)
	}
	if err := s.store.SaveVoicemail(rec); err != nil {
		c.log.Error("voicemail record", "error", err)
	}
	c.log.Info("voicemail recorded", "id", id, "seconds", fmt.Sprintf("%.1f", rec.Seconds), "stopped_by", res.StoppedBy)
	c.addStep(store.CDRStep{Action: "voicemail", Target: id, Result: "recorded (" + res.StoppedBy + ")"})
	if c.ctx.Err() == nil {
		ivr.Play(c.ctx, false, media.DefaultPrompt(c.lang(), "goodbye"))
		c.end(bySystem, "voicemail recorded")
		c.hangup()
	}
	return dispVoicemail, sip200
}

// lastPerson is the person the plan last rang, for the voicemail's box: a
// message for "rossi" belongs to rossi.
func (c *call) lastPerson() string {
	if c.rt.decision == nil {
		return ""
	}
	person := ""
	for _, st := range c.rt.decision.Steps {
		if st.Ring == nil {
			continue
		}
		for _, t := range st.Ring.Targets {
			if t.Person != "" {
				person = t.Person
			}
		}
	}
	return person
}

// recoverVoicemails repairs the recordings a crash cut short and files
// them: the WAV header gets the sizes of what reached the disk.
func (s *Server) recoverVoicemails() {
	list, err := s.store.Voicemails("", 0)
	if err != nil {
		s.log.Error("voicemail recovery: list", "error", err)
		return
	}
	for _, v := range list {
		if v.State != vmRecording {
			continue
		}
		d, err := media.RepairWAV(filepath.Join(s.config().Data, v.File))
		if err != nil {
			s.log.Error("voicemail recovery", "id", v.ID, "file", v.File, "error", err)
			continue
		}
		v.Seconds, v.State = d.Seconds(), vmRecovered
		if err := s.store.SaveVoicemail(v); err != nil {
			s.log.Error("voicemail recovery: save", "id", v.ID, "error", err)
			continue
		}
		s.log.Warn("voicemail recovered after an interrupted recording", "id", v.ID, "seconds", fmt.Sprintf("%.1f", v.Seconds))
	}
}

const (
	sip200 = 200
	sip500 = 500
)
