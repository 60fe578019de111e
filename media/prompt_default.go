package media

import (
	"bytes"
	"embed"
	"io/fs"
	"path"
	"strings"
	"sync"
)

// defaultPromptFiles are the prompts shipped with Centralino; prompts/
// README.md says how they were made.
//
//go:embed prompts/*.wav prompts/en/*.wav
var defaultPromptFiles embed.FS

// defaultPrompts decodes the embedded prompts on first use, once: they are
// read-only afterwards, like the G.711 tables. A file that does not decode
// is a build mistake, which the tests catch.
var defaultPrompts = sync.OnceValue(func() map[string]*Prompt {
	m := make(map[string]*Prompt)
	err := fs.WalkDir(defaultPromptFiles, "prompts", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".wav" {
			return err
		}
		b, err := defaultPromptFiles.ReadFile(p)
		if err != nil {
			return err
		}
		pr, err := DecodeWAV(bytes.NewReader(b))
		if err != nil {
			return err
		}
		m[strings.TrimSuffix(strings.TrimPrefix(p, "prompts/"), ".wav")] = pr
		return nil
	})
	if err != nil {
		panic("media: embedded default prompts: " + err.Error())
	}
	return m
})

// DefaultPrompt returns one of the built-in prompts, nil if there is no
// such name. Names: "beep", "leave-message", "invalid", "goodbye",
// "status-set" and the digits "0" to "9". lang is "it" (the default) or
// "en"; a region ("en-GB") is ignored, and any other language, or a prompt
// that has no version in it (the beep), gets the Italian one.
func DefaultPrompt(lang, name string) *Prompt {
	prompts := defaultPrompts()
	lang = strings.ToLower(lang)
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	if lang != "" && lang != "it" {
		if p := prompts[lang+"/"+name]; p != nil {
			return p
		}
	}
	if strings.Contains(name, "/") {
		return nil
	}
	return prompts[name]
}
