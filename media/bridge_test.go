package media

import (
	"bytes"
	"testing"
	"time"
)

// TestBridgeStreamRewrite runs phone A → leg A → Bridge → leg B → phone B
// and checks that B sees one continuous stream across a source change.
func TestBridgeStreamRewrite(t *testing.T) {
	for _, ip := range []string{"127.0.0.1", "::1"} {
		t.Run(ip, func(t *testing.T) {
			if ip == "::1" {
				if err := canBind(ip); err != nil {
					t.Skipf("no IPv6 loopback here (binding ::1 fails: %v)", err)
				}
			}
			clock := newFakeClock()
			a, b := newPhone(t, ip), newPhone(t, ip)
			la, lb := newTestLeg(t, ip, clock), newTestLeg(t, ip, clock)
			la.SetRemote(Remote{Addr: a.addr, Codec: pcmu, EventPT: 101})
			lb.SetRemote(Remote{Addr: b.addr, Codec: pcmu, EventPT: 101})
			defer Bridge(la, lb)()

			const srcSSRC = 0x1111
			var first, last uint16
			var firstTS, lastTS, ssrc uint32
			for i := range 5 {
				p := pkt(0, uint16(65533+i), uint32(4294967000+160*i), srcSSRC, frame(byte(i))) // both wrap
				if i == 3 {
					p[1] |= 0x80 // a talkspurt marker from the source survives
				}
				a.send(la.LocalAddr(), p)
				got, from := b.recv()
				if from != lb.LocalAddr() {
					t.Errorf("packet %d came from %s, want leg B %s", i, from, lb.LocalAddr())
				}
				if i == 0 {
					first, firstTS, ssrc = got.SequenceNumber, got.Timestamp, got.SSRC
					if ssrc == srcSSRC {
						t.Errorf("SSRC not rewritten: %#x", ssrc)
					}
				}
				if got.SSRC != ssrc || got.SequenceNumber != first+uint16(i) || got.Timestamp != firstTS+uint32(160*i) {
					t.Errorf("packet %d: ssrc %#x seq %d ts %d, want %#x %d %d",
						i, got.SSRC, got.SequenceNumber, got.Timestamp, ssrc, first+uint16(i), firstTS+uint32(160*i))
				}
				if want := i == 0 || i == 3; got.Marker != want {
					t.Errorf("packet %d: marker %v, want %v", i, got.Marker, want)
				}
				if !bytes.Equal(got.Payload, frame(byte(i))) {
					t.Errorf("packet %d: payload changed", i)
				}
				last, lastTS = got.SequenceNumber, got.Timestamp
				clock.Advance(20 * time.Millisecond)
			}

			// A new source (say, the branch that answered a forked call)
			// continues the stream after a 1.02 s pause.
			clock.Advance(time.Second)
			for i := range 2 {
				a.send(la.LocalAddr(), pkt(0, uint16(7000+i), uint32(123+160*i), 0x2222, frame(9)))
				got, _ := b.recv()
				wantSeq, wantTS := last+1+uint16(i), lastTS+8160+uint32(160*i)
				if got.SSRC != ssrc || got.SequenceNumber != wantSeq || got.Timestamp != wantTS || got.Marker != (i == 0) {
					t.Errorf("new source packet %d: ssrc %#x seq %d ts %d marker %v, want %#x %d %d %v",
						i, got.SSRC, got.SequenceNumber, got.Timestamp, got.Marker, ssrc, wantSeq, wantTS, i == 0)
				}
				clock.Advance(20 * time.Millisecond)
			}

			// And the other way round.
			b.send(lb.LocalAddr(), pkt(0, 1, 1, 0x3333, frame(7)))
			if got, from := a.recv(); from != la.LocalAddr() || !bytes.Equal(got.Payload, frame(7)) || got.SSRC == 0x3333 {
				t.Errorf("B → A: got ssrc %#x payload %x from %s", got.SSRC, got.Payload[:2], from)
			}

			// A phone can read a packet before the sending leg has counted
			// it (the count follows the write syscall): poll the counters.
			eventually(t, "leg counters to settle", func() bool {
				sa, sb := la.Stats(), lb.Stats()
				return sa.PacketsIn == 7 && sa.PacketsOut == 1 && sb.PacketsOut == 7 && sb.PacketsIn == 1
			})
			if s := la.Stats(); s.PacketsIn != 7 || s.BytesIn != 7*172 || s.PacketsOut != 1 || s.Source != a.addr || s.LastIn.IsZero() {
				t.Errorf("leg A stats = %+v, want 7 packets (1204 bytes) in from %s, 1 out", s, a.addr)
			}
			if s := lb.Stats(); s.PacketsOut != 7 || s.BytesOut != 7*172 || s.PacketsIn != 1 {
				t.Errorf("leg B stats = %+v, want 7 packets (1204 bytes) out, 1 in", s)
			}
		})
	}
}

