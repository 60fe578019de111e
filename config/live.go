package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
)

// debounce is how long Watch waits after the last change before it
// reloads: an editor's save is several events (truncate, write, rename).
const debounce = 250 * time.Millisecond

// Live holds the configuration in force and reloads it.
//
// A reload builds a fresh *Config and swaps it in atomically; a Config
// once published is never changed, so a call in progress keeps the
// snapshot it started with. Each file is accepted or rejected on its own:
// a rejected file keeps its last good version in force.
type Live struct {
	mainPath   string     // "" for the embedded demo
	fsys       fileSystem // where tenant files are read
	tenantsDir string     // fixed at NewLive: the folder Watch watches
	dirSet     bool       // tenants_dir was set explicitly

	cur atomic.Pointer[Config] // never nil after NewLive

	mu sync.Mutex // serialises reloads; guards good
	// good holds the files in force: a reload compares the disk with it.
	good fileSet
}

// fileSet is the main file and the tenant files a Config is built from.
type fileSet struct {
	main  source
	files map[string][]byte // tenant file name → bytes
}

func (s fileSet) sources() []source {
	out := make([]source, 0, len(s.files))
	for _, name := range slices.Sorted(mapKeys(s.files)) {
		out = append(out, source{name: name, data: s.files[name]})
	}
	return out
}

// ReloadReport says what a reload did.
type ReloadReport struct {
	Loaded  []string    // files (re)loaded and now in force
	Removed []string    // tenant files deleted: their tenants are gone
	Errors  []FileError // files rejected: the last good version stays in force (a new invalid file is not added)
	Restart []string    // settings changed in the main file that only a restart applies (sip.listen, sip.tls_*, http.listen, http.tls_*, console.webrtc_*, rtp.ports, data, tenants_dir): the old values stay
}

// NewLive loads mainPath ("" = the embedded demo) and the tenant files;
// error if that first load fails.
func NewLive(mainPath string) (*Live, error) {
	return NewLiveWith(mainPath, Options{})
}

// NewLiveWith is NewLive with options (kept for every reload).
func NewLiveWith(mainPath string, o Options) (*Live, error) {
	l := &Live{mainPath: mainPath, fsys: osFS{sound: o.CheckSound}}
	main := source{name: DemoSource, data: demoMain()}
	if mainPath == "" {
		l.fsys = demoFS()
	} else {
		data, err := os.ReadFile(mainPath)
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		main = source{name: mainPath, data: data}
	}
	ld, errs := loadFromDisk(main, l.fsys)
	if len(errs) > 0 {
		return nil, errs.join([]string{main.name})
	}
	l.tenantsDir, l.dirSet = ld.dir, ld.dirSet
	l.good = fileSet{main: main, files: map[string][]byte{}}
	for _, f := range ld.files {
		l.good.files[f.name] = f.data
	}
	l.cur.Store(ld.cfg)
	return l, nil
}

// Current returns the configuration in force. Callers must not modify it.
func (l *Live) Current() *Config {
	return l.cur.Load()
}

// change is a file that differs from its version in force.
type change struct {
	name    string
	data    []byte
	main    bool
	removed bool
}

