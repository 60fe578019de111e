package number

import (
	"regexp"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		raw  string
		want string
		ok   bool
	}{
		// Geographic: the leading 0 stays after +39.
		{"0212345678", "+390212345678", true},     // Milano
		{"02 1234 5678", "+390212345678", true},   // spaces
		{"02-12345678", "+390212345678", true},    // dash
		{"02/12345678", "+390212345678", true},    // slash
		{"(02) 1234.5678", "+390212345678", true}, // parentheses and dot
		{"0687654321", "+390687654321", true},     // Roma
		{"06 6982", "+39066982", true},            // Roma, short (Vaticano switchboard style), 6 digits
		{"0815551234", "+390815551234", true},     // Napoli
		{"011 5551234", "+390115551234", true},    // Torino
		{"0553456789", "+390553456789", true},     // Firenze
		{"0471123456", "+390471123456", true},     // Bolzano
		{"0924123456", "+390924123456", true},     // Alcamo
		{"01234", "01234", false},                 // too short for a geographic number
		{"012345678901", "012345678901", false},   // 12 digits: too long
		// Mobiles.
		{"3331234567", "+393331234567", true},   // TIM
		{"347 123 4567", "+393471234567", true}, // Vodafone
		{"320.123.4567", "+393201234567", true}, // WindTre
		{"3921234567", "+393921234567", true},   // 39x mobile: not "+39" + 21234567
		{"3901234567", "+393901234567", true},   // 390 mobile, 10 digits: national, not 39 + 0…
		{"393123456", "+39393123456", true},     // 9-digit mobile
		{"33312345", "33312345", false},         // 8 digits: too short
		{"33312345678", "33312345678", false},   // 11 digits: too long
		// Special national ranges.
		{"800123456", "+39800123456", true},   // toll-free
		{"803 131", "+39803131", true},        // toll-free, 6 digits
		{"848 800 333", "+39848800333", true}, // shared cost
		{"899123456", "+39899123456", true},   // premium
		{"892424", "+39892424", true},         // directory enquiries
		{"5512345678", "+395512345678", true}, // nomadic VoIP
		{"55123456789", "+3955123456789", true},
		{"551234567", "551234567", false}, // 55, 9 digits
		{"8512345678", "8512345678", false},
		{"5012345678", "5012345678", false},
		// Country code with "+", "00" and bare "39".
		{"+390212345678", "+390212345678", true},
		{"+39 02 1234 5678", "+390212345678", true},
		{"+393331234567", "+393331234567", true},
		{"00390212345678", "+390212345678", true},
		{"0039 333 1234567", "+393331234567", true},
		{"390212345678", "+390212345678", true},
		{"393331234567", "+393331234567", true},
		{"39312345678", "+39312345678", true},       // 39 + 9-digit mobile: 11 digits
		{"3902123456", "+393902123456", true},       // 10 digits: a 390 mobile, not 39 + 02123456
		{"39021234567890", "39021234567890", false}, // 39 + a 12-digit "geographic" number
		{"39512345678", "39512345678", false},       // 39 then 5: no rule
		// Foreign numbers.
		{"+442079460000", "+442079460000", true},  // London
		{"00442079460000", "+442079460000", true}, // London via 00
		{"+1 (212) 555-0100", "+12125550100", true},
		{"0041 44 668 18 00", "+41446681800", true}, // Zürich
		{"+4930123456", "+4930123456", true},
		{"+123456", "+123456", false},                     // 6 digits: too short
		{"+1234567890123456", "+1234567890123456", false}, // 16 digits: too long
		{"+0212345678", "+0212345678", false},             // no country code starts with 0
		{"000442079460000", "000442079460000", false},     // 000…
		{"+39abc", "+39abc", false},
		{"++390212345678", "++390212345678", false},
		// Not public numbers.
		{"112", "112", false},
		{"113", "113", false},
		{"118", "118", false},
		{"1500", "1500", false},     // public utility
		{"187", "187", false},       // operator customer care
		{"116000", "116000", false}, // harmonised European services
		{"199123456", "199123456", false},
		{"4242", "4242", false},
		{"41212", "41212", false},
		{"100", "100", false},   // extension
		{"2001", "2001", false}, // extension
		{"9", "9", false},
		{"0", "0", false},
		{"anonymous", "anonymous", false},
		{"Anonymous", "Anonymous", false},
		{"unknown", "unknown", false},
		{"", "", false},
		{"   ", "", false},
		{"mario.rossi", "mariorossi", false},
		{"*97", "*97", false},
		{"#31#0212345678", "#31#0212345678", false},
		{"０２１２３４５６７８", "０２１２３４５６７８", false}, // full-width digits
		// URI parameters are not part of the number.
		{"0212345678;phone-context=+39", "+390212345678", true},
		{"+390212345678;npdi;rn=+390212", "+390212345678", true},
		{"100;user=phone", "100", false},
	}
	for _, tt := range tests {
		got, ok := Normalize(tt.raw)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Normalize(%q) = %q, %v; want %q, %v", tt.raw, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFormat(t *testing.T) {
	tests := []struct {
		e164, format, want string
	}{
		{"+390212345678", "e164", "+390212345678"},
		{"+390212345678", "national", "0212345678"},
		{"+390212345678", "international", "00390212345678"},
		{"+393331234567", "e164", "+393331234567"},
		{"+393331234567", "national", "3331234567"},
		{"+393331234567", "international", "00393331234567"},
		{"+39800123456", "national", "800123456"},
		{"+442079460000", "national", "00442079460000"},
		{"+442079460000", "international", "00442079460000"},
		{"+442079460000", "e164", "+442079460000"},
		{"+3612345678", "national", "003612345678"}, // Hungary (+36), not Italy (+39)
		{"112", "national", "112"},
		{"112", "international", "112"},
		{"100", "e164", "100"},
		{"0212345678", "international", "0212345678"}, // not E.164: unchanged
		{"anonymous", "national", "anonymous"},
		{"", "national", ""},
		{"+", "international", "+"},
		{"+390212345678", "bogus", "+390212345678"},
		{"+390212345678", "", "+390212345678"},
	}
	for _, tt := range tests {
		if got := Format(tt.e164, tt.format); got != tt.want {
			t.Errorf("Format(%q, %q) = %q, want %q", tt.e164, tt.format, got, tt.want)
		}
	}
}

