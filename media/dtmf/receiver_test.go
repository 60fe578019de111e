package dtmf

import (
	"path/filepath"
	"testing"
)

// sippPcaps maps sipp's RFC 2833 captures to the key each one carries.
var sippPcaps = map[string]rune{
	"dtmf_2833_0.pcap": '0', "dtmf_2833_1.pcap": '1', "dtmf_2833_2.pcap": '2',
	"dtmf_2833_3.pcap": '3', "dtmf_2833_4.pcap": '4', "dtmf_2833_5.pcap": '5',
	"dtmf_2833_6.pcap": '6', "dtmf_2833_7.pcap": '7', "dtmf_2833_8.pcap": '8',
	"dtmf_2833_9.pcap": '9', "dtmf_2833_star.pcap": '*', "dtmf_2833_pound.pcap": '#',
}

const sippDir = "/usr/share/sip-tester"

func TestReceiverSippPcaps(t *testing.T) {
	all := &Receiver{} // every capture in turn, as one stream
	var allKeys []rune
	for name, want := range sippPcaps {
		packets := readPcap(t, filepath.Join(sippDir, name))
		if len(packets) != 10 || !packets[0].marker {
			t.Fatalf("%s: %d packets, want 10 starting with the marker", name, len(packets))
		}
		for _, skip := range []int{-1, 0, 1} { // -1: none lost; 0: first (with marker) lost
			r := &Receiver{}
			var got []rune
			for i, p := range packets {
				if p.payloadType != 101 {
					t.Fatalf("%s: packet %d has payload type %d, want 101", name, i, p.payloadType)
				}
				if i == skip {
					continue
				}
				if k, ok := r.Feed(p.payload, p.timestamp); ok {
					got = append(got, k)
				}
			}
			if string(got) != string(want) {
				t.Errorf("%s with packet %d lost: keys %q, want %q", name, skip, string(got), string(want))
			}
		}
		for _, p := range packets {
			if k, ok := all.Feed(p.payload, p.timestamp); ok {
				allKeys = append(allKeys, k)
			}
		}
	}
	if len(allKeys) != len(sippPcaps) {
		t.Errorf("all captures through one receiver: keys %q, want %d keys", string(allKeys), len(sippPcaps))
	}
}

// ev builds a telephone-event payload.
func ev(event uint8, end bool, duration uint16) []byte {
	p := []byte{event, 10, byte(duration >> 8), byte(duration)}
	if end {
		p[1] |= 0x80
	}
	return p
}

type feed struct {
	payload   []byte
	timestamp uint32
}

func TestReceiver(t *testing.T) {
	tests := []struct {
		name  string
		feeds []feed
		want  string
	}{
		{"one press", []feed{
			{ev(5, false, 160), 1000}, {ev(5, false, 320), 1000}, {ev(5, false, 480), 1000},
			{ev(5, true, 640), 1000}, {ev(5, true, 640), 1000}, {ev(5, true, 640), 1000},
		}, "5"},
		{"first packets lost, marker with them", []feed{
			{ev(1, false, 480), 1000}, {ev(1, true, 640), 1000}, {ev(1, true, 640), 1000},
		}, "1"},
		{"only end packets arrive", []feed{
			{ev(11, true, 800), 7}, {ev(11, true, 800), 7}, {ev(11, true, 800), 7},
		}, "#"},
		{"two presses of the same key", []feed{
			{ev(3, false, 160), 1000}, {ev(3, true, 320), 1000}, {ev(3, true, 320), 1000},
			{ev(3, false, 160), 2600}, {ev(3, true, 320), 2600}, {ev(3, true, 320), 2600},
		}, "33"},
		{"different keys", []feed{
			{ev(1, false, 160), 1000}, {ev(1, true, 320), 1000},
			{ev(2, false, 160), 2000}, {ev(2, true, 320), 2000},
			{ev(10, false, 160), 3000}, {ev(15, false, 160), 4000},
		}, "12*D"},
		{"late retransmission of the previous event", []feed{
			{ev(1, false, 160), 1000}, {ev(2, false, 160), 2000},
			{ev(1, true, 320), 1000}, {ev(2, true, 320), 2000},
		}, "12"},
		{"timestamp wraps", []feed{
			{ev(7, false, 160), 0xffffff00}, {ev(7, true, 320), 0xffffff00},
			{ev(7, false, 160), 0x00000060}, {ev(7, true, 320), 0x00000060},
			{ev(8, false, 160), 0x00001000},
		}, "778"},
		{"reordered: end before start", []feed{
			{ev(9, true, 480), 500}, {ev(9, false, 160), 500}, {ev(9, false, 320), 500},
		}, "9"},
		{"sender reuses a timestamp for another key", []feed{
			{ev(4, false, 160), 42}, {ev(4, true, 320), 42}, {ev(6, false, 160), 42},
		}, "46"},
		{"short and non-key payloads ignored", []feed{
			{nil, 1}, {[]byte{5}, 2}, {[]byte{5, 10, 0}, 3},
			{ev(16, false, 160), 4}, // flash
			{ev(36, false, 160), 5}, // fax CNG
			{ev(0, false, 160), 6},
		}, "0"},
		{"longer payload: redundancy beyond the first event block", []feed{
			{append(ev(2, false, 160), 0xff, 0xff, 0xff, 0xff), 9},
		}, "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Receiver
			var got []rune
			for _, f := range tt.feeds {
				if k, ok := r.Feed(f.payload, f.timestamp); ok {
					got = append(got, k)
				}
			}
			if string(got) != tt.want {
				t.Errorf("keys %q, want %q", string(got), tt.want)
			}
		})
	}
}