// TestBridgePayloads checks payload-type mapping, transcoding and dropping.
func TestBridgePayloads(t *testing.T) {
	event := []byte{0x05, 0x8a, 0x03, 0x20} // key 5, end, volume 10, 800 samples
	allBytes := make([]byte, 256)
	for i := range allBytes {
		allBytes[i] = byte(i)
	}
	rtcp := []byte{0x80, 200, 0, 6, 0, 0, 0, 0xa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	v1 := pkt(0, 1, 0, 0xa, frame(1))
	v1[0] = 0x40 // RTP version 1

	type out struct {
		pt      uint8
		payload []byte
	}
	tests := []struct {
		name string
		a, b Remote
		send []byte
		want *out // nil: dropped
	}{
		{"same codec",
			Remote{Codec: pcmu, EventPT: 101}, Remote{Codec: pcmu, EventPT: 101},
			pkt(0, 1, 0, 0xa, frame(0x12)), &out{0, frame(0x12)}},
		{"same codec, other payload type",
			Remote{Codec: pcmu, EventPT: 101}, Remote{Codec: Codec{Name: "PCMU", PayloadType: 112, ClockRate: 8000}, EventPT: 101},
			pkt(0, 1, 0, 0xa, frame(0x12)), &out{112, frame(0x12)}},
		{"PCMA to PCMU",
			Remote{Codec: pcma, EventPT: 101}, Remote{Codec: pcmu, EventPT: 101},
			pkt(8, 1, 0, 0xa, allBytes), &out{0, tableOf(alawToUlaw)}},
		{"PCMU to PCMA",
			Remote{Codec: pcmu, EventPT: 101}, Remote{Codec: pcma, EventPT: 101},
			pkt(0, 1, 0, 0xa, allBytes), &out{8, tableOf(ulawToAlaw)}},
		{"telephone-event 101 to 96",
			Remote{Codec: pcmu, EventPT: 101}, Remote{Codec: pcma, EventPT: 96},
			pkt(101, 1, 0, 0xa, event), &out{96, event}},
		{"telephone-event to a peer without events",
			Remote{Codec: pcmu, EventPT: 101}, Remote{Codec: pcmu},
			pkt(101, 1, 0, 0xa, event), nil},
		{"telephone-event from a peer that did not offer it",
			Remote{Codec: pcmu}, Remote{Codec: pcmu, EventPT: 101},
			pkt(101, 1, 0, 0xa, event), nil},
		{"comfort noise",
			Remote{Codec: pcmu, EventPT: 101}, Remote{Codec: pcmu, EventPT: 101},
			pkt(13, 1, 0, 0xa, []byte{40}), nil},
		{"payload type not negotiated",
			Remote{Codec: pcmu, EventPT: 101}, Remote{Codec: pcmu, EventPT: 101},
			pkt(8, 1, 0, 0xa, frame(1)), nil},
		{"codecs we cannot transcode",
			Remote{Codec: Codec{Name: "G722", PayloadType: 9, ClockRate: 8000}, EventPT: 101}, Remote{Codec: pcmu, EventPT: 101},
			pkt(9, 1, 0, 0xa, frame(1)), nil},
		{"RTCP sender report", Remote{Codec: pcmu, EventPT: 101}, Remote{Codec: pcmu, EventPT: 101}, rtcp, nil},
		{"RTP version 1", Remote{Codec: pcmu, EventPT: 101}, Remote{Codec: pcmu, EventPT: 101}, v1, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const ip = "127.0.0.1"
			a, b := newPhone(t, ip), newPhone(t, ip)
			la, lb := newTestLeg(t, ip, nil), newTestLeg(t, ip, nil)
			tt.a.Addr, tt.b.Addr = a.addr, b.addr
			la.SetRemote(tt.a)
			lb.SetRemote(tt.b)
			defer Bridge(la, lb)()

			a.send(la.LocalAddr(), tt.send)
			// A packet that always passes follows, so that a dropped packet
			// shows as the sentinel arriving first.
			sentinel, sentinelPT := frame(0x55), tt.b.Codec.PayloadType
			if tt.a.Codec.Name != tt.b.Codec.Name {
				sentinel, sentinelPT = event, tt.b.EventPT
				a.send(la.LocalAddr(), pkt(tt.a.EventPT, 2, 160, 0xa, sentinel))
			} else {
				a.send(la.LocalAddr(), pkt(tt.a.Codec.PayloadType, 2, 160, 0xa, sentinel))
			}
			want := tt.want
			if want == nil {
				want = &out{sentinelPT, sentinel}
			}
			got, _ := b.recv()
			if got.PayloadType != want.pt || !bytes.Equal(got.Payload, want.payload) {
				t.Errorf("B got PT %d payload % x, want PT %d payload % x", got.PayloadType, head(got.Payload), want.pt, head(want.payload))
			}
		})
	}
}

