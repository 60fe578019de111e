package media

import (
	"context"
	"encoding/binary"
	"path/filepath"
	"testing"
)

// notifier passes packets on to h, then says so: the benchmark waits for
// each packet to have gone all the way through.
type notifier struct {
	h    Handler
	done chan struct{}
}

func (n notifier) HandleRTP(from *Leg, pkt []byte) {
	n.h.HandleRTP(from, pkt)
	n.done <- struct{}{}
}

// BenchmarkRecordPath measures a voicemail's packet path over loopback:
// phone → leg's socket and reader → IVR handler → jitter buffer → G.711
// decoding → WAV writer (with its file write every second of audio).
// Allocations are counted across all goroutines.
func BenchmarkRecordPath(b *testing.B) {
	for _, codec := range []Codec{pcmu, pcma} {
		b.Run(codec.Name, func(b *testing.B) {
			leg := newTestLeg(b, "127.0.0.1", nil)
			ph := newPhone(b, "127.0.0.1")
			leg.SetRemote(Remote{Addr: ph.addr, Codec: codec, EventPT: 101})
			v := NewIVR(leg, NewScheduler(), IVROptions{})
			defer v.Close()
			w, err := CreateWAV(filepath.Join(b.TempDir(), "vm.wav"))
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			ctx, cancel := context.WithCancel(context.Background())
			stopped := make(chan struct{})
			go func() { v.Record(ctx, w, "#", 0, 0); close(stopped) }()
			defer func() { cancel(); <-stopped }()
			eventually(b, "recording", func() bool { v.mu.Lock(); defer v.mu.Unlock(); return v.rec != nil })
			done := make(chan struct{})
			leg.SetHandler(notifier{h: v, done: done})

			audio := pkt(codec.PayloadType, 0, 0, 0x5eed, frame(0x55))
			dst := leg.LocalAddr()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				binary.BigEndian.PutUint16(audio[2:], uint16(i))
				binary.BigEndian.PutUint32(audio[4:], uint32(i)*frameSamples)
				if _, err := ph.conn.WriteToUDPAddrPort(audio, dst); err != nil {
					b.Fatal(err)
				}
				<-done
			}
		})
	}
}
