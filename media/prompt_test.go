package media

import (
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

func TestDefaultPrompts(t *testing.T) {
	spoken := []string{"leave-message", "invalid", "goodbye", "status-set", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	for _, lang := range []string{"it", "en"} {
		for _, name := range spoken {
			p := DefaultPrompt(lang, name)
			if p == nil {
				t.Errorf("DefaultPrompt(%q, %q) = nil", lang, name)
				continue
			}
			// Trimmed speech: no digit takes a second, no sentence four.
			if d := p.Duration(); d < 200*time.Millisecond || d > 4*time.Second {
				t.Errorf("DefaultPrompt(%q, %q) lasts %v", lang, name, d)
			}
			if db := rmsDB(decodePayload(t, p.Payload("PCMA"), "PCMA")); db < -30 || db > -6 {
				t.Errorf("DefaultPrompt(%q, %q) at %.1f dBFS RMS", lang, name, db)
			}
		}
	}
	for _, name := range spoken {
		if DefaultPrompt("en", name) == DefaultPrompt("it", name) {
			t.Errorf("%q: the English prompt is the Italian one", name)
		}
	}

	tests := []struct {
		lang, name string
		want       *Prompt
	}{
		{"", "goodbye", DefaultPrompt("it", "goodbye")},
		{"de", "goodbye", DefaultPrompt("it", "goodbye")},    // no German: Italian
		{"EN-gb", "goodbye", DefaultPrompt("en", "goodbye")}, // region and case ignored
		{"en_US", "invalid", DefaultPrompt("en", "invalid")},
		{"en", "beep", DefaultPrompt("it", "beep")}, // one beep for all
		{"it", "en/goodbye", nil},
		{"it", "nope", nil},
		{"en", "nope", nil},
	}
	for _, tt := range tests {
		if got := DefaultPrompt(tt.lang, tt.name); got != tt.want {
			t.Errorf("DefaultPrompt(%q, %q) = %p, want %p", tt.lang, tt.name, got, tt.want)
		}
	}
}

// TestDefaultBeep checks the beep against its specification: 1 kHz,
// 250 ms, -12 dBFS.
func TestDefaultBeep(t *testing.T) {
	p := DefaultPrompt("it", "beep")
	if p == nil {
		t.Fatal("no beep")
	}
	if p.Duration() != 250*time.Millisecond {
		t.Errorf("beep lasts %v, want 250ms", p.Duration())
	}
	pcm := decodePayload(t, p.Payload("PCMU"), "PCMU")
	// Between the 5 ms fades the sine is steady at -12 dBFS (peak), i.e.
	// -15 dBFS RMS.
	if got := toneDB(pcm[40:len(pcm)-40], 1000); math.Abs(got-(-15.05)) > 0.3 {
		t.Errorf("beep at %.2f dBFS RMS, want -15.05", got)
	}
}

func TestPromptCache(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "greeting.wav")
	copyFile(t, filepath.Join("testdata", "wav", "pcm8000-mono.wav"), path)
	c := NewPromptCache()

	p1, err := c.Get(path)
	if err != nil {
		t.Fatal(err)
	}
	if p2, _ := c.Get(path); p2 != p1 {
		t.Error("second Get decoded the file again")
	}

	// Another file of another size replaces it.
	copyFile(t, filepath.Join("testdata", "wav", "pcm16000-mono.wav"), path)
	if p3, _ := c.Get(path); p3 == p1 || p3 == nil {
		t.Error("a changed file was not reloaded")
	}

	// Same size, new content: only the modification time tells.
	pcm, err := os.ReadFile(filepath.Join("testdata", "wav", "alaw8000-mono.wav"))
	if err != nil {
		t.Fatal(err)
	}
	mu, err := os.ReadFile(filepath.Join("testdata", "wav", "ulaw8000-mono.wav"))
	if err != nil {
		t.Fatal(err)
	}
	if len(pcm) != len(mu) {
		t.Fatalf("fixtures of different sizes: %d, %d", len(pcm), len(mu))
	}
	writeFile(t, path, pcm)
	a, err := c.Get(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, mu)
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	if b, _ := c.Get(path); b == a || b == nil {
		t.Error("a file with a new modification time was not reloaded")
	}

	// A broken file is an error naming it, and is not cached.
	writeFile(t, path, []byte("not audio"))
	if _, err := c.Get(path); err == nil {
		t.Error("broken file loaded")
	}
	copyFile(t, filepath.Join("testdata", "wav", "pcm8000-mono.wav"), path)
	if _, err := c.Get(path); err != nil {
		t.Errorf("fixed file: %v", err)
	}
	os.Remove(path)
	if _, err := c.Get(path); err == nil {
		t.Error("removed file still served")
	}
}

func TestPromptCacheConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "moh.wav")
	copyFile(t, filepath.Join("testdata", "wav", "pcm44100-stereo.wav"), path)
	c := NewPromptCache()
	var wg sync.WaitGroup
	got := make([]*Prompt, 16)
	for i := range got {
		wg.Go(func() {
			p, err := c.Get(path)
			if err != nil {
				t.Error(err)
			}
			got[i] = p
		})
	}
	wg.Wait()
	for i, p := range got {
		if p != got[0] {
			t.Fatalf("Get %d returned another prompt: the file was decoded more than once", i)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, b)
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
