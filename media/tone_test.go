package media

import (
	"context"
	"math"
	"testing"
	"time"
)

// The peer receives count × (on+off)/20 ms packets in the leg's codec, and
// the beeps decode to the requested frequency.
func TestPlayTone(t *testing.T) {
	for _, codec := range []Codec{pcma, pcmu} {
		t.Run(codec.Name, func(t *testing.T) {
			p := newPhone(t, "127.0.0.1")
			l := newTestLeg(t, "127.0.0.1", nil)
			l.SetRemote(Remote{Addr: p.addr, Codec: codec})
			if err := PlayTone(context.Background(), l, 1000, 100*time.Millisecond, 60*time.Millisecond, 2); err != nil {
				t.Fatal(err)
			}
			const want = 2 * (5 + 3)
			crossings, loud, markers := 0, 0, 0
			prev := 0
			for i := 0; i < want; i++ {
				pkt, _ := p.recv()
				if pkt.PayloadType != codec.PayloadType || len(pkt.Payload) != 160 {
					t.Fatalf("packet %d: pt %d, %d bytes", i, pkt.PayloadType, len(pkt.Payload))
				}
				if pkt.Marker {
					markers++
				}
				var energy float64
				for _, b := range pkt.Payload {
					v := decodeUlaw(b)
					if codec.Name == "PCMA" {
						v = decodeAlaw(b)
					}
					energy += float64(v) * float64(v)
					if (v >= 0) != (prev >= 0) {
						crossings++
					}
					prev = v
				}
				if math.Sqrt(energy/160) > 1000 {
					loud++
				}
			}
			if loud != 10 {
				t.Errorf("%d loud packets, want 10 (2 beeps of 100 ms)", loud)
			}
			if markers != 1 {
				t.Errorf("%d packets with the marker bit, want 1", markers)
			}
			// 1000 Hz for 0.2 s: about 400 zero crossings.
			if crossings < 380 || crossings > 420 {
				t.Errorf("%d zero crossings, want about 400 for 1 kHz", crossings)
			}
		})
	}
}

func TestPlayToneStopsWithContext(t *testing.T) {
	p := newPhone(t, "127.0.0.1")
	l := newTestLeg(t, "127.0.0.1", nil)
	l.SetRemote(Remote{Addr: p.addr, Codec: pcma})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := PlayTone(ctx, l, 440, time.Second, 0, 10); err != context.DeadlineExceeded {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("PlayTone kept going %s after its context ended", d)
	}
}
