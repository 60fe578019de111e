package media

import (
	"encoding/binary"
	"testing"
)

// BenchmarkBridgeRelay measures the whole packet path over loopback
// sockets: phone A → leg A's reader → Bridge (PT map, transcode) → leg B's
// WriteRTP (stream rewrite) → phone B. Allocations are counted across all
// goroutines, so 0 allocs/op means the reader path does not allocate either.
func BenchmarkBridgeRelay(b *testing.B) {
	for _, bb := range []struct {
		name   string
		codecB Codec
	}{
		{"same-codec", pcmu},
		{"transcode", pcma},
	} {
		b.Run(bb.name, func(b *testing.B) {
			const ip = "127.0.0.1"
			a, pb := newPhone(b, ip), newPhone(b, ip)
			la, lb := newTestLeg(b, ip, nil), newTestLeg(b, ip, nil)
			la.SetRemote(Remote{Addr: a.addr, Codec: pcmu, EventPT: 101})
			lb.SetRemote(Remote{Addr: pb.addr, Codec: bb.codecB, EventPT: 101})
			defer Bridge(la, lb)()

			out := pkt(0, 0, 0, 0xa, frame(0x11))
			in := make([]byte, 1500)
			dst := la.LocalAddr()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				binary.BigEndian.PutUint16(out[2:], uint16(i))
				binary.BigEndian.PutUint32(out[4:], uint32(i)*160)
				if _, err := a.conn.WriteToUDPAddrPort(out, dst); err != nil {
					b.Fatal(err)
				}
				if _, _, err := pb.conn.ReadFromUDPAddrPort(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
