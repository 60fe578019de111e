package pbx

import (
	"context"
	"testing"
	"time"

	"github.com/centralino/centralino/dialplan"
)

// scriptedKeys plays a caller: each entry is the key pressed before the
// wait runs out ("" for a wait that runs out, "#" for the terminator).
type scriptedKeys struct {
	keys  []string
	waits []time.Duration // the timeout of each CollectDigits call
	terms []rune
}

func (s *scriptedKeys) CollectDigits(_ context.Context, maxDigits int, first, _ time.Duration, terminator rune) (string, error) {
	if maxDigits != 1 {
		panic("collectChoice reads one key at a time")
	}
	s.waits = append(s.waits, first)
	s.terms = append(s.terms, terminator)
	if len(s.keys) == 0 {
		return "", nil
	}
	k := s.keys[0]
	s.keys = s.keys[1:]
	if terminator != 0 && k == string(terminator) {
		return "", nil
	}
	return k, nil
}

func TestCollectChoice(t *testing.T) {
	const first, next = 5 * time.Second, 3 * time.Second
	menu := func(choices ...string) *dialplan.MenuStep {
		m := &dialplan.MenuStep{Options: map[string][]dialplan.Step{}, Timeout: first, DigitTimeout: next}
		for _, c := range choices {
			m.Options[c] = nil
		}
		return m
	}
	tests := []struct {
		name    string
		menu    *dialplan.MenuStep
		pressed []string
		want    string
		reads   int  // keys read: no waiting after a complete choice
		term    rune // the terminator offered
	}{
		{"single keys: one read", menu("1", "2", "#"), []string{"2", "1"}, "2", 1, 0},
		{"single keys: # is a choice", menu("1", "#"), []string{"#"}, "#", 1, 0},
		{"single keys: an unknown key is returned", menu("1", "2"), []string{"7"}, "7", 1, 0},
		{"nothing pressed", menu("1", "2"), nil, "", 1, 0},
		{"a unique choice ends at once", menu("1", "21", "22"), []string{"1", "9"}, "1", 1, '#'},
		{"a prefix waits for the next key", menu("2", "21"), []string{"2", "1"}, "21", 2, '#'},
		{"a prefix alone after the wait", menu("2", "21"), []string{"2"}, "2", 2, '#'},
		{"# ends the input early", menu("2", "210"), []string{"2", "#", "1"}, "2", 2, '#'},
		{"as long as the longest choice", menu("100", "200"), []string{"3", "0", "0", "9"}, "300", 3, '#'},
		{"stars are keys", menu("*9", "1"), []string{"*", "9"}, "*9", 2, '#'},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := &scriptedKeys{keys: tt.pressed}
			got, err := collectChoice(context.Background(), keys, tt.menu)
			if err != nil || got != tt.want {
				t.Fatalf("choice %q, %v; want %q", got, err, tt.want)
			}
			if len(keys.waits) != tt.reads {
				t.Errorf("read %d keys, want %d", len(keys.waits), tt.reads)
			}
			for i, w := range keys.waits {
				if want := map[bool]time.Duration{true: first, false: next}[i == 0]; w != want {
					t.Errorf("wait %d: %v, want %v", i, w, want)
				}
				if keys.terms[i] != tt.term {
					t.Errorf("terminator %q, want %q", keys.terms[i], tt.term)
				}
			}
		})
	}
}
