package pbx

import (
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/centralino/centralino/media"
	"github.com/centralino/centralino/media/dtmf"
)

// callRegistry knows the calls in progress and which dialog belongs to
// which call leg. Requests inside a dialog may arrive in any order (sipgo
// handles each message on its own goroutine), so every handler looks the
// dialog up here and tolerates it being gone.
type callRegistry struct {
	mu      sync.Mutex
	calls   map[string]*call
	dialogs map[string]dialogRef
	started uint64 // calls ever added
	wg      sync.WaitGroup
}

type dialogRef struct {
	c    *call
	side side
}

func newCallRegistry() *callRegistry {
	return &callRegistry{calls: map[string]*call{}, dialogs: map[string]dialogRef{}}
}

func (r *callRegistry) add(c *call) {
	r.mu.Lock()
	r.calls[c.id] = c
	r.started++
	r.mu.Unlock()
	r.wg.Add(1)
}

func (r *callRegistry) remove(c *call) {
	r.mu.Lock()
	delete(r.calls, c.id)
	r.mu.Unlock()
	r.wg.Done()
}

func (r *callRegistry) bindDialog(id string, c *call, sd side) {
	r.mu.Lock()
	r.dialogs[id] = dialogRef{c, sd}
	r.mu.Unlock()
}

// activity returns the calls in progress and the number ever started.
func (r *callRegistry) activity() (active int, started uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls), r.started
}

// byID returns a call in progress, or nil.
func (r *callRegistry) byID(id string) *call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[id]
}

func (r *callRegistry) unbindDialog(id string) {
	r.mu.Lock()
	delete(r.dialogs, id)
	r.mu.Unlock()
}

// lookup finds the call leg an in-dialog request belongs to. Our tag is in
// To; for leg A we are UAS (ID callid+to+from), for leg B UAC
// (callid+from+to, as sipgo builds IDs from our 2xx's point of view).
func (r *callRegistry) lookup(req *sip.Request) (dialogRef, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if id, err := sip.DialogIDFromRequestUAS(req); err == nil {
		if ref, ok := r.dialogs[id]; ok && ref.side == sideA {
			return ref, true
		}
	}
	if id, err := sip.DialogIDFromRequestUAC(req); err == nil {
		if ref, ok := r.dialogs[id]; ok && ref.side != sideA {
			return ref, true
		}
	}
	return dialogRef{}, false
}

func (r *callRegistry) list() []CallInfo {
	r.mu.Lock()
	calls := make([]*call, 0, len(r.calls))
	for _, c := range r.calls {
		calls = append(calls, c)
	}
	r.mu.Unlock()
	out := make([]CallInfo, 0, len(calls))
	for _, c := range calls {
		out = append(out, c.info())
	}
	slices.SortFunc(out, func(a, b CallInfo) int { return a.Started.Compare(b.Started) })
	return out
}

func (r *callRegistry) hangupAll(by, reason string) {
	r.mu.Lock()
	calls := make([]*call, 0, len(r.calls))
	for _, c := range r.calls {
		calls = append(calls, c)
	}
	r.mu.Unlock()
	for _, c := range calls {
		c.end(by, reason)
	}
}

