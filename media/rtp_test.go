package media

import (
	"testing"
	"time"

	"github.com/pion/rtp"
)

func TestParseRTP(t *testing.T) {
	withCSRC := pkt(0, 1, 0, 1, frame(1))
	withCSRC[0] |= 2 // claims two CSRCs: 8 more header bytes
	ext := append([]byte{0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 1, 0x10, 0xff, 0, 0}, frame(1)...)
	padded := append(pkt(0, 1, 0, 1, frame(1)), 0, 0, 3)
	padded[0] |= 0x20

	tests := []struct {
		name       string
		pkt        []byte
		start, end int
		ok         bool
	}{
		{"plain", pkt(0, 1, 0, 1, frame(1)), 12, 172, true},
		{"CSRC list", withCSRC, 20, 172, true},
		{"header extension", ext, 20, 180, true},
		{"padding", padded, 12, 172, true},
		{"header only", pkt(0, 1, 0, 1, nil), 12, 12, true},
		{"short", []byte{0x80, 0, 0, 1}, 0, 0, false},
		{"version 1", append([]byte{0x40}, pkt(0, 1, 0, 1, nil)[1:]...), 0, 0, false},
		{"RTCP receiver report", []byte{0x81, 201, 0, 7, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0}, 0, 0, false},
		{"CSRC past the end", append([]byte{0x8f}, pkt(0, 1, 0, 1, frame(1)[:20])[1:]...), 0, 0, false},
		{"extension past the end", ext[:18], 0, 0, false},
		{"padding of zero", append(pkt(0, 1, 0, 1, nil), 0), 0, 0, false},
	}
	tests[len(tests)-1].pkt[0] |= 0x20
	for _, tt := range tests {
		start, end, ok := parseRTP(tt.pkt)
		if ok != tt.ok || (ok && (start != tt.start || end != tt.end)) {
			t.Errorf("%s: parseRTP = %d, %d, %v; want %d, %d, %v", tt.name, start, end, ok, tt.start, tt.end, tt.ok)
		}
	}
}

func FuzzParseRTP(f *testing.F) {
	f.Add(pkt(0, 1, 0, 1, frame(1)))
	f.Add([]byte{0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xbe, 0xde, 0, 1, 0x10, 0xff, 0, 0})
	f.Add([]byte{0xa0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 2})
	f.Add([]byte{0x81, 200, 0, 6})
	f.Fuzz(func(t *testing.T, b []byte) {
		start, end, ok := parseRTP(b)
		var p rtp.Packet
		pionOK := p.Unmarshal(b) == nil && p.Version == 2 && (p.PayloadType < 64 || p.PayloadType > 95)
		if ok && (start > end || end > len(b)) {
			t.Fatalf("payload [%d:%d] out of %d bytes", start, end, len(b))
		}
		// pion also rejects malformed RFC 8285 extension contents, which a
		// relay does not look into; otherwise the two must agree.
		if pionOK && (!ok || len(p.Payload) != end-start || (len(p.Payload) > 0 && &p.Payload[0] != &b[start])) {
			t.Fatalf("pion reads payload of %d bytes, parseRTP = %d, %d, %v", len(p.Payload), start, end, ok)
		}
	})
}

func TestOutStream(t *testing.T) {
	clock := newFakeClock()
	s := newOutStream(0xabc, 65535, 4294967200)
	type want struct {
		seq    uint16
		ts     uint32
		marker bool
	}
	steps := []struct {
		name    string
		advance time.Duration
		in      []byte
		want    want
	}{
		{"first packet takes the random base", 0, pkt(0, 10, 1000, 1, nil), want{65535, 4294967200, true}},
		{"same source: deltas kept, across wrap", 20 * time.Millisecond, pkt(0, 11, 1160, 1, nil), want{0, 64, false}},
		{"same source: a gap in its sequence is kept", 40 * time.Millisecond, pkt(0, 13, 1480, 1, nil), want{2, 384, false}},
		{"late packet", 0, pkt(0, 12, 1320, 1, nil), want{1, 224, false}},
		{"new source after 1 s", time.Second, pkt(0, 500, 90000, 2, nil), want{3, 384 + 8000, true}},
		{"new source at once: one packet's worth", 0, pkt(0, 7, 7, 3, nil), want{4, 384 + 8000 + 160, true}},
		{"back to an earlier source is a change too", 5 * time.Millisecond, pkt(0, 14, 1640, 1, nil), want{5, 384 + 8000 + 320, true}},
	}
	for _, st := range steps {
		clock.Advance(st.advance)
		s.rewrite(st.in, clock.Now())
		var p rtp.Packet
		if err := p.Unmarshal(st.in); err != nil {
			t.Fatal(err)
		}
		if got := (want{p.SequenceNumber, p.Timestamp, p.Marker}); got != st.want || p.SSRC != 0xabc {
			t.Errorf("%s: got seq %d ts %d marker %v ssrc %#x, want %+v", st.name, got.seq, got.ts, got.marker, p.SSRC, st.want)
		}
	}
}
