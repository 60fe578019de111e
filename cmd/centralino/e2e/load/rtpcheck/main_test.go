package main

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	"github.com/pion/rtp"
)

// capture builds a pcap (Ethernet link) of RTP packets from one sender.
type capture struct{ bytes.Buffer }

func newCapture() *capture {
	c := &capture{}
	var hdr [24]byte
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b23c4d) // nanosecond timestamps
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 65535)
	binary.LittleEndian.PutUint32(hdr[20:], linkEthernet)
	c.Write(hdr[:])
	return c
}

func (c *capture) add(t testing.TB, at time.Duration, ssrc uint32, seq uint16, ts uint32) {
	t.Helper()
	c.addHeader(t, at, rtp.Header{Version: 2, PayloadType: 8, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc})
}

func (c *capture) addHeader(t testing.TB, at time.Duration, h rtp.Header) {
	t.Helper()
	payload, err := (&rtp.Packet{Header: h, Payload: make([]byte, 160)}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 14+20+8, 14+20+8+len(payload))
	binary.BigEndian.PutUint16(frame[12:], 0x0800)
	ip := frame[14:]
	ip[0] = 0x45
	ip[9] = 17
	copy(ip[12:], []byte{127, 0, 0, 1})
	copy(ip[16:], []byte{127, 0, 0, 2})
	binary.BigEndian.PutUint16(ip[20:], 20000)
	binary.BigEndian.PutUint16(ip[22:], 40000)
	frame = append(frame, payload...)
	var rec [16]byte
	binary.LittleEndian.PutUint32(rec[0:], uint32(at/time.Second))
	binary.LittleEndian.PutUint32(rec[4:], uint32(at%time.Second))
	binary.LittleEndian.PutUint32(rec[8:], uint32(len(frame)))
	binary.LittleEndian.PutUint32(rec[12:], uint32(len(frame)))
	c.Write(rec[:])
	c.Write(frame)
}

func TestAnalyse(t *testing.T) {
	const ptime = 20 * time.Millisecond
	tests := []struct {
		name string
		// mutate returns a packet's arrival, sequence number and timestamp,
		// or skip to leave it out.
		mutate      func(i int, at time.Duration, seq uint16, ts uint32) (time.Duration, uint16, uint32, bool)
		gaps, irreg int
		maxJitter   time.Duration
		ok          bool
		marker      int // the packet with the marker bit; 0 for none
	}{
		{"regular", func(i int, at time.Duration, seq uint16, ts uint32) (time.Duration, uint16, uint32, bool) {
			return at, seq, ts, false
		}, 0, 0, 0, true, 0},
		{"timestamp wraps", func(i int, at time.Duration, seq uint16, ts uint32) (time.Duration, uint16, uint32, bool) {
			return at, seq, ts + (1<<32 - 160*50), false
		}, 0, 0, 0, true, 0},
		{"small jitter", func(i int, at time.Duration, seq uint16, ts uint32) (time.Duration, uint16, uint32, bool) {
			if i%7 == 0 {
				at += 1500 * time.Microsecond
			}
			return at, seq, ts, false
		}, 0, 0, 1500 * time.Microsecond, true, 0},
		{"late packet", func(i int, at time.Duration, seq uint16, ts uint32) (time.Duration, uint16, uint32, bool) {
			if i == 60 {
				at += 5 * time.Millisecond
			}
			return at, seq, ts, false
		}, 0, 0, 5 * time.Millisecond, false, 0},
		{"lost packets", func(i int, at time.Duration, seq uint16, ts uint32) (time.Duration, uint16, uint32, bool) {
			return at, seq, ts, i == 30 || i == 31
		}, 2, 0, 0, false, 0},
		{"timestamp jump", func(i int, at time.Duration, seq uint16, ts uint32) (time.Duration, uint16, uint32, bool) {
			if i >= 40 {
				ts += 80 // half a packet: a gap in the audio
			}
			return at, seq, ts, false
		}, 0, 1, 0, false, 0},
		// A pause between two prompts: the next starts a talkspurt (marker)
		// with its timestamp moved on by the pause.
		{"talkspurt", func(i int, at time.Duration, seq uint16, ts uint32) (time.Duration, uint16, uint32, bool) {
			if i >= 50 {
				at += 200 * time.Millisecond
				ts += 1600
			}
			return at, seq, ts, false
		}, 0, 0, 0, true, 50},
		{"talkspurt out of time", func(i int, at time.Duration, seq uint16, ts uint32) (time.Duration, uint16, uint32, bool) {
			if i >= 50 {
				at += 200 * time.Millisecond
				ts += 1600 + 80 // 10 ms more than the pause: a drift
			}
			return at, seq, ts, false
		}, 0, 0, 10 * time.Millisecond, false, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCapture()
			for i := range 100 {
				at, seq, ts, skip := tt.mutate(i, time.Duration(i)*ptime+time.Second, uint16(65500+i), uint32(i*160))
				if !skip {
					c.addHeader(t, at, rtp.Header{Version: 2, PayloadType: 8, SequenceNumber: seq, Timestamp: ts, SSRC: 0x1234,
						Marker: tt.marker != 0 && i == tt.marker})
				}
			}
			c.add(t, 5*time.Second, 0x9999, 1, 0) // a fragment under min-packets: ignored
			rep, err := analyse(&c.Buffer, 50, 160)
			if err != nil {
				t.Fatal(err)
			}
			if rep.streams != 1 || rep.seqGaps != tt.gaps || rep.tsIrregular != tt.irreg {
				t.Errorf("streams %d gaps %d irregular %d, want 1, %d, %d", rep.streams, rep.seqGaps, rep.tsIrregular, tt.gaps, tt.irreg)
			}
			if got := pct(rep.jitter, 100); tt.irreg == 0 && got != tt.maxJitter {
				t.Errorf("max jitter %v, want %v", got, tt.maxJitter)
			}
			if got := rep.ok(2 * time.Millisecond); got != tt.ok {
				t.Errorf("ok = %v, want %v", got, tt.ok)
			}
		})
	}
}

func TestReadPcapRejectsOtherFormats(t *testing.T) {
	if _, err := analyse(bytes.NewReader([]byte("\x0a\x0d\x0d\x0a pcapng, not pcap....")), 1, 160); err == nil {
		t.Error("pcapng accepted")
	}
	c := newCapture()
	c.add(t, 0, 1, 1, 0)
	truncated := c.Bytes()[:c.Len()-10]
	if _, err := analyse(bytes.NewReader(truncated), 1, 160); err == nil {
		t.Error("truncated record accepted")
	}
}

func FuzzAnalyse(f *testing.F) {
	c := newCapture()
	for i := range 3 {
		c.add(f, time.Duration(i)*20*time.Millisecond, 1, uint16(i), uint32(i*160))
	}
	f.Add(c.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = analyse(bytes.NewReader(data), 1, 160)
	})
}
