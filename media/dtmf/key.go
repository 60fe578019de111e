package dtmf

// eventKeys lists the keys in RFC 4733 event code order (§3.2, table 3):
// the index of a key is its event code.
const eventKeys = "0123456789*#ABCD"

// KeyOfEvent returns the key of an RFC 4733 telephone-event code 0-15; other
// codes (flash, modem and fax tones) are not keys.
func KeyOfEvent(event uint8) (rune, bool) {
	if int(event) >= len(eventKeys) {
		return 0, false
	}
	return rune(eventKeys[event]), true
}

// EventOfKey returns the RFC 4733 event code of a key. Only upper case 'A'-'D'
// are keys, as KeyOfEvent returns them.
func EventOfKey(key rune) (uint8, bool) {
	switch {
	case key >= '0' && key <= '9':
		return uint8(key - '0'), true
	case key == '*':
		return 10, true
	case key == '#':
		return 11, true
	case key >= 'A' && key <= 'D':
		return uint8(key-'A') + 12, true
	}
	return 0, false
}