// wait waits for the calls to finish, at most d.
func (r *callRegistry) wait(d time.Duration) {
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

func (c *call) legOf(sd side) *leg {
	if sd == sideA {
		return &c.legA
	}
	return &c.legB
}

func (s *Server) onAck(req *sip.Request, tx sip.ServerTransaction) {
	ref, ok := s.calls.lookup(req)
	if !ok {
		return // a late ACK for a finished call: nothing to do (no response to ACK)
	}
	c, l := ref.c, ref.c.legOf(ref.side)
	if ref.side == sideA && c.a != nil {
		if err := c.a.ReadAck(req, tx); err != nil {
			c.log.Debug("ack", "error", err)
		}
	}
	l.mu.Lock()
	if ch, ok := l.acks[req.CSeq().SeqNo]; ok {
		close(ch)
		delete(l.acks, req.CSeq().SeqNo)
	}
	late := l.lateOffer
	l.lateOffer = false
	l.mu.Unlock()
	if late && len(req.Body()) > 0 {
		c.applyAnswer(ref.side, req.Body())
	}
}

// applyAnswer takes the SDP answer of a late offer (in an ACK).
func (c *call) applyAnswer(sd side, body []byte) {
	desc, err := media.ParseSDP(body)
	if err != nil {
		c.log.Warn("bad SDP in ACK", "leg", sd, "error", err)
		c.end(bySystem, "bad SDP answer in ACK")
		return
	}
	codec, err := media.Negotiate(desc, supportedCodecs)
	if err != nil {
		c.log.Warn("ACK answer has no usable codec", "leg", sd)
		c.end(bySystem, "no common codec in ACK")
		return
	}
	c.legOf(sd).media.SetRemote(remoteOf(desc, codec))
}

func (s *Server) onBye(req *sip.Request, tx sip.ServerTransaction) {
	ref, ok := s.calls.lookup(req)
	if !ok {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil)
		return
	}
	c := ref.c
	if ref.side == sideConsult {
		c.consultBye(req, tx)
		return
	}
	var err error
	by := byCaller
	if ref.side == sideA {
		err = c.a.ReadBye(req, tx)
	} else {
		by = byCallee
		err = c.b.ReadBye(req, tx)
	}
	if err != nil {
		c.log.Debug("bye", "leg", ref.side, "error", err)
		respond(tx, req, sip.StatusOK, "OK", nil)
	}
	c.end(by, "")
}

// onInDialog answers INFO: a key sent as SIP INFO (application/dtmf-relay
// or application/dtmf) reaches the menu or the recording as if it came in
// the audio. Other INFO bodies are acknowledged and ignored.
func (s *Server) onInDialog(req *sip.Request, tx sip.ServerTransaction) {
	ref, ok := s.calls.lookup(req)
	if !ok {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil)
		return
	}
	respond(tx, req, sip.StatusOK, "OK", nil)
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = h.Value()
	}
	if len(req.Body()) == 0 || ref.side != sideA {
		return
	}
	key, err := dtmf.ParseInfo(ct, req.Body())
	if err != nil {
		ref.c.log.Debug("INFO without a key", "content_type", ct, "error", err)
		return
	}
	ref.c.injectDigit(key)
}

// onUpdate handles UPDATE (RFC 3311): session refreshes without SDP get an
// OK; with SDP it is an offer like a re-INVITE's.
func (s *Server) onUpdate(req *sip.Request, tx sip.ServerTransaction) {
	ref, ok := s.calls.lookup(req)
	if !ok {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil)
		return
	}
	if len(req.Body()) == 0 {
		respond(tx, req, sip.StatusOK, "OK", nil, s.contactFor(req))
		return
	}
	body, code, reason := ref.c.answerOffer(ref.side, req.Body())
	if code != sip.StatusOK {
		respond(tx, req, code, reason, nil)
		return
	}
	respond(tx, req, sip.StatusOK, "OK", body, s.contactFor(req), sip.NewHeader("Content-Type", "application/sdp"))
}

func (s *Server) contactFor(req *sip.Request) sip.Header {
	h := s.contact(strings.ToUpper(req.Transport()))
	return &h
}

