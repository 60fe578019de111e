// Package number normalizes and formats telephone numbers with Italian dialing rules.
//
// Normalize turns a number as it appears in SIP (the user part of a URI,
// already unescaped) into E.164:
//
//   - URI parameters after ';' are dropped, then spaces, tabs, dots, dashes,
//     slashes and parentheses are removed.
//   - "anonymous", "unknown" (any case) and "" are not public numbers.
//   - "+…" is kept when only digits follow, 7–15 of them, the first not 0.
//   - "00…" becomes "+…" under the same rule.
//   - "39" followed by an Italian national number that starts with 0 or 3,
//     11 digits or more in all, becomes "+39…": some providers send the
//     country code without "+". The shortest 39-prefixed candidate, 39 plus a
//     mobile number, is 11 digits, while national mobiles (which may start
//     with 39: 390–393, 397) have at most 10.
//   - An Italian national number becomes "+39" followed by the number:
//     starting with 0 (geographic, 6–11 digits, not 00; the 0 is kept),
//     3 (mobile, 9–10 digits), 80x/84x/89x (toll-free, shared-cost,
//     premium; 6–10 digits) or 55 (nomadic VoIP, 10–11 digits).
//   - Anything else (1xx short codes such as 112, 4xxxx services,
//     extensions, letters) is not a public number.
package number

import (
	"path"
	"strings"
)

// Formats accepted by Format.
const (
	FormatE164          = "e164"          // +390212345678
	FormatNational      = "national"      // 0212345678; foreign numbers as 0044…
	FormatInternational = "international" // 00390212345678
)

// Normalize converts raw to E.164 with Italian rules (see the package doc).
// ok is false when raw is not a public number (short codes such as 112,
// extensions, "anonymous", empty); the cleaned input is returned then.
func Normalize(raw string) (string, bool) {
	cleaned := clean(raw)
	switch {
	case cleaned == "":
		return cleaned, false
	case cleaned[0] == '+':
		if isE164Digits(cleaned[1:]) {
			return cleaned, true
		}
		return cleaned, false
	case !allDigits(cleaned):
		// Letters: "anonymous", "unknown", "Restricted", SIP usernames.
		return cleaned, false
	case strings.HasPrefix(cleaned, "00"):
		if isE164Digits(cleaned[2:]) {
			return "+" + cleaned[2:], true
		}
		return cleaned, false
	case strings.HasPrefix(cleaned, "39") && len(cleaned) >= 11 && (cleaned[2] == '0' || cleaned[2] == '3'):
		if isNational(cleaned[2:]) {
			return "+" + cleaned, true
		}
		return cleaned, false
	case isNational(cleaned):
		return "+39" + cleaned, true
	}
	return cleaned, false
}

// clean drops URI parameters and the separators people and providers put
// in numbers.
func clean(raw string) string {
	if i := strings.IndexByte(raw, ';'); i >= 0 {
		raw = raw[:i]
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '.', '-', '/', '(', ')':
			return -1
		}
		return r
	}, raw)
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isE164Digits reports whether s is the part of an E.164 number after '+':
// 7–15 digits, the first (the country code's) not 0. ITU allows 15 at most;
// 7 rules out short codes while keeping the shortest real numbers.
func isE164Digits(s string) bool {
	return len(s) >= 7 && len(s) <= 15 && s[0] != '0' && allDigits(s)
}

// isNational reports whether the digits s form a number of the Italian
// numbering plan that can be dialed from outside the PBX.
func isNational(s string) bool {
	n := len(s)
	switch {
	case n < 2:
		return false
	case s[0] == '0':
		// No area code starts with 00: that is the international prefix.
		return s[1] != '0' && n >= 6 && n <= 11
	case s[0] == '3':
		return n >= 9 && n <= 10
	case s[0] == '8' && (s[1] == '0' || s[1] == '4' || s[1] == '9'):
		return n >= 6 && n <= 10
	case s[0] == '5' && s[1] == '5':
		return n >= 10 && n <= 11
	}
	return false
}

// isE164 reports whether s is "+" followed by E.164 digits.
func isE164(s string) bool {
	return len(s) > 1 && s[0] == '+' && isE164Digits(s[1:])
}

// Format renders an E.164 number for a trunk's Request-URI in format
// (FormatE164, FormatNational or FormatInternational). National keeps the
// leading 0 of geographic numbers (+390212345678 → 0212345678,
// +393331234567 → 3331234567) and dials foreign numbers as 00<cc>….
// Input that is not E.164 (e.g. "112") and unknown formats return e164
// unchanged.
func Format(e164, format string) string {
	if !isE164(e164) {
		return e164
	}
	switch format {
	case FormatNational:
		if rest, ok := strings.CutPrefix(e164, "+39"); ok {
			return rest
		}
		return "00" + e164[1:]
	case FormatInternational:
		return "00" + e164[1:]
	}
	return e164
}

// Display renders a number for people to read and repeat: Italian
// numbers grouped the way they are spoken (+39 02 1234 5678, +39 333 123
// 4567), other E.164 numbers as +<cc> <rest>. Anything else (extensions,
// "anonymous") is returned unchanged.
func Display(e164 string) string {
	if !isE164(e164) {
		return e164
	}
	rest, italian := strings.CutPrefix(e164, "+39")
	if !italian {
		// The country code is one to three digits; without a table, split
		// after the ones that are unambiguous (1 and 7) or two digits.
		cc := 2
		if e164[1] == '1' || e164[1] == '7' {
			cc = 1
		}
		return e164[:1+cc] + " " + e164[1+cc:]
	}
	area := 3 // mobile prefixes (3xx) and most geographic areas (0xx)
	if strings.HasPrefix(rest, "02") || strings.HasPrefix(rest, "06") {
		area = 2 // Milano, Roma
	}
	if len(rest) <= area {
		return "+39 " + rest
	}
	local := rest[area:]
	if len(local) > 4 {
		local = local[:len(local)-4] + " " + local[len(local)-4:]
	}
	return "+39 " + rest[:area] + " " + local
}

// MatchAny reports whether number matches any of the path.Match patterns
// (e.g. "+390*"). A malformed pattern matches nothing; config validation
// should reject it with path.Match first.
func MatchAny(patterns []string, number string) bool {
	for _, p := range patterns {
		if ok, err := path.Match(p, number); err == nil && ok {
			return true
		}
	}
	return false
}