func tableOf(t *[256]byte) []byte { return t[:] }

func head(b []byte) []byte { return b[:min(len(b), 8)] }

// TestTranscodeRoundTrip sends every A-law byte from a PCMA phone to a PCMU
// phone and back, and checks the audio survives within G.711's precision.
func TestTranscodeRoundTrip(t *testing.T) {
	const ip = "127.0.0.1"
	a, b := newPhone(t, ip), newPhone(t, ip)
	la, lb := newTestLeg(t, ip, nil), newTestLeg(t, ip, nil)
	la.SetRemote(Remote{Addr: a.addr, Codec: pcma})
	lb.SetRemote(Remote{Addr: b.addr, Codec: pcmu})
	defer Bridge(la, lb)()

	alaw := make([]byte, 256)
	for i := range alaw {
		alaw[i] = byte(i)
	}
	a.send(la.LocalAddr(), pkt(8, 1, 0, 0xa, alaw))
	ulaw, _ := b.recv()
	if ulaw.PayloadType != 0 {
		t.Fatalf("B got PT %d, want 0 (PCMU)", ulaw.PayloadType)
	}
	b.send(lb.LocalAddr(), pkt(0, 1, 0, 0xb, ulaw.Payload))
	back, _ := a.recv()
	if back.PayloadType != 8 {
		t.Fatalf("A got PT %d, want 8 (PCMA)", back.PayloadType)
	}
	for i, v := range alaw {
		orig, mid, end := decodeAlaw(v), decodeUlaw(ulaw.Payload[i]), decodeAlaw(back.Payload[i])
		// The two laws quantise differently: allow one step of the coarser one.
		tol := abs(orig)/16 + 16
		if abs(orig-mid) > tol || abs(orig-end) > tol {
			t.Errorf("A-law %#02x = %d became µ-law %d and A-law %d", v, orig, mid, end)
		}
	}
}

func abs(v int) int { return max(v, -v) }

// TestUnbridgeKeepsNewHandler checks that a stale unbridge does not remove
// a handler installed after it (say, a player that took over the leg).
func TestUnbridgeKeepsNewHandler(t *testing.T) {
	la, lb := newTestLeg(t, "127.0.0.1", nil), newTestLeg(t, "127.0.0.1", nil)
	unbridge := Bridge(la, lb)
	h := handlerFunc(func(*Leg, []byte) {})
	la.SetHandler(h)
	unbridge()
	if la.handler.Load() == nil {
		t.Error("unbridge removed leg A's new handler")
	}
	if lb.handler.Load() != nil {
		t.Error("unbridge left leg B's relay in place")
	}
	la.SetHandler(nil)
	if la.handler.Load() != nil {
		t.Error("SetHandler(nil) kept a handler")
	}
}

type handlerFunc func(*Leg, []byte)

func (f handlerFunc) HandleRTP(l *Leg, pkt []byte) { f(l, pkt) }