// onReInvite answers a re-INVITE on either leg locally: the media anchor
// makes hold and resume a matter between that phone and us (a=sendonly is
// answered recvonly, RFC 3264 §6.1), and the other leg stays untouched.
func (s *Server) onReInvite(req *sip.Request, tx sip.ServerTransaction) {
	ref, ok := s.calls.lookup(req)
	if !ok {
		respond(tx, req, sip.StatusCallTransactionDoesNotExists, "Call/Transaction Does Not Exist", nil)
		return
	}
	c, l := ref.c, ref.c.legOf(ref.side)
	cseq := req.CSeq().SeqNo
	l.mu.Lock()
	if cseq <= l.remoteCSeq {
		l.mu.Unlock()
		respond(tx, req, sip.StatusInternalServerError, "Out Of Order", nil, sip.NewHeader("Retry-After", "1"))
		return
	}
	l.remoteCSeq = cseq
	l.mu.Unlock()
	if ref.side == sideA && c.a != nil {
		// Keeps sipgo's own CSeq view in step, or it would refuse the ACK.
		c.a.ReadRequest(req, tx)
	}

	var body []byte
	if len(req.Body()) == 0 {
		// An offer-less re-INVITE: we offer what we have, the answer comes in the ACK.
		p := l.nextSDP(func(p *media.SDPParams) { p.Direction = media.SendRecv })
		body = media.OfferSDP(p)
		l.mu.Lock()
		l.lateOffer = true
		l.mu.Unlock()
	} else {
		var code int
		var reason string
		body, code, reason = c.answerOffer(ref.side, req.Body())
		if code != sip.StatusOK {
			respond(tx, req, code, reason, nil)
			return
		}
	}
	res := sip.NewSDPResponseFromRequest(req, body)
	res.AppendHeader(s.contactFor(req))
	c.respond2xxReliably(l, tx, res)
}

// answerOffer applies an in-dialog offer to a leg and returns our answer.
func (c *call) answerOffer(sd side, offerBody []byte) ([]byte, int, string) {
	l := c.legOf(sd)
	offer, err := media.ParseSDP(offerBody)
	if err != nil {
		return nil, sip.StatusBadRequest, "Malformed SDP"
	}
	cur := l.media.Remote()
	codec, err := media.Negotiate(offer, []string{cur.Codec.Name})
	if err != nil {
		// The phone changed its mind about the codec: the bridge
		// transcodes A-law/µ-law if the legs now differ.
		if codec, err = media.Negotiate(offer, supportedCodecs); err != nil {
			return nil, sip.StatusNotAcceptableHere, "Not Acceptable Here"
		}
	}
	l.media.SetRemote(remoteOf(offer, codec))
	ev := uint8(0)
	if cur.EventPT != 0 {
		ev = offer.EventPT
	}
	p := l.nextSDP(func(p *media.SDPParams) {
		p.Codecs, p.EventPT, p.Direction = []media.Codec{codec}, ev, offer.Direction.Answer()
		if offer.Hold() && offer.Direction == media.SendRecv {
			p.Direction = media.RecvOnly
		}
	})
	c.log.Info("media renegotiated", "leg", sd, "direction", offer.Direction, "codec", codec.Name)
	return media.AnswerSDP(offer, p), sip.StatusOK, ""
}

// respond2xxReliably sends a 2xx to a re-INVITE and, over UDP, repeats it
// until the ACK comes (RFC 3261 §13.3.1.4: the UAS core, not the
// transaction, retransmits 2xx).
func (c *call) respond2xxReliably(l *leg, tx sip.ServerTransaction, res *sip.Response) {
	if err := tx.Respond(res); err != nil {
		c.log.Debug("re-INVITE answer", "error", err)
		return
	}
	if !strings.EqualFold(res.Transport(), "UDP") {
		return
	}
	acked := make(chan struct{})
	cseq := res.CSeq().SeqNo
	l.mu.Lock()
	if l.acks == nil {
		l.acks = map[uint32]chan struct{}{}
	}
	l.acks[cseq] = acked
	l.mu.Unlock()
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		defer func() {
			l.mu.Lock()
			delete(l.acks, cseq)
			l.mu.Unlock()
		}()
		interval := sip.T1
		giveUp := time.NewTimer(64 * sip.T1)
		defer giveUp.Stop()
		for {
			select {
			case <-acked:
				return
			case <-c.done:
				return
			case <-giveUp.C:
				c.log.Warn("no ACK for re-INVITE answer")
				return
			case <-time.After(interval):
				tx.Respond(res)
				interval = min(2*interval, sip.T2)
			}
		}
	}()
}