// Reload re-reads the main file and every tenant file (SIGHUP);
// per-file keep-last-good.
func (l *Live) Reload() ReloadReport {
	l.mu.Lock()
	defer l.mu.Unlock()
	var rep ReloadReport
	changes := l.changes(&rep)
	cur := l.cur.Load()

	// The main file first, on its own: listeners and ports are checked
	// as written, before pinning puts the running values back.
	if len(changes) > 0 && changes[0].main {
		if m, fatal := parseMain(source{name: changes[0].name, data: changes[0].data}, nil); len(fatal) > 0 || len(m.c.errs) > 0 {
			rep.Errors = append(rep.Errors, FileError{File: changes[0].name, Err: joinErrors(append(fatal, mainErrs(m)...))})
			changes = changes[1:]
		}
	}

	var (
		cfg     *Config
		restart []string
	)
	for {
		set := l.apply(changes)
		var errs fileErrors
		cfg, errs, restart = build(set, l.fsys, cur)
		if len(errs) == 0 {
			break
		}
		bad := blame(changes, errs)
		if len(bad) == 0 {
			// The files in force fail by themselves (a sound or calendar
			// file they name is gone): keep the configuration in force.
			for _, name := range slices.Sorted(mapKeys(errs)) {
				rep.Errors = append(rep.Errors, FileError{File: name, Err: joinErrors(errs[name])})
			}
			return rep
		}
		for _, ch := range bad {
			own := errs[ch.name]
			if len(own) == 0 {
				// The change broke other files: report their problems.
				own = flatten(errs)
			}
			rep.Errors = append(rep.Errors, FileError{File: ch.name, Err: joinErrors(own)})
		}
		changes = slices.DeleteFunc(changes, func(c change) bool {
			return slices.ContainsFunc(bad, func(b change) bool { return b.name == c.name })
		})
	}

	if len(changes) == 0 {
		// Nothing new is in force: keep the same snapshot, so that users
		// can tell nothing changed.
		return rep
	}
	for _, ch := range changes {
		switch {
		case ch.removed:
			rep.Removed = append(rep.Removed, ch.name)
		default:
			rep.Loaded = append(rep.Loaded, ch.name)
		}
		if ch.main {
			rep.Restart = restart
		}
	}
	l.good = l.apply(changes)
	l.cur.Store(cfg)
	return rep
}

// mainErrs returns the problems parseMain kept for later, if any.
func mainErrs(m *mainPhase) []*Error {
	if m == nil {
		return nil
	}
	return m.c.errs
}

// changes reads the files and lists those that differ from the ones in
// force, the main file first. Files that cannot be read are reported and
// left as they are.
func (l *Live) changes(rep *ReloadReport) []change {
	var out []change
	if l.mainPath != "" {
		data, err := os.ReadFile(l.mainPath)
		switch {
		case err != nil:
			rep.Errors = append(rep.Errors, FileError{File: l.mainPath, Err: fmt.Errorf("read config: %w", err)})
		case !bytes.Equal(data, l.good.main.data):
			out = append(out, change{name: l.mainPath, data: data, main: true})
		}
	}
	files, readErrs, err := readTenantFiles(l.fsys, l.tenantsDir, l.dirSet)
	if err != nil {
		// The folder itself is unreadable (or gone, when set
		// explicitly): nothing is known about the files, keep them.
		rep.Errors = append(rep.Errors, FileError{File: l.tenantsDir, Err: err})
		return out
	}
	unreadable := map[string]bool{}
	for _, e := range readErrs {
		unreadable[e.File] = true
		rep.Errors = append(rep.Errors, FileError{File: e.File, Err: e})
	}
	seen := map[string]bool{}
	for _, f := range files {
		seen[f.name] = true
		if old, ok := l.good.files[f.name]; !ok || !bytes.Equal(old, f.data) {
			out = append(out, change{name: f.name, data: f.data})
		}
	}
	for _, name := range slices.Sorted(mapKeys(l.good.files)) {
		if !seen[name] && !unreadable[name] {
			out = append(out, change{name: name, removed: true})
		}
	}
	return out
}

// apply returns the files in force with changes applied.
func (l *Live) apply(changes []change) fileSet {
	set := fileSet{main: l.good.main, files: make(map[string][]byte, len(l.good.files))}
	for name, data := range l.good.files {
		set.files[name] = data
	}
	for _, ch := range changes {
		switch {
		case ch.main:
			set.main = source{name: ch.name, data: ch.data}
		case ch.removed:
			delete(set.files, ch.name)
		default:
			set.files[ch.name] = ch.data
		}
	}
	return set
}