func TestReceiverRemembersRecentEvents(t *testing.T) {
	var r Receiver
	for i := range uint32(recentEvents) {
		if _, ok := r.Feed(ev(1, false, 160), 1000+i*800); !ok {
			t.Fatalf("event %d not reported", i)
		}
	}
	// All recentEvents events are remembered: their retransmissions are ignored.
	for i := range uint32(recentEvents) {
		if k, ok := r.Feed(ev(1, true, 320), 1000+i*800); ok {
			t.Errorf("retransmission of event %d reported %q again", i, k)
		}
	}
	// One more event pushes out the oldest, which would be reported again.
	r.Feed(ev(1, false, 160), 99999)
	if _, ok := r.Feed(ev(1, true, 320), 1000); !ok {
		t.Errorf("event older than %d events still remembered", recentEvents)
	}
}

func TestReceiverAllocs(t *testing.T) {
	var r Receiver
	p := ev(5, false, 160)
	var ts uint32
	allocs := testing.AllocsPerRun(1000, func() {
		ts += 800
		r.Feed(p, ts)
		r.Feed(p, ts)
	})
	if allocs != 0 {
		t.Errorf("Feed allocates %.1f times per call, want 0", allocs)
	}
}

func FuzzReceiver(f *testing.F) {
	f.Add([]byte{5, 10, 0, 160}, uint32(0), []byte{5, 0x8a, 1, 64}, uint32(0))
	f.Add([]byte{}, uint32(1), []byte{0xff}, uint32(0xffffffff))
	f.Add([]byte{16, 10, 0, 0, 1}, uint32(7), []byte{11, 10, 0, 0}, uint32(7))
	f.Fuzz(func(t *testing.T, p1 []byte, ts1 uint32, p2 []byte, ts2 uint32) {
		var r Receiver
		for range 3 {
			for _, f := range []feed{{p1, ts1}, {p2, ts2}} {
				k, ok := r.Feed(f.payload, f.timestamp)
				if ok {
					if want, _ := KeyOfEvent(f.payload[0]); k != want {
						t.Fatalf("Feed(%x) = %q, want %q", f.payload, k, want)
					}
				}
			}
		}
		// Feeding the same packets again reports nothing new.
		for _, f := range []feed{{p1, ts1}, {p2, ts2}} {
			if k, ok := r.Feed(f.payload, f.timestamp); ok {
				t.Fatalf("Feed(%x, %d) reported %q twice", f.payload, f.timestamp, k)
			}
		}
	})
}

func BenchmarkReceiver(b *testing.B) {
	var r Receiver
	packets := [][]byte{ev(5, false, 160), ev(5, false, 320), ev(5, false, 480), ev(5, true, 640), ev(5, true, 640), ev(5, true, 640)}
	b.ReportAllocs()
	var ts uint32
	var keys int
	for i := 0; b.Loop(); i++ {
		if i%len(packets) == 0 {
			ts += 1600
		}
		if _, ok := r.Feed(packets[i%len(packets)], ts); ok {
			keys++
		}
	}
	if keys == 0 {
		b.Fatal("no key reported")
	}
}
