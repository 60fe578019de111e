package dtmf

import (
	"errors"
	"testing"
	"time"
)

func TestEncode(t *testing.T) {
	tests := []struct {
		key       rune
		duration  time.Duration
		volume    uint8
		durations []uint16 // duration field of each packet
	}{
		{'5', 100 * time.Millisecond, 10, []uint16{160, 320, 480, 640, 800, 800, 800}},
		{'#', 90 * time.Millisecond, 10, []uint16{160, 320, 480, 640, 800, 800, 800}}, // rounded up
		{'*', 20 * time.Millisecond, 0, []uint16{160, 160, 160}},
		{'D', time.Millisecond, 63, []uint16{160, 160, 160}},
		{'0', 40 * time.Millisecond, 10, []uint16{160, 320, 320, 320}},
	}
	for _, tt := range tests {
		packets, err := Encode(tt.key, tt.duration, tt.volume)
		if err != nil {
			t.Fatalf("Encode(%q, %v, %d): %v", tt.key, tt.duration, tt.volume, err)
		}
		if len(packets) != len(tt.durations) {
			t.Fatalf("Encode(%q, %v, %d): %d packets, want %d", tt.key, tt.duration, tt.volume, len(packets), len(tt.durations))
		}
		event, _ := EventOfKey(tt.key)
		last := len(packets) - endRepeats
		for i, p := range packets {
			end := i >= last
			wantVol := tt.volume
			if end {
				wantVol |= 0x80
			}
			want := Packet{
				Payload: [4]byte{event, wantVol, byte(tt.durations[i] >> 8), byte(tt.durations[i])},
				Marker:  i == 0,
				End:     end,
			}
			if p != want {
				t.Errorf("Encode(%q, %v, %d) packet %d = %+v, want %+v", tt.key, tt.duration, tt.volume, i, p, want)
			}
		}
	}
}

func TestEncodeLongest(t *testing.T) {
	packets, err := Encode('1', maxDuration, 10)
	if err != nil {
		t.Fatal(err)
	}
	p := packets[len(packets)-1].Payload
	if d := int(p[2])<<8 | int(p[3]); d != 0xffff/samplesPerPacket*samplesPerPacket {
		t.Errorf("duration field of the longest event = %d", d)
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		key      rune
		duration time.Duration
		volume   uint8
		is       error
	}{
		{'E', 100 * time.Millisecond, 10, ErrInvalidKey},
		{'a', 100 * time.Millisecond, 10, ErrInvalidKey},
		{0, 100 * time.Millisecond, 10, ErrInvalidKey},
		{'1', 100 * time.Millisecond, 64, nil},
		{'1', 0, 10, nil},
		{'1', -time.Second, 10, nil},
		{'1', maxDuration + time.Millisecond, 10, nil},
	}
	for _, tt := range tests {
		packets, err := Encode(tt.key, tt.duration, tt.volume)
		if err == nil {
			t.Errorf("Encode(%q, %v, %d) = %d packets, want an error", tt.key, tt.duration, tt.volume, len(packets))
			continue
		}
		if tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("Encode(%q, %v, %d) = %v, want %v", tt.key, tt.duration, tt.volume, err, tt.is)
		}
	}
}

// TestEncodeReceive sends every key twice through Encode and a Receiver,
// as the RTP layer would: one timestamp per event.
func TestEncodeReceive(t *testing.T) {
	const keys = "0123456789*#ABCD"
	var r Receiver
	var got []rune
	ts := uint32(0xfffff000) // wraps on the way
	for _, k := range keys + keys {
		packets, err := Encode(k, 80*time.Millisecond, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range packets {
			if key, ok := r.Feed(p.Payload[:], ts); ok {
				got = append(got, key)
			}
		}
		ts += 8000 * 200 / 1000 // the next key 200 ms later
	}
	if string(got) != keys+keys {
		t.Errorf("received %q, want %q", string(got), keys+keys)
	}
}
