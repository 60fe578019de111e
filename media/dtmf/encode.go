package dtmf

import (
	"fmt"
	"time"
)

const (
	// packetTime is the interval between the packets of one event; it
	// matches the audio's ptime, so the event's packets replace audio ones.
	packetTime = 20 * time.Millisecond

	// samplesPerPacket is packetTime in RTP timestamp units (8 kHz clock).
	samplesPerPacket = 160

	// endRepeats is how many times the end packet is sent in all
	// (RFC 4733 §2.5.1.4 recommends three), since it is the only one
	// that says how long the key was held.
	endRepeats = 3

	// maxVolume is the largest volume (in -dBm0) the 6-bit field holds.
	maxVolume = 63

	// maxDuration is the longest whole number of packets whose duration
	// fits the 16-bit field (8.18 s); longer events would need the
	// segmentation of RFC 4733 §2.5.2.3, which no key press needs.
	maxDuration = 0xffff / samplesPerPacket * packetTime
)

// Packet is the payload of one telephone-event RTP packet and how to send it.
type Packet struct {
	Payload [4]byte
	Marker  bool // set the RTP marker bit: the event's first packet
	End     bool // an end packet: the event is over, Payload holds its full duration
}

// Encode builds the payloads of one event for key (RFC 4733 §2.5): one packet
// per 20 ms of duration, rounded up, the last one marked as the end and sent
// twice more. The caller sends all of them with the SAME RTP timestamp (the
// event's start) and consecutive sequence numbers, one every 20 ms with the
// marker bit on the first, and the three end packets back to back. Volume
// is the power level in -dBm0 (0-63; 10 is typical).
func Encode(key rune, duration time.Duration, volume uint8) ([]Packet, error) {
	event, ok := EventOfKey(key)
	if !ok {
		return nil, fmt.Errorf("encode %q: %w", key, ErrInvalidKey)
	}
	if volume > maxVolume {
		return nil, fmt.Errorf("encode %q: volume %d out of range 0-%d", key, volume, maxVolume)
	}
	if duration <= 0 || duration > maxDuration {
		return nil, fmt.Errorf("encode %q: duration %v out of range (0, %v]", key, duration, maxDuration)
	}
	n := int((duration + packetTime - 1) / packetTime)
	packets := make([]Packet, 0, n+endRepeats-1)
	for i := 1; i <= n; i++ {
		// The duration field counts the samples since the event's start,
		// including this packet's 20 ms (§2.5.1.2).
		d := i * samplesPerPacket
		p := Packet{
			Payload: [4]byte{event, volume, byte(d >> 8), byte(d)},
			Marker:  i == 1,
			End:     i == n,
		}
		if p.End {
			p.Payload[1] |= 0x80
		}
		packets = append(packets, p)
	}
	last := packets[n-1]
	last.Marker = false
	for range endRepeats - 1 {
		packets = append(packets, last)
	}
	return packets, nil
}
