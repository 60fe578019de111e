package dtmf

// recentEvents is how many past events a Receiver remembers. One would do
// for an orderly stream; a few more keep a late retransmission of the
// previous key from being reported again once the next key has started.
const recentEvents = 8

// eventID identifies one telephone-event: RFC 4733 §2.5.1.2 keeps the RTP
// timestamp of all its packets at the event's start, so the timestamp tells
// events apart. The code is part of the identity for senders that replay
// canned packets, where two different keys may share a timestamp.
type eventID struct {
	timestamp uint32
	event     uint8
}

// Receiver turns the RFC 4733 telephone-event payloads of one RTP stream
// into key presses. A key is reported once per event, as soon as any packet
// of it arrives, so that a prompt stops at once (barge-in); later packets
// of the same event (updates, the repeated end packets, retransmissions)
// are ignored. The marker bit is not needed: it is lost with the first
// packet often enough that the timestamp is the only reliable start.
//
// The zero value is ready to use. A Receiver is not safe for concurrent use.
type Receiver struct {
	seen [recentEvents]eventID
	n    int // number of valid entries in seen, up to recentEvents
	next int // index in seen to overwrite next
}

// Feed takes one telephone-event packet's payload and its RTP timestamp and
// reports the key when the packet starts a new event. Payloads shorter than
// the 4-byte event block and event codes that are not keys (flash, fax and
// modem tones) are ignored. Feed does not allocate.
func (r *Receiver) Feed(payload []byte, timestamp uint32) (key rune, ok bool) {
	if len(payload) < 4 {
		return 0, false
	}
	key, ok = KeyOfEvent(payload[0])
	if !ok {
		return 0, false
	}
	id := eventID{timestamp: timestamp, event: payload[0]}
	for i := 0; i < r.n; i++ {
		if r.seen[i] == id {
			return 0, false
		}
	}
	r.seen[r.next] = id
	r.next = (r.next + 1) % recentEvents
	if r.n < recentEvents {
		r.n++
	}
	return key, true
}
