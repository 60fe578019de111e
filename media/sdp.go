package media

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// SessionDescription is what the PBX needs from a peer's SDP: where to send
// audio, in which formats, and whether the peer sends and receives.
type SessionDescription struct {
	// Addr is the audio stream's address: the media-level c= (else the
	// session-level one) with the m=audio port.
	Addr netip.AddrPort
	// Codecs are the audio line's formats in offer order. Names come from
	// a=rtpmap or the RFC 3551 static table and are upper-case; a dynamic
	// payload type without a=rtpmap has an empty Name. Telephone-events are
	// not listed here (see EventPT).
	Codecs []Codec
	// EventPT is the payload type of telephone-event/8000, 0 when absent.
	EventPT uint8
	// Direction is the a=sendrecv|sendonly|recvonly|inactive attribute, the
	// media-level one overriding the session-level one. An RFC 2543 hold
	// (c=0.0.0.0) is not folded in here; Hold reports both.
	Direction Direction
	// Ptime is a=ptime in milliseconds, 0 when absent.
	Ptime int

	// media lists every m= line in order, so that an answer can mirror them
	// (RFC 3264 §6: same number and order, unused ones rejected).
	media []mediaLine
	// audio is the index in media of the line described above.
	audio int
}

// mediaLine is one m= line, kept as offered.
type mediaLine struct {
	kind    string // "audio", "video", "application"...
	proto   string
	formats []string
}

// Hold reports whether the peer puts the call on hold: it stopped sending
// (sendonly or inactive) or it uses the RFC 2543 convention of a null
// connection address.
func (d *SessionDescription) Hold() bool {
	return d.Direction == SendOnly || d.Direction == Inactive || d.Addr.Addr().IsUnspecified()
}

// section is the raw lines of the session part or of one m= section.
type section struct {
	m     string   // the m= value; empty for the session part
	lines []string // every other "x=value" line, in order
}

// ParseSDP extracts the first usable audio stream of a session description.
//
// It is deliberately tolerant, because real phones are: lines may end in
// "\n" or "\r\n", the last line may lack its newline, lines may come in any
// order, unknown lines and attributes are ignored, and c= may be at session
// or media level, IPv4 or IPv6. The stream used is the first m=audio line with
// a non-zero port, a plain RTP profile (RTP/AVP or RTP/AVPF: we do no SRTP,
// so an RTP/SAVP or DTLS line is unusable), at least one audio format and a
// connection address. Without one it returns an error wrapping ErrNoAudio.
func ParseSDP(b []byte) (*SessionDescription, error) {
	session, media := splitSections(string(b))
	if len(media) == 0 {
		return nil, fmt.Errorf("sdp: no m= line: %w", ErrNoAudio)
	}
	d := &SessionDescription{media: make([]mediaLine, len(media))}
	for i, s := range media {
		f := strings.Fields(s.m)
		m := mediaLine{kind: "audio", proto: "RTP/AVP"}
		if len(f) > 0 {
			m.kind = f[0]
		}
		if len(f) > 2 {
			m.proto = f[2]
		}
		if len(f) > 3 {
			m.formats = f[3:]
		}
		d.media[i] = m
	}
	var reason error
	for i, s := range media {
		err := d.parseAudio(session, s)
		if err == nil {
			d.audio = i
			return d, nil
		}
		if reason == nil && !errors.Is(err, errNotAudio) {
			reason = fmt.Errorf("sdp: m= line %d: %w", i+1, err)
		}
	}
	if reason == nil {
		return nil, fmt.Errorf("sdp: no m=audio line with a non-zero port: %w", ErrNoAudio)
	}
	return nil, fmt.Errorf("%w: %w", reason, ErrNoAudio)
}

// errNotAudio marks a media line that is not an active audio stream at all,
// as opposed to one we cannot use; only the latter is worth reporting.
var errNotAudio = errors.New("not an active audio line")

// parseAudio fills d's exported fields from the media section s if it is a
// usable audio stream. It leaves d's exported fields unspecified otherwise.
func (d *SessionDescription) parseAudio(session, s section) error {
	f := strings.Fields(s.m)
	if len(f) < 3 || !strings.EqualFold(f[0], "audio") {
		return errNotAudio
	}
	port, err := parsePort(f[1])
	if err != nil {
		return err
	}
	if port == 0 {
		return errNotAudio // rejected or disabled stream
	}
	if !strings.EqualFold(f[2], "RTP/AVP") && !strings.EqualFold(f[2], "RTP/AVPF") {
		return fmt.Errorf("profile %q is not plain rtp", f[2])
	}

	addr, err := connectionAddr(session, s)
	if err != nil {
		return err
	}
	d.Addr = netip.AddrPortFrom(addr, port)

	rtpmap := make(map[uint8]Codec)
	for _, v := range attributes(s, "rtpmap") {
		if c, ok := parseRtpmap(v); ok {
			if _, dup := rtpmap[c.PayloadType]; !dup {
				rtpmap[c.PayloadType] = c
			}
		}
	}
	d.Codecs, d.EventPT = nil, 0
	for _, tok := range f[3:] {
		pt, err := strconv.ParseUint(tok, 10, 7)
		if err != nil {
			continue // not an RTP payload type; nothing we could send
		}
		c, ok := rtpmap[uint8(pt)]
		if !ok {
			c, ok = staticCodec(uint8(pt))
		}
		if !ok {
			c = Codec{PayloadType: uint8(pt)}
		}
		if c.Name == telephoneEvent {
			// Only the 8 kHz event clock matches G.711's timestamps; events at
			// other rates (WebRTC offers 48 kHz too) are not audio either.
			if c.ClockRate == pcmRate && d.EventPT == 0 {
				d.EventPT = c.PayloadType
			}
			continue
		}
		d.Codecs = append(d.Codecs, c)
	}
	if len(d.Codecs) == 0 {
		return errors.New("no audio format")
	}

	d.Direction = SendRecv
	for _, sec := range []section{s, session} {
		if dir, ok := firstDirection(sec); ok {
			d.Direction = dir
			break
		}
	}
	d.Ptime = 0
	for _, sec := range []section{s, session} {
		if v := attributes(sec, "ptime"); len(v) > 0 {
			if n, err := strconv.Atoi(strings.TrimSpace(v[0])); err == nil && n > 0 {
				d.Ptime = n
			}
			break
		}
	}
	return nil
}

