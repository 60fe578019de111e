// Package media relays G.711 RTP between the anchored call legs of the PBX: SDP offer/answer, RTP ports, legs, bridges and the media watchdog.
//
// Every call leg owns one UDP socket from the configured port range (see
// PortAllocator) and one reader goroutine that hands each valid RTP packet to
// the leg's Handler. Bridge is the Handler that relays audio and RFC 4733
// telephone-events to the other leg, mapping payload types and transcoding
// PCMA⇄PCMU when the two sides negotiated different codecs. Whatever writes
// into a leg (a bridge today, a player tomorrow) goes through Leg.WriteRTP,
// which rewrites the packet into the leg's own RTP stream, so the peer sees
// one continuous SSRC whatever the source.
//
// The package knows nothing about SIP: pbx parses the peer's SDP with
// ParseSDP, builds ours with OfferSDP or AnswerSDP, and tells each leg what
// was negotiated with Leg.SetRemote.
package media