// build makes a Config from set, keeping pin's restart-only settings.
func build(set fileSet, fsys fileSystem, pin *Config) (*Config, fileErrors, []string) {
	m, fatal := parseMain(set.main, pin)
	if len(fatal) > 0 {
		return nil, fileErrors{set.main.name: fatal}, nil
	}
	cfg, errs := assemble(m, set.sources(), fsys)
	return cfg, errs, m.restart
}

// blame picks the changes to reject when a build failed. The main file
// comes first, alone: the tenants are checked against it, so its problems
// may show up in them. Then the changed tenant files with problems of
// their own. When only unchanged files have problems, the changes broke
// them: the main file if it changed, else every change.
func blame(changes []change, errs fileErrors) []change {
	for _, ch := range changes {
		if ch.main && len(errs[ch.name]) > 0 {
			return []change{ch}
		}
	}
	var bad []change
	for _, ch := range changes {
		if len(errs[ch.name]) > 0 {
			bad = append(bad, ch)
		}
	}
	if len(bad) > 0 {
		return bad
	}
	for _, ch := range changes {
		if ch.main {
			return []change{ch}
		}
	}
	return changes
}

func flatten(errs fileErrors) []*Error {
	var out []*Error
	for _, name := range slices.Sorted(mapKeys(errs)) {
		out = append(out, errs[name]...)
	}
	return out
}

// Watch watches the main file and tenants_dir until ctx ends, debounces
// (~250 ms), reloads what changed and calls onReload after each reload
// (on the watch goroutine). It watches folders, not files, so that
// atomic saves (write a temporary file, rename it) and delete-and-recreate
// are seen; it re-arms when the tenants folder itself is recreated.
func (l *Live) Watch(ctx context.Context, onReload func(ReloadReport)) error {
	if l.mainPath == "" {
		// The embedded demo never changes.
		<-ctx.Done()
		return nil
	}
	mainAbs, err := filepath.Abs(l.mainPath)
	if err != nil {
		return fmt.Errorf("watch config: %w", err)
	}
	dirAbs, err := filepath.Abs(l.tenantsDir)
	if err != nil {
		return fmt.Errorf("watch config: %w", err)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch config: %w", err)
	}
	defer w.Close()
	if err := w.Add(filepath.Dir(mainAbs)); err != nil {
		return fmt.Errorf("watch config: %s: %w", filepath.Dir(mainAbs), err)
	}
	// The tenants folder's parent shows the folder being created again.
	if parent := filepath.Dir(dirAbs); parent != filepath.Dir(mainAbs) {
		if err := w.Add(parent); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("watch config: %s: %w", parent, err)
		}
	}
	dirWatched := w.Add(dirAbs) == nil

	relevant := func(ev fsnotify.Event) bool {
		if ev.Op == fsnotify.Chmod {
			return false
		}
		name := filepath.Clean(ev.Name)
		return name == mainAbs || name == dirAbs ||
			(filepath.Dir(name) == dirAbs && isTenantFile(filepath.Base(name)))
	}
	reload := func(always bool) {
		if !dirWatched {
			dirWatched = w.Add(dirAbs) == nil
		}
		rep := l.Reload()
		if onReload != nil && (always || !rep.empty()) {
			onReload(rep)
		}
	}

	// Changes made before the folders were watched have no events.
	reload(false)
	timer := time.NewTimer(debounce)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return errors.New("watch config: the watcher stopped")
			}
			if !relevant(ev) {
				continue
			}
			if filepath.Clean(ev.Name) == dirAbs {
				// Recreated: watch it again (a removed folder's watch is
				// gone by itself).
				dirWatched = ev.Has(fsnotify.Create) && w.Add(dirAbs) == nil
			}
			timer.Reset(debounce)
		case _, ok := <-w.Errors:
			if !ok {
				return errors.New("watch config: the watcher stopped")
			}
			// Events were lost (queue overflow): read everything again.
			timer.Reset(debounce)
		case <-timer.C:
			reload(true)
		}
	}
}

func (r ReloadReport) empty() bool {
	return len(r.Loaded) == 0 && len(r.Removed) == 0 && len(r.Errors) == 0 && len(r.Restart) == 0
}
