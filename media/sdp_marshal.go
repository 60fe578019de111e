package media

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
)

// SDPParams is what we put in our own session description.
type SDPParams struct {
	// SessionID and Version fill the o= line. The caller keeps SessionID for
	// the dialog and bumps Version on every change (RFC 3264 §8).
	SessionID, Version uint64
	// Addr is our RTP address as the peer must see it: the advertised IP and
	// the leg's port.
	Addr netip.AddrPort
	// Codecs are the audio codecs to list, in preference order. An answer
	// lists exactly the one chosen by Negotiate, with the offer's payload
	// type.
	Codecs []Codec
	// EventPT, when not 0, adds telephone-event/8000 on that payload type
	// (the offer's one in an answer) with events 0-16 (the DTMF keys).
	EventPT uint8
	// Direction is our direction; in an answer usually offer.Direction.Answer().
	Direction Direction
	// Ptime is the packet duration in milliseconds; 0 means 20.
	Ptime int
}

// OfferSDP builds an offer with one audio stream over RTP/AVP.
func OfferSDP(p SDPParams) []byte {
	var b bytes.Buffer
	writeSession(&b, p)
	writeAudio(&b, "RTP/AVP", p)
	return b.Bytes()
}

// AnswerSDP builds the answer to offer: it mirrors the offer's m= lines in
// the same order (RFC 3264 §6), answers the audio line that ParseSDP chose
// with p, and rejects every other line with port 0. With no codec in p the
// audio line is rejected too. A nil offer (a re-INVITE without SDP, where
// our 200 carries the offer) yields OfferSDP(p).
func AnswerSDP(offer *SessionDescription, p SDPParams) []byte {
	if offer == nil || len(offer.media) == 0 {
		return OfferSDP(p)
	}
	var b bytes.Buffer
	writeSession(&b, p)
	for i, m := range offer.media {
		if i == offer.audio && len(p.Codecs) > 0 {
			writeAudio(&b, m.proto, p)
			continue
		}
		formats := m.formats
		if len(formats) == 0 {
			formats = []string{"0"} // a media line must list one format, even rejected
		}
		fmt.Fprintf(&b, "m=%s 0 %s %s\r\n", m.kind, m.proto, strings.Join(formats, " "))
	}
	return b.Bytes()
}

func writeSession(b *bytes.Buffer, p SDPParams) {
	addrType, addr := connection(p.Addr.Addr())
	fmt.Fprintf(b, "v=0\r\no=- %d %d IN %s %s\r\ns=Centralino\r\nc=IN %s %s\r\nt=0 0\r\n",
		p.SessionID, p.Version, addrType, addr, addrType, addr)
}

// connection returns the address type and address for o= and c=.
func connection(a netip.Addr) (addrType, addr string) {
	if !a.IsValid() {
		// Only a caller bug gets here; an unspecified address at least
		// yields a parseable SDP (that peers read as hold).
		return "IP4", "0.0.0.0"
	}
	a = a.WithZone("")
	if a.Is4() {
		return "IP4", a.String()
	}
	return "IP6", a.String()
}

func writeAudio(b *bytes.Buffer, proto string, p SDPParams) {
	fmt.Fprintf(b, "m=audio %d %s", p.Addr.Port(), proto)
	for _, c := range p.Codecs {
		fmt.Fprintf(b, " %d", c.PayloadType)
	}
	if p.EventPT != 0 {
		fmt.Fprintf(b, " %d", p.EventPT)
	}
	b.WriteString("\r\n")
	for _, c := range p.Codecs {
		if c.Name != "" {
			fmt.Fprintf(b, "a=rtpmap:%d %s/%d\r\n", c.PayloadType, c.Name, c.ClockRate)
		}
	}
	if p.EventPT != 0 {
		fmt.Fprintf(b, "a=rtpmap:%d telephone-event/%d\r\na=fmtp:%d 0-16\r\n", p.EventPT, pcmRate, p.EventPT)
	}
	ptime := p.Ptime
	if ptime <= 0 {
		ptime = 20
	}
	fmt.Fprintf(b, "a=ptime:%d\r\na=%s\r\n", ptime, p.Direction)
}
