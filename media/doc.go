// Package media moves the PBX's G.711 audio: SDP offer/answer, RTP ports,
// call legs, the bridge between two legs, the media watchdog, and the
// automated answering (prompts, DTMF, recording).
//
// Every call leg owns one UDP socket from the configured port range (see
// PortAllocator) and one reader goroutine that hands each valid RTP packet to
// the leg's Handler. Bridge is the Handler that relays audio and RFC 4733
// telephone-events to the other leg, mapping payload types and transcoding
// PCMA⇄PCMU when the two sides negotiated different codecs. Whatever writes
// into a leg (a bridge, the Scheduler playing a prompt) goes through
// Leg.WriteRTP, which rewrites the packet into the leg's own RTP stream, so
// the peer sees one continuous SSRC whatever the source.
//
// IVR is the Handler of a leg that Centralino answers itself: it plays
// Prompts (WAV files decoded and encoded once, at load), collects keys
// (RFC 4733, SIP INFO passed in by pbx, or in-band tones; see media/dtmf)
// and records through a JitterBuffer into a crash-safe WAVWriter. One
// Scheduler paces the prompts of every call from a single goroutine, and
// on Linux one Poller reads the sockets of the legs an IVR serves, once
// per packet time, while their reader goroutines wait (those packets can
// wait 20 ms, and waking a thread for each costs more than the audio).
//
// The package knows nothing about SIP: pbx parses the peer's SDP with
// ParseSDP, builds ours with OfferSDP or AnswerSDP, and tells each leg what
// was negotiated with Leg.SetRemote.
package media