// splitSections cuts an SDP body into its session part and m= sections.
func splitSections(body string) (session section, media []section) {
	cur := -1
	for line := range strings.Lines(body) {
		line = strings.TrimRight(line, "\r\n\t ")
		if len(line) < 2 || line[1] != '=' {
			continue // blank or garbage line: skip rather than fail the call
		}
		switch {
		case line[0] == 'm':
			media = append(media, section{m: line[2:]})
			cur = len(media) - 1
		case cur < 0:
			session.lines = append(session.lines, line)
		default:
			media[cur].lines = append(media[cur].lines, line)
		}
	}
	return session, media
}

// attributes returns the values of the a=<name>:<value> lines of s.
func attributes(s section, name string) []string {
	var vals []string
	for _, line := range s.lines {
		if line[0] != 'a' {
			continue
		}
		k, v, _ := strings.Cut(line[2:], ":")
		if strings.EqualFold(strings.TrimSpace(k), name) {
			vals = append(vals, v)
		}
	}
	return vals
}

// firstDirection returns the first direction attribute of s.
func firstDirection(s section) (Direction, bool) {
	for _, line := range s.lines {
		if line[0] == 'a' {
			if dir, ok := parseDirection(strings.TrimSpace(line[2:])); ok {
				return dir, true
			}
		}
	}
	return 0, false
}

// connectionAddr returns the media-level c= address, else the session one.
func connectionAddr(session, media section) (netip.Addr, error) {
	for _, s := range []section{media, session} {
		for _, line := range s.lines {
			if line[0] == 'c' {
				return parseConnection(line[2:])
			}
		}
	}
	return netip.Addr{}, errors.New("no c= line")
}

// parseConnection parses "IN IP4 192.0.2.1" (or IP6). A multicast TTL or
// address count suffix ("/127") is dropped, and so is an IPv6 zone, which
// means nothing to the peer.
func parseConnection(v string) (netip.Addr, error) {
	f := strings.Fields(v)
	if len(f) < 3 || !strings.EqualFold(f[0], "IN") {
		return netip.Addr{}, fmt.Errorf("c=%s: not an internet address", v)
	}
	host, _, _ := strings.Cut(f[2], "/")
	addr, err := netip.ParseAddr(host)
	if err != nil {
		// Host names are legal in SDP but no phone sends them, and resolving
		// one here would block the call on DNS.
		return netip.Addr{}, fmt.Errorf("c=%s: %w", v, err)
	}
	return addr.WithZone(""), nil
}

// parsePort parses an m= port, dropping an RFC 4566 "/<count>" suffix.
func parsePort(s string) (uint16, error) {
	s, _, _ = strings.Cut(s, "/")
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("port %q: %w", s, err)
	}
	return uint16(n), nil
}

// parseRtpmap parses "<pt> <name>/<rate>[/<channels>]".
func parseRtpmap(v string) (Codec, bool) {
	f := strings.Fields(v)
	if len(f) < 2 {
		return Codec{}, false
	}
	pt, err := strconv.ParseUint(f[0], 10, 7)
	if err != nil {
		return Codec{}, false
	}
	parts := strings.Split(f[1], "/")
	if len(parts) < 2 || !isToken(parts[0]) {
		return Codec{}, false
	}
	rate, err := strconv.ParseUint(parts[1], 10, 32)
	if err != nil || rate == 0 {
		return Codec{}, false
	}
	// Encoding names are case-insensitive (RFC 4855 §3); one spelling keeps
	// comparisons simple.
	name := strings.ToUpper(parts[0])
	if strings.EqualFold(name, telephoneEvent) {
		name = telephoneEvent
	}
	return Codec{Name: name, PayloadType: uint8(pt), ClockRate: uint32(rate)}, true
}

// isToken reports whether s is a non-empty run of printable ASCII, so that
// it can be written back into an SDP line unchanged.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// Negotiate picks the first codec of the offer, in the offer's order of
// preference, whose Name is one of allowed ("PCMA", "PCMU"; case does not
// matter). It returns an error wrapping ErrNoCommonCodec when there is none.
func Negotiate(offer *SessionDescription, allowed []string) (Codec, error) {
	if offer == nil {
		return Codec{}, fmt.Errorf("no offer: %w", ErrNoCommonCodec)
	}
	for _, c := range offer.Codecs {
		if (c.Name == "PCMU" || c.Name == "PCMA") && c.ClockRate != pcmRate {
			continue // a G.711 at another clock is a broken rtpmap, not G.711
		}
		if slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(a, c.Name) }) {
			return c, nil
		}
	}
	names := make([]string, 0, len(offer.Codecs))
	for _, c := range offer.Codecs {
		names = append(names, c.Name)
	}
	return Codec{}, fmt.Errorf("offered %v, allowed %v: %w", names, allowed, ErrNoCommonCodec)
}
