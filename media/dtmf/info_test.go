package dtmf

import (
	"errors"
	"testing"
)

func TestParseInfo(t *testing.T) {
	tests := []struct {
		contentType string
		body        string
		want        rune
	}{
		{"application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", '5'},
		{"application/dtmf-relay", "Signal= 5\r\nDuration= 160", '5'},
		{"application/dtmf-relay", "signal=#\nduration=250\n", '#'},
		{"application/dtmf-relay", "Duration=160\r\nSignal=*\r\n", '*'},
		{"application/dtmf-relay", "SIGNAL = 9 \r\n", '9'},
		{"application/dtmf-relay", "Signal=10\r\nDuration=160", '*'},
		{"application/dtmf-relay", "Signal=11\r\nDuration=160", '#'},
		{"application/dtmf-relay", "Signal=12", 'A'},
		{"application/dtmf-relay", "Signal=15", 'D'},
		{"application/dtmf-relay", "Signal=b", 'B'},
		{"application/dtmf-relay", "Signal=0", '0'},
		{"Application/DTMF-Relay; charset=utf-8", "Signal=7", '7'},
		{"application/dtmf-relay ;foo=bar", "\r\nSignal=3\r\n", '3'},
		{"application/dtmf", "5", '5'},
		{"application/dtmf", "#\r\n", '#'},
		{"application/dtmf", " 11 ", '#'},
		{"application/dtmf; charset=us-ascii", "d", 'D'},
	}
	for _, tt := range tests {
		got, err := ParseInfo(tt.contentType, []byte(tt.body))
		if err != nil || got != tt.want {
			t.Errorf("ParseInfo(%q, %q) = %q, %v, want %q", tt.contentType, tt.body, got, err, tt.want)
		}
	}
}

func TestParseInfoErrors(t *testing.T) {
	tests := []struct {
		contentType string
		body        string
		is          error
	}{
		{"text/plain", "Signal=5", ErrContentType},
		{"", "5", ErrContentType},
		{"application/dtmf-relayx", "Signal=5", ErrContentType},
		{"application/dtmf-relay", "", ErrNoSignal},
		{"application/dtmf-relay", "Duration=160\r\n", ErrNoSignal},
		{"application/dtmf-relay", "Signals=5", ErrNoSignal},
		{"application/dtmf-relay", "Signal=", ErrNoSignal},
		{"application/dtmf-relay", "Signal=16", ErrInvalidKey},
		{"application/dtmf-relay", "Signal=E", ErrInvalidKey},
		{"application/dtmf-relay", "Signal=55", ErrInvalidKey},
		{"application/dtmf-relay", "Signal=5 6", ErrInvalidKey},
		{"application/dtmf", "", ErrNoSignal},
		{"application/dtmf", "\r\n", ErrNoSignal},
		{"application/dtmf", "Signal=5", ErrInvalidKey},
		{"application/dtmf", "é", ErrInvalidKey},
	}
	for _, tt := range tests {
		got, err := ParseInfo(tt.contentType, []byte(tt.body))
		if !errors.Is(err, tt.is) {
			t.Errorf("ParseInfo(%q, %q) = %q, %v, want error %v", tt.contentType, tt.body, got, err, tt.is)
		}
	}
}

func FuzzParseInfo(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160"))
	f.Add("application/dtmf-relay; charset=utf-8", []byte("signal= 11\n"))
	f.Add("application/dtmf", []byte("#"))
	f.Add("application/dtmf", []byte(""))
	f.Add("text/plain", []byte("Signal=1"))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		k, err := ParseInfo(contentType, body)
		if err != nil {
			if k != 0 {
				t.Fatalf("ParseInfo(%q, %q) = %q with error %v", contentType, body, k, err)
			}
			return
		}
		if _, ok := EventOfKey(k); !ok {
			t.Fatalf("ParseInfo(%q, %q) = %q, not a key", contentType, body, k)
		}
	})
}
