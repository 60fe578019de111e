package dtmf

import "testing"

func TestKeyOfEvent(t *testing.T) {
	tests := []struct {
		event uint8
		key   rune
		ok    bool
	}{
		{0, '0', true}, {5, '5', true}, {9, '9', true},
		{10, '*', true}, {11, '#', true},
		{12, 'A', true}, {13, 'B', true}, {14, 'C', true}, {15, 'D', true},
		{16, 0, false}, // flash
		{32, 0, false}, // fax/modem tones
		{255, 0, false},
	}
	for _, tt := range tests {
		key, ok := KeyOfEvent(tt.event)
		if key != tt.key || ok != tt.ok {
			t.Errorf("KeyOfEvent(%d) = %q, %v, want %q, %v", tt.event, key, ok, tt.key, tt.ok)
		}
	}
}

func TestEventOfKey(t *testing.T) {
	for event := range uint8(16) {
		key, _ := KeyOfEvent(event)
		got, ok := EventOfKey(key)
		if !ok || got != event {
			t.Errorf("EventOfKey(%q) = %d, %v, want %d, true", key, got, ok, event)
		}
	}
	for _, key := range []rune{'a', 'd', 'E', '+', ' ', 0, '٣', -1} {
		if got, ok := EventOfKey(key); ok {
			t.Errorf("EventOfKey(%q) = %d, true, want not a key", key, got)
		}
	}
}
