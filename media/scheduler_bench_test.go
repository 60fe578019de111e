package media

import (
	"net"
	"net/netip"
	"testing"
	"time"
)

// BenchmarkPlaybackPath measures one frame of a cached prompt going out:
// scheduler tick → frame built in the reused buffer → Leg.WriteRTP (stream
// rewrite) → socket → the phone.
func BenchmarkPlaybackPath(b *testing.B) {
	s := NewScheduler()
	leg := newTestLeg(b, "127.0.0.1", nil)
	ph := newPhone(b, "127.0.0.1")
	leg.SetRemote(Remote{Addr: ph.addr, Codec: pcma})
	s.Play(leg, countingPrompt(5*pcmRate), true)
	base := time.Now()
	s.base = base
	in := make([]byte, 1500)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		s.tick(base.Add(time.Duration(i) * schedInterval))
		if _, _, err := ph.conn.ReadFromUDPAddrPort(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSchedulerTick1600 measures one tick of the scheduler playing to
// 1,600 calls at once: 1,600 frames built and sent through 1,600 legs'
// sockets (to one sink that drops them). The µs/tick figure against the
// 20 ms budget is the CPU share of playback at that load.
func BenchmarkSchedulerTick1600(b *testing.B) {
	const calls = 1600
	sink, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
	if err != nil {
		b.Fatal(err)
	}
	defer sink.Close()
	go func() { // drain, as phones would
		buf := make([]byte, 1500)
		for {
			if _, _, err := sink.ReadFromUDPAddrPort(buf); err != nil {
				return
			}
		}
	}()
	s := NewScheduler()
	p := countingPrompt(10 * pcmRate)
	for i := range calls {
		conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort("127.0.0.1:0")))
		if err != nil {
			b.Fatal(err)
		}
		leg := NewLeg(conn, nil)
		defer leg.Close()
		codec := pcmu
		if i%2 == 1 {
			codec = pcma
		}
		leg.SetRemote(Remote{Addr: sink.LocalAddr().(*net.UDPAddr).AddrPort(), Codec: codec})
		s.Play(leg, p, true)
	}
	base := time.Now()
	s.base = base
	s.tick(base) // admit them all
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		s.tick(base.Add(time.Duration(i+1) * schedInterval))
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/tick")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/calls, "ns/frame")
	if s.Stats().Active != calls {
		b.Fatalf("%d playbacks active, want %d", s.Stats().Active, calls)
	}
}
