package media

import (
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/zaf/g711"
)

// Prompt is a piece of audio ready to send: 8 kHz mono, already encoded in
// both G.711 laws, so that playing it to a call is a copy of bytes whatever
// the call negotiated. A Prompt is immutable and safe to share between any
// number of calls.
type Prompt struct {
	pcma, pcmu []byte // one byte per 8 kHz sample
}

// PromptFromPCM encodes 8 kHz mono 16-bit samples (tones, synthesised
// audio, tests) into a prompt.
func PromptFromPCM(samples []int16) *Prompt {
	p := &Prompt{pcma: make([]byte, len(samples)), pcmu: make([]byte, len(samples))}
	for i, s := range samples {
		p.pcma[i] = g711.EncodeAlawFrame(s)
		p.pcmu[i] = g711.EncodeUlawFrame(s)
	}
	return p
}

// Duration returns how long the prompt plays.
func (p *Prompt) Duration() time.Duration {
	return time.Duration(len(p.pcma)) * time.Second / pcmRate
}

// Payload returns the prompt encoded for codec ("PCMA" or "PCMU"), one byte
// per 8 kHz sample, or nil for any other codec. The bytes are shared: the
// caller must not modify them.
func (p *Prompt) Payload(codec string) []byte {
	switch codec {
	case "PCMA":
		return p.pcma
	case "PCMU":
		return p.pcmu
	}
	return nil
}

// LoadPrompt reads a WAV file (see DecodeWAV) into a prompt. Errors name
// the file.
func LoadPrompt(path string) (*Prompt, error) {
	p, _, err := loadPromptFile(path)
	return p, err
}

// loadPromptFile loads path and returns the file's state as read, so that a
// cache compares against what it actually decoded.
func loadPromptFile(path string) (*Prompt, os.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("prompt %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("prompt %s: %w", path, err)
	}
	if info.IsDir() {
		return nil, nil, fmt.Errorf("prompt %s: is a directory", path)
	}
	p, err := DecodeWAV(f)
	if err != nil {
		return nil, nil, fmt.Errorf("prompt %s: %w", path, err)
	}
	return p, info, nil
}

// PromptCache keeps decoded prompts by file path, so that a greeting is
// decoded once and then shared by every call that plays it. A file whose
// modification time or size changed since it was decoded is decoded again
// on the next Get, so an administrator can replace a greeting without a
// restart. It is safe for concurrent use; concurrent Gets of one path
// decode it once.
type PromptCache struct {
	mu      sync.Mutex // guards entries
	entries map[string]*promptEntry
}

type promptEntry struct {
	mu      sync.Mutex // held while loading; guards the fields below
	prompt  *Prompt
	modTime time.Time
	size    int64
}

// NewPromptCache returns an empty cache.
func NewPromptCache() *PromptCache {
	return &PromptCache{entries: make(map[string]*promptEntry)}
}

// Get returns the prompt of the WAV file at path, decoding it if it is not
// cached or changed on disk. Each call costs one stat of the file. Errors
// are not cached: a file that is fixed loads on the next Get.
func (c *PromptCache) Get(path string) (*Prompt, error) {
	info, err := os.Stat(path)
	if err != nil {
		c.mu.Lock()
		delete(c.entries, path)
		c.mu.Unlock()
		return nil, fmt.Errorf("prompt %s: %w", path, err)
	}
	c.mu.Lock()
	e := c.entries[path]
	if e == nil {
		e = &promptEntry{}
		c.entries[path] = e
	}
	c.mu.Unlock()

	e.mu.Lock()
	defer e.mu.Unlock()
	if e.prompt != nil && e.modTime.Equal(info.ModTime()) && e.size == info.Size() {
		return e.prompt, nil
	}
	p, loaded, err := loadPromptFile(path)
	if err != nil {
		e.prompt = nil
		return nil, err
	}
	e.prompt, e.modTime, e.size = p, loaded.ModTime(), loaded.Size()
	return p, nil
}
