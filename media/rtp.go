package media

import (
	"encoding/binary"
	"time"
)

// rtpHeaderMin is the fixed part of an RTP header (RFC 3550 §5.1).
const rtpHeaderMin = 12

// parseRTP reports whether pkt is a well-formed RTP version 2 packet and
// returns where its payload starts and ends (padding excluded). It looks at
// the raw bytes only, so the packet path never allocates.
func parseRTP(pkt []byte) (start, end int, ok bool) {
	if len(pkt) < rtpHeaderMin || pkt[0]>>6 != 2 {
		return 0, 0, false
	}
	// With RTP and RTCP on one port (RFC 5761 §4) RTCP's packet types 192-223
	// land where an RTP marker bit plus payload types 64-95 would be, which
	// is why those payload types are never used for RTP: drop them as RTCP.
	if pt := pkt[1] & 0x7f; pt >= 64 && pt <= 95 {
		return 0, 0, false
	}
	start = rtpHeaderMin + 4*int(pkt[0]&0x0f) // CSRC list
	if len(pkt) < start {
		return 0, 0, false
	}
	if pkt[0]&0x10 != 0 { // header extension
		if len(pkt) < start+4 {
			return 0, 0, false
		}
		start += 4 + 4*int(binary.BigEndian.Uint16(pkt[start+2:]))
		if len(pkt) < start {
			return 0, 0, false
		}
	}
	end = len(pkt)
	if pkt[0]&0x20 != 0 { // padding; the last byte counts it, itself included
		pad := int(pkt[end-1])
		if pad == 0 || pad > end-start {
			return 0, 0, false
		}
		end -= pad
	}
	return start, end, true
}

// outStream rewrites whatever is written to a leg into the leg's own RTP
// stream. A peer sees one SSRC for the whole call, while what we send it may
// come from several sources in turn: the answering branch of a forked call,
// a prompt player, another bridged leg. Each packet keeps its source's
// sequence and timestamp deltas through fixed offsets; when the source SSRC
// changes the offsets are recomputed so that the sequence continues at
// last+1 and the timestamp advances by the wall-clock gap, as if one sender
// had paused, and the marker bit flags the new talkspurt (RFC 3550 §5.1) so
// that the peer's jitter buffer resynchronises instead of dropping packets.
type outStream struct {
	ssrc uint32 // ours, random

	started bool
	inSSRC  uint32 // current source
	seqOff  uint16
	tsOff   uint32

	// The highest sequence number and timestamp sent, and when the last
	// packet went out.
	lastSeq uint16
	lastTS  uint32
	lastAt  time.Time
}

func newOutStream(ssrc uint32, firstSeq uint16, firstTS uint32) outStream {
	// The first source is mapped onto random starting values (RFC 3550
	// §5.1), like any later source is mapped onto last+1.
	return outStream{ssrc: ssrc, lastSeq: firstSeq - 1, lastTS: firstTS}
}

// rewrite turns pkt, a valid RTP packet, into the next packet of the stream.
func (s *outStream) rewrite(pkt []byte, now time.Time) {
	inSSRC := binary.BigEndian.Uint32(pkt[8:])
	inSeq := binary.BigEndian.Uint16(pkt[2:])
	inTS := binary.BigEndian.Uint32(pkt[4:])
	if !s.started || inSSRC != s.inSSRC {
		ts := s.lastTS
		if s.started {
			ts += samplesSince(s.lastAt, now)
		}
		s.seqOff = s.lastSeq + 1 - inSeq
		s.tsOff = ts - inTS
		s.inSSRC = inSSRC
		s.started = true
		pkt[1] |= 0x80
	}
	seq := inSeq + s.seqOff
	ts := inTS + s.tsOff
	binary.BigEndian.PutUint16(pkt[2:], seq)
	binary.BigEndian.PutUint32(pkt[4:], ts)
	binary.BigEndian.PutUint32(pkt[8:], s.ssrc)
	// Serial-number comparisons (RFC 1982): a late, reordered packet must
	// not pull "last" backwards, or the next source would reuse numbers.
	if int16(seq-s.lastSeq) > 0 {
		s.lastSeq = seq
	}
	if int32(ts-s.lastTS) > 0 {
		s.lastTS = ts
	}
	s.lastAt = now
}

// samplesSince converts the gap since the last packet into 8 kHz timestamp
// units, at least one 20 ms packet so that timestamps always move forward.
func samplesSince(last, now time.Time) uint32 {
	n := now.Sub(last) / (time.Second / pcmRate)
	if n < samplesPerPacket {
		return samplesPerPacket
	}
	if n > 1<<31-1 {
		return 1<<31 - 1 // a gap of over three days; keep the serial arithmetic sane
	}
	return uint32(n)
}
