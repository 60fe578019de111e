package media

import "errors"

var (
	// ErrNoAudio is returned by ParseSDP when the description has no usable
	// audio stream: no m=audio line with a non-zero port, a plain RTP profile
	// (RTP/AVP or RTP/AVPF), at least one audio format and a connection
	// address. A SIP caller answers such an offer with 488.
	ErrNoAudio = errors.New("no usable audio stream")

	// ErrNoCommonCodec is returned by Negotiate when none of the offered
	// audio codecs is allowed. A SIP caller answers with 488.
	ErrNoCommonCodec = errors.New("no common audio codec")

	// ErrNoPorts is returned by PortAllocator.Listen when every even port of
	// the range is busy.
	ErrNoPorts = errors.New("no free rtp port")

	// errNotRTP is returned by Leg.WriteRTP for a packet that is not a
	// well-formed RTP version 2 packet.
	errNotRTP = errors.New("not an rtp v2 packet")
)
