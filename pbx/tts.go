package pbx

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/centralino/centralino/config"
	"github.com/centralino/centralino/media"
)

// errNoTTS means `say:` texts cannot be spoken: espeak-ng is not installed.
var errNoTTS = errors.New("espeak-ng is not installed (apt install espeak-ng)")

// tts renders `say:` texts with espeak-ng into WAV files cached on disk by
// voice and text, and keeps the decoded prompts in memory: a text is
// synthesised once, ever, not per call.
type tts struct {
	dir     string // data/tts
	espeak  string // path of espeak-ng, "" when missing
	prompts *media.PromptCache

	mu       sync.Mutex
	inflight map[string]chan struct{} // one synthesis per file at a time
}

func newTTS(dataDir string, prompts *media.PromptCache) *tts {
	path, _ := exec.LookPath("espeak-ng")
	return &tts{dir: filepath.Join(dataDir, "tts"), espeak: path, prompts: prompts, inflight: map[string]chan struct{}{}}
}

// voice maps a tenant language to an espeak-ng voice.
func voice(lang string) string {
	if lang == "en" {
		return "en"
	}
	return "it"
}

// prompt returns the spoken text as a prompt, synthesising it the first time.
func (t *tts) prompt(ctx context.Context, text, lang string) (*media.Prompt, error) {
	v := voice(lang)
	sum := sha256.Sum256([]byte(v + "\x00" + text))
	path := filepath.Join(t.dir, v+"-"+hex.EncodeToString(sum[:12])+".wav")
	if _, err := os.Stat(path); err == nil {
		return t.prompts.Get(path)
	}
	if t.espeak == "" {
		return nil, errNoTTS
	}
	if err := t.render(ctx, path, v, text); err != nil {
		return nil, err
	}
	return t.prompts.Get(path)
}

func (t *tts) render(ctx context.Context, path, v, text string) error {
	t.mu.Lock()
	if ch, ok := t.inflight[path]; ok {
		t.mu.Unlock()
		select {
		case <-ch:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	ch := make(chan struct{})
	t.inflight[path] = ch
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		delete(t.inflight, path)
		t.mu.Unlock()
		close(ch)
	}()

	if err := os.MkdirAll(t.dir, 0o750); err != nil {
		return fmt.Errorf("tts: %w", err)
	}
	tmp := path + ".tmp"
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	// -s 150: a little slower than espeak's default, clearer on the phone.
	cmd := exec.CommandContext(ctx, t.espeak, "-v", v, "-s", "150", "-w", tmp, "--", text)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("tts: espeak-ng: %v: %s", err, out)
	}
	// The rename makes the cache entry appear whole or not at all.
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("tts: %w", err)
	}
	return nil
}

// warm synthesises every `say:` text of the configuration in advance, so
// that the first caller does not wait for espeak-ng.
func (t *tts) warm(ctx context.Context, cfg *config.Config) error {
	if t.espeak == "" {
		return nil
	}
	var errs []error
	for i := range cfg.Tenants {
		ten := &cfg.Tenants[i]
		for _, text := range sayTexts(ten) {
			if _, err := t.prompt(ctx, text, ten.Language); err != nil {
				errs = append(errs, fmt.Errorf("tenant %s: %w", ten.ID, err))
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	return errors.Join(errs...)
}

// sayTexts lists the texts a tenant's plan speaks.
func sayTexts(t *config.Tenant) []string {
	var out []string
	add := func(s config.Sound) {
		if s.Say != "" {
			out = append(out, s.Say)
		}
	}
	var walk func(actions []config.Action)
	walk = func(actions []config.Action) {
		for _, a := range actions {
			switch {
			case a.Play != nil:
				add(*a.Play)
			case a.Voicemail != nil:
				add(a.Voicemail.Greeting)
			case a.Menu != nil:
				add(a.Menu.Prompt)
				add(a.Menu.Invalid)
				for _, opt := range a.Menu.Options {
					walk(opt)
				}
			}
		}
	}
	for _, r := range t.Rules {
		walk(r.Do)
	}
	for _, c := range t.Closures {
		add(c.Greeting)
	}
	add(t.Console.Hold)
	return out
}

// UsesSay reports whether any tenant speaks a `say:` text (so that
// `centralino check` can warn when espeak-ng is missing).
func UsesSay(cfg *config.Config) bool {
	for i := range cfg.Tenants {
		if len(sayTexts(&cfg.Tenants[i])) > 0 {
			return true
		}
	}
	return false
}
