// Package dtmf handles telephone keys in their three forms: RFC 4733 telephone-events, SIP INFO bodies and in-band tones.
//
// Three sources carry the keys a caller presses, depending on the trunk or
// phone: RFC 4733 telephone-event packets in the RTP stream (Receiver, and
// Encode to send them), SIP INFO requests (ParseInfo) and plain tones in the
// audio itself (Detector, Goertzel filters on 8 kHz PCM).
//
// The package is pure computation: no sockets, no goroutines, no clock. The
// RTP, SIP and IVR layers own the I/O and feed it payloads, bodies and
// samples. Receiver and Detector keep per-stream state and are not safe for
// concurrent use; give each stream its own.
package dtmf
