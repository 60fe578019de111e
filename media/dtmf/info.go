package dtmf

import (
	"bytes"
	"fmt"
	"strings"
)

// ParseInfo reads the key of a SIP INFO body. Two content types are
// understood:
//   - application/dtmf-relay, lines of "Name=value" with a Signal line
//     ("Signal=5\r\nDuration=160"); names are case-insensitive, blanks around
//     the value are ignored, and numeric signals 10-15 are the RFC 4733 event
//     codes, since some phones send "Signal=10" for '*' and "Signal=11" for '#';
//   - application/dtmf, the bare key ("5").
//
// contentType may carry parameters ("application/dtmf-relay;charset=utf-8").
// Lower case 'a'-'d' are read as 'A'-'D'.
func ParseInfo(contentType string, body []byte) (rune, error) {
	mediaType, _, _ := strings.Cut(contentType, ";")
	mediaType = strings.TrimSpace(mediaType)
	switch {
	case strings.EqualFold(mediaType, "application/dtmf-relay"):
		return parseRelay(body)
	case strings.EqualFold(mediaType, "application/dtmf"):
		k, err := parseSignal(bytes.TrimSpace(body))
		if err != nil {
			return 0, fmt.Errorf("dtmf: %w", err)
		}
		return k, nil
	}
	return 0, fmt.Errorf("info body of type %q: %w", mediaType, ErrContentType)
}

// parseRelay finds the Signal line of an application/dtmf-relay body.
func parseRelay(body []byte) (rune, error) {
	for len(body) > 0 {
		var line []byte
		line, body, _ = bytes.Cut(body, []byte("\n"))
		name, value, ok := bytes.Cut(line, []byte("="))
		if ok && strings.EqualFold(string(bytes.TrimSpace(name)), "signal") {
			k, err := parseSignal(bytes.TrimSpace(value))
			if err != nil {
				return 0, fmt.Errorf("dtmf-relay: %w", err)
			}
			return k, nil
		}
	}
	return 0, fmt.Errorf("dtmf-relay: %w", ErrNoSignal)
}

// parseSignal reads one key: the key itself or its event code 0-15.
func parseSignal(s []byte) (rune, error) {
	switch len(s) {
	case 0:
		return 0, ErrNoSignal
	case 1:
		k := rune(s[0])
		if k >= 'a' && k <= 'd' {
			k -= 'a' - 'A'
		}
		if _, ok := EventOfKey(k); ok {
			return k, nil
		}
	case 2:
		if s[0] == '1' && s[1] >= '0' && s[1] <= '5' {
			k, _ := KeyOfEvent(10 + s[1] - '0')
			return k, nil
		}
	}
	return 0, fmt.Errorf("signal %q: %w", s, ErrInvalidKey)
}
