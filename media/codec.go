package media

import (
	"fmt"
	"strings"
)

// Codec is one RTP payload format as negotiated in SDP.
type Codec struct {
	// Name is the encoding name: upper-case for audio codecs ("PCMU",
	// "PCMA", "G722"...), "telephone-event" for RFC 4733 events, empty for a
	// dynamic payload type the peer did not describe.
	Name        string
	PayloadType uint8
	ClockRate   uint32
}

const (
	telephoneEvent = "telephone-event"
	// pcmRate is the clock of G.711 and of the telephone-events we relay.
	pcmRate = 8000
	// samplesPerPacket is one 20 ms G.711 packet.
	samplesPerPacket = 160
	// ptCN is comfort noise (RFC 3389); it is never relayed.
	ptCN = 13
)

// staticCodec looks up the audio part of the RFC 3551 static table, used
// when an offer lists a static payload type without a=rtpmap.
func staticCodec(pt uint8) (Codec, bool) {
	name, rate := "", uint32(8000)
	switch pt {
	case 0:
		name = "PCMU"
	case 3:
		name = "GSM"
	case 4:
		name = "G723"
	case 5:
		name = "DVI4"
	case 6:
		name, rate = "DVI4", 16000
	case 7:
		name = "LPC"
	case 8:
		name = "PCMA"
	case 9:
		name = "G722" // 8000 in SDP although it samples at 16 kHz (RFC 3551 §4.5.2)
	case 10, 11:
		name, rate = "L16", 44100
	case 12:
		name = "QCELP"
	case 13:
		name = "CN"
	case 14:
		name, rate = "MPA", 90000
	case 15:
		name = "G728"
	case 16:
		name, rate = "DVI4", 11025
	case 17:
		name, rate = "DVI4", 22050
	case 18:
		name = "G729"
	default:
		return Codec{}, false
	}
	return Codec{Name: name, PayloadType: pt, ClockRate: rate}, true
}

// Direction is an SDP media direction attribute (RFC 3264 §5.1).
type Direction uint8

// The four directions; the zero value is SendRecv, the SDP default.
const (
	SendRecv Direction = iota
	SendOnly
	RecvOnly
	Inactive
)

var directionNames = [...]string{
	SendRecv: "sendrecv",
	SendOnly: "sendonly",
	RecvOnly: "recvonly",
	Inactive: "inactive",
}

// String returns the SDP attribute name, e.g. "sendonly".
func (d Direction) String() string {
	if int(d) < len(directionNames) {
		return directionNames[d]
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// Answer returns the direction an answerer puts for this offered direction
// (RFC 3264 §6.1): a sendonly offer (the peer puts us on hold) is answered
// recvonly and vice versa; sendrecv and inactive are unchanged.
func (d Direction) Answer() Direction {
	switch d {
	case SendOnly:
		return RecvOnly
	case RecvOnly:
		return SendOnly
	}
	return d
}

// Sends reports whether the party with this direction sends media.
func (d Direction) Sends() bool { return d == SendRecv || d == SendOnly }

// Receives reports whether the party with this direction receives media.
func (d Direction) Receives() bool { return d == SendRecv || d == RecvOnly }

// parseDirection maps an SDP attribute name to a Direction.
func parseDirection(s string) (Direction, bool) {
	for d, name := range directionNames {
		if strings.EqualFold(s, name) {
			return Direction(d), true
		}
	}
	return 0, false
}