func TestMatchAny(t *testing.T) {
	tests := []struct {
		patterns []string
		number   string
		want     bool
	}{
		{[]string{"+390*"}, "+390212345678", true},
		{[]string{"+390*"}, "+393331234567", false},
		{[]string{"+390*", "+393*"}, "+393331234567", true},
		{[]string{"+39899*", "+39892*"}, "+39899123456", true},
		{[]string{"+3902????????"}, "+390212345678", true},
		{[]string{"+3902????????"}, "+39021234567", false},
		{[]string{"+39[03]*"}, "+393331234567", true},
		{[]string{"*"}, "+442079460000", true},
		{[]string{"+44*"}, "+390212345678", false},
		{[]string{"[", "+39*"}, "+390212345678", true}, // the bad pattern is skipped
		{[]string{"["}, "+390212345678", false},
		{nil, "+390212345678", false},
		{[]string{}, "", false},
	}
	for _, tt := range tests {
		if got := MatchAny(tt.patterns, tt.number); got != tt.want {
			t.Errorf("MatchAny(%q, %q) = %v, want %v", tt.patterns, tt.number, got, tt.want)
		}
	}
}

var e164Pattern = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"0212345678", "+39 02 1234 5678", "0039 333 1234567", "393331234567", "3921234567",
		"800123456", "5512345678", "+442079460000", "112", "anonymous", "", "(0)", "39", "00",
		"+", "0212345678;phone-context=+39", "\xff\xfe", "３",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got, ok := Normalize(raw)
		if !ok {
			return
		}
		if !e164Pattern.MatchString(got) {
			t.Fatalf("Normalize(%q) = %q, true: not E.164", raw, got)
		}
		if again, ok := Normalize(got); again != got || !ok {
			t.Fatalf("Normalize(%q) = %q, %v; want it unchanged", got, again, ok)
		}
		// What Format sends to a trunk must mean the same number. National
		// form is ambiguous only for +39 numbers outside the Italian plan.
		formats := []string{FormatInternational}
		if national, italian := strings.CutPrefix(got, "+39"); !italian || isNational(national) {
			formats = append(formats, FormatNational)
		}
		for _, format := range formats {
			if back, ok := Normalize(Format(got, format)); !ok || back != got {
				t.Fatalf("Normalize(Format(%q, %q)) = %q, %v; want %q, true", got, format, back, ok, got)
			}
		}
	})
}

func TestDisplay(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"+390212345678", "+39 02 1234 5678"},
		{"+39061234567", "+39 06 123 4567"},
		{"+393331234567", "+39 333 123 4567"},
		{"+390557654321", "+39 055 765 4321"},
		{"+12025550100", "+1 2025550100"},
		{"+4930123456", "+49 30123456"},
		{"100", "100"},
		{"anonymous", "anonymous"},
		{"+39", "+39"},
	} {
		if got := Display(tc.in); got != tc.want {
			t.Errorf("Display(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
