package media

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/zaf/g711"
)

// frameSamples is one 20 ms packet at 8 kHz.
const frameSamples = 160

// toneSSRC identifies the tone as a source of its own; the leg's output
// stream maps it into the leg's SSRC and sequence.
const toneSSRC = 0x746f6e65

// PlayTone sends a tone pattern to l's peer: count beeps of freq Hz lasting
// on, each followed by off of silence, paced at the packet time (20 ms) so
// the peer's jitter buffer sees a normal stream. It blocks until done or
// ctx ends. This is the confirmation beep of feature codes; prompts and
// greetings come with the player.
func PlayTone(ctx context.Context, l *Leg, freq float64, on, off time.Duration, count int) error {
	codec := l.Remote().Codec
	var encode func(int16) uint8
	switch codec.Name {
	case "PCMA":
		encode = g711.EncodeAlawFrame
	case "PCMU":
		encode = g711.EncodeUlawFrame
	default:
		return fmt.Errorf("play tone: codec %q is not G.711", codec.Name)
	}
	onFrames, offFrames := int(on/(20*time.Millisecond)), int(off/(20*time.Millisecond))
	pkt := make([]byte, rtpHeaderMin+frameSamples)
	pkt[0] = 0x80
	pkt[1] = codec.PayloadType
	silence := encode(0)
	var seq uint16
	var ts uint32
	sample := 0
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for beep := 0; beep < count; beep++ {
		for f := 0; f < onFrames+offFrames; f++ {
			payload := pkt[rtpHeaderMin:]
			for i := range payload {
				if f < onFrames {
					// -12 dBFS: clearly audible, far from clipping.
					payload[i] = encode(int16(8000 * math.Sin(2*math.Pi*freq*float64(sample)/8000)))
					sample++
				} else {
					payload[i] = silence
				}
			}
			pkt[1] = codec.PayloadType
			if beep == 0 && f == 0 {
				pkt[1] |= 0x80 // marker: start of a talk spurt
			}
			// WriteRTP rewrites the header in place, so set all of it every time.
			binary.BigEndian.PutUint16(pkt[2:], seq)
			binary.BigEndian.PutUint32(pkt[4:], ts)
			binary.BigEndian.PutUint32(pkt[8:], toneSSRC)
			seq++
			ts += frameSamples
			if err := l.WriteRTP(pkt); err != nil {
				return fmt.Errorf("play tone: %w", err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-tick.C:
			}
		}
	}
	return nil
}
