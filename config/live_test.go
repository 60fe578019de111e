package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	tenantA = "name: A\nnumbers: [\"+390211111111\"]\nextensions: [\"100\"]\n"
	tenantB = "name: B\nnumbers: [\"+390222222222\"]\n"
)

func writeFile(t *testing.T, name, data string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func removeFile(t *testing.T, name string) {
	t.Helper()
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
}

// tenantName is the name of tenant id in cfg, "" if there is none.
func tenantName(cfg *Config, id string) string {
	if tn := cfg.Tenant(id); tn != nil {
		return tn.Name
	}
	return ""
}

// reportErrors renders a report's errors as "file: error" lines.
func reportErrors(rep ReloadReport) string {
	var b strings.Builder
	for _, fe := range rep.Errors {
		b.WriteString(fe.File + ": " + fe.Err.Error() + "\n")
	}
	return b.String()
}

func errorFiles(rep ReloadReport) []string {
	var out []string
	for _, fe := range rep.Errors {
		out = append(out, fe.File)
	}
	return out
}

// TestLiveReload drives Reload by hand, as SIGHUP does, with the default
// tenants folder relative to the working directory.
func TestLiveReload(t *testing.T) {
	clearEnv(t)
	t.Chdir(t.TempDir())
	const main = "centralino.yaml"
	a, b, c := filepath.Join("tenants", "a.yaml"), filepath.Join("tenants", "b.yaml"), filepath.Join("tenants", "c.yaml")
	if err := os.Mkdir("tenants", 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, main, tenantMain)
	writeFile(t, a, tenantA)

	l, err := NewLive(main)
	if err != nil {
		t.Fatalf("NewLive: %v", err)
	}
	first := l.Current()
	if first.Source != main || tenantName(first, "a") != "A" {
		t.Fatalf("first load: source %q, tenant a %q", first.Source, tenantName(first, "a"))
	}

	steps := []struct {
		name  string
		do    func()
		check func(rep ReloadReport, cfg *Config) string // what is wrong, "" if nothing
	}{
		{"nothing changed", func() {}, func(rep ReloadReport, cfg *Config) string {
			if !rep.empty() {
				return "report not empty"
			}
			return ""
		}},
		{"edit", func() { writeFile(t, a, strings.Replace(tenantA, "A", "A2", 1)) }, func(rep ReloadReport, cfg *Config) string {
			switch {
			case !slices.Equal(rep.Loaded, []string{a}):
				return "Loaded = " + strings.Join(rep.Loaded, ",")
			case tenantName(cfg, "a") != "A2":
				return "tenant a not updated"
			case tenantName(first, "a") != "A":
				return "the first snapshot changed: calls in progress would see it"
			}
			return ""
		}},
		{"broken edit keeps the last good", func() { writeFile(t, a, "name: A3\nnumbers: [\n") }, func(rep ReloadReport, cfg *Config) string {
			switch {
			case !slices.Equal(errorFiles(rep), []string{a}) || !strings.Contains(reportErrors(rep), a+":2: invalid YAML"):
				return "errors:\n" + reportErrors(rep)
			case len(rep.Loaded) > 0:
				return "Loaded = " + strings.Join(rep.Loaded, ",")
			case tenantName(cfg, "a") != "A2":
				return "tenant a is not the last good one"
			}
			return ""
		}},
		{"fix, add one good and one bad file", func() {
			writeFile(t, a, tenantA)
			writeFile(t, b, tenantB)
			writeFile(t, c, "name: C\nrules:\n  - do: [ring: {people: [nobody]}, hangup]\n")
		}, func(rep ReloadReport, cfg *Config) string {
			switch {
			case !slices.Equal(rep.Loaded, []string{a, b}):
				return "Loaded = " + strings.Join(rep.Loaded, ",")
			case !slices.Equal(errorFiles(rep), []string{c}) || !strings.Contains(reportErrors(rep), c+`:3:26: rules[0].do[0].ring.people[0]: no person "nobody"`):
				return "errors:\n" + reportErrors(rep)
			case tenantName(cfg, "a") != "A" || tenantName(cfg, "b") != "B" || cfg.Tenant("c") != nil:
				return "tenants a, b, c: " + tenantName(cfg, "a") + ", " + tenantName(cfg, "b") + ", " + tenantName(cfg, "c")
			}
			return ""
		}},
		{"a change that clashes with another file is rejected", func() {
			removeFile(t, c)
			writeFile(t, b, tenantB+"extensions: [\"100\"]\n")
		}, func(rep ReloadReport, cfg *Config) string {
			want := b + `:3:14: extensions[0]: extension 100 is listed for tenant "b" but already belongs to tenant "a" (` + a + ":3:14)"
			switch {
			case !slices.Equal(errorFiles(rep), []string{b}) || !strings.Contains(reportErrors(rep), want):
				return "errors:\n" + reportErrors(rep)
			case cfg.TenantOfExtension("100").ID != "a":
				return "extension 100 moved"
			}
			return ""
		}},
		{"delete", func() { removeFile(t, b) }, func(rep ReloadReport, cfg *Config) string {
			switch {
			case !slices.Equal(rep.Removed, []string{b}):
				return "Removed = " + strings.Join(rep.Removed, ",")
			case cfg.Tenant("b") != nil || cfg.TenantByNumber("+390222222222") != nil:
				return "tenant b is still there"
			}
			return ""
		}},
		{"restart-only settings stay", func() {
			writeFile(t, main, strings.Replace(tenantMain, "trunks:", "sip:\n  listen: 127.0.0.1:5080\nhttp:\n  listen: 127.0.0.1:8090\nlog:\n  level: debug\ntrunks:", 1))
		}, func(rep ReloadReport, cfg *Config) string {
			switch {
			case !slices.Equal(rep.Loaded, []string{main}):
				return "Loaded = " + strings.Join(rep.Loaded, ",")
			case !slices.Equal(rep.Restart, []string{"sip.listen", "http.listen"}):
				return "Restart = " + strings.Join(rep.Restart, ",")
			case cfg.SIP.Listen != "127.0.0.1:5060" || cfg.SIP.PublicAddress != "127.0.0.1:5060" || cfg.HTTP.Listen != "127.0.0.1:8080":
				return "listen addresses changed: " + cfg.SIP.Listen + " " + cfg.SIP.PublicAddress + " " + cfg.HTTP.Listen
			case cfg.Log.Level != "debug":
				return "log.level not applied"
			}
			return ""
		}},
		{"a main file that breaks a tenant file is rejected", func() {
			writeFile(t, main, strings.Replace(tenantMain, "  - {number: \"100\", password: a}\n", "", 1))
		}, func(rep ReloadReport, cfg *Config) string {
			switch {
			case !slices.Equal(errorFiles(rep), []string{main}) || !strings.Contains(reportErrors(rep), a+`:3:14: extensions[0]: extension "100" is not defined in extensions`):
				return "errors:\n" + reportErrors(rep)
			case cfg.Extension("100") == nil || cfg.Log.Level != "debug":
				return "the main file in force changed"
			}
			return ""
		}},
		{"a broken main file is rejected, tenant changes still apply", func() {
			writeFile(t, main, "sip:\n  listen: [\n")
			writeFile(t, a, strings.Replace(tenantA, "A", "A4", 1))
		}, func(rep ReloadReport, cfg *Config) string {
			switch {
			case !slices.Equal(errorFiles(rep), []string{main}) || !strings.Contains(reportErrors(rep), main+":2: invalid YAML"):
				return "errors:\n" + reportErrors(rep)
			case !slices.Equal(rep.Loaded, []string{a}) || tenantName(cfg, "a") != "A4":
				return "tenant a not loaded"
			}
			return ""
		}},
		{"an invalid value in the main file is rejected", func() {
			writeFile(t, main, "sip:\n  listen: 0.0.0.0:5060\n"+tenantMain)
		}, func(rep ReloadReport, cfg *Config) string {
			if !slices.Equal(errorFiles(rep), []string{main}) || !strings.Contains(reportErrors(rep), main+":2:3: sip.listen: 0.0.0.0:5060 listens on every address") {
				return "errors:\n" + reportErrors(rep)
			}
			return ""
		}},
	}
	for _, st := range steps {
		before := l.Current()
		st.do()
		rep := l.Reload()
		if msg := st.check(rep, l.Current()); msg != "" {
			t.Fatalf("%s: %s", st.name, msg)
		}
		if applied := len(rep.Loaded)+len(rep.Removed) > 0; applied == (l.Current() == before) {
			t.Errorf("%s: applied %v, but the config in force replaced: %v", st.name, applied, l.Current() != before)
		}
	}
}

// TestLiveKeepsConfigWhenFilesInForceFail: a file in force that stops
// validating by itself (its greeting was deleted) leaves the whole
// configuration as it was.
func TestLiveKeepsConfigWhenFilesInForceFail(t *testing.T) {
	clearEnv(t)
	t.Chdir(t.TempDir())
	if err := os.Mkdir("tenants", 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, "centralino.yaml", tenantMain)
	writeFile(t, "tenants/a.yaml", tenantA+"rules:\n  - do: [play: {file: hello.wav}, hangup]\n")
	writeFile(t, "tenants/hello.wav", "RIFF")
	l, err := NewLive("centralino.yaml")
	if err != nil {
		t.Fatalf("NewLive: %v", err)
	}
	before := l.Current()
	if got, want := before.Tenant("a").Rules[0].Do[0].Play.File, filepath.Join(mustGetwd(t), "tenants", "hello.wav"); got != want {
		t.Errorf("play file = %q, want the absolute path %q", got, want)
	}
	removeFile(t, "tenants/hello.wav")
	writeFile(t, "tenants/b.yaml", tenantB)
	// Both reloads reject the change to b.yaml (it cannot be checked
	// against a configuration that fails) and report a.yaml.
	for range 2 {
		rep := l.Reload()
		if got := errorFiles(rep); !slices.Equal(got, []string{"tenants/b.yaml", "tenants/a.yaml"}) {
			t.Errorf("errors in %v, want b.yaml rejected and a.yaml reported", got)
		}
		if got := reportErrors(rep); !strings.Contains(got, "tenants/b.yaml: tenants/a.yaml:5:") || !strings.Contains(got, "hello.wav") {
			t.Errorf("errors:\n%s", got)
		}
		if l.Current() != before {
			t.Errorf("the configuration in force was replaced")
		}
	}
}

func mustGetwd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

func TestNewLive(t *testing.T) {
	clearEnv(t)
	t.Chdir(t.TempDir())
	if err := os.Mkdir("tenants", 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, "centralino.yaml", tenantMain)
	writeFile(t, "tenants/a.yaml", "name: A\nextensions: [\"109\"]\n")
	_, err := NewLive("centralino.yaml")
	checkLines(t, errorLines(t, err), []string{`tenants/a.yaml:2:14: extensions[0]: extension "109" is not defined in extensions`})

	if _, err := NewLive("missing.yaml"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("NewLive(missing) = %v, want an os.ErrNotExist error", err)
	}

	// The demo needs no file, even with a tenants folder around.
	demo, err := NewLive("")
	if err != nil {
		t.Fatalf("NewLive(demo): %v", err)
	}
	if demo.Current().Source != DemoSource || demo.Current().Tenant("demo") == nil {
		t.Errorf("demo: source %q, tenant demo %v", demo.Current().Source, demo.Current().Tenant("demo") != nil)
	}
	if rep := demo.Reload(); !rep.empty() {
		t.Errorf("demo reload: %+v", rep)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := demo.Watch(ctx, nil); err != nil {
		t.Errorf("demo Watch = %v", err)
	}
}

// watchRun is a Watch running in the background for a test.
type watchRun struct {
	reports chan ReloadReport
}

func startWatch(t *testing.T, l *Live) *watchRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &watchRun{reports: make(chan ReloadReport, 16)}
	done := make(chan error, 1)
	go func() {
		done <- l.Watch(ctx, func(rep ReloadReport) {
			select {
			case w.reports <- rep:
			case <-ctx.Done():
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Watch = %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("Watch did not return after its context ended")
		}
	})
	return w
}

// waitFor waits until cond holds, checking after each reload.
func (w *watchRun) waitFor(t *testing.T, what string, cond func(rep ReloadReport) bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	var last ReloadReport
	for !cond(last) {
		select {
		case last = <-w.reports:
		case <-deadline:
			t.Fatalf("timed out waiting for %s; last report %+v\n%s", what, last, reportErrors(last))
		}
	}
}

// TestLiveWatch edits, renames, deletes and recreates files under Watch,
// and checks what is in force after each change.
func TestLiveWatch(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	tenants := filepath.Join(dir, "tenants")
	main := filepath.Join(dir, "centralino.yaml")
	a, b := filepath.Join(tenants, "a.yaml"), filepath.Join(tenants, "b.yaml")
	if err := os.Mkdir(tenants, 0o700); err != nil {
		t.Fatal(err)
	}
	mainYAML := tenantMain + "tenants_dir: " + tenants + "\n"
	writeFile(t, main, mainYAML)
	writeFile(t, a, tenantA)
	l, err := NewLive(main)
	if err != nil {
		t.Fatalf("NewLive: %v", err)
	}
	w := startWatch(t, l)
	has := func(id, name string) func(ReloadReport) bool {
		return func(ReloadReport) bool { return tenantName(l.Current(), id) == name }
	}
	rejected := func(file, text string) func(ReloadReport) bool {
		return func(rep ReloadReport) bool {
			for _, fe := range rep.Errors {
				if fe.File == file && strings.Contains(fe.Err.Error(), text) {
					return true
				}
			}
			return false
		}
	}

	writeFile(t, a, strings.Replace(tenantA, "A", "A2", 1))
	w.waitFor(t, "an edit in place", has("a", "A2"))

	// An editor's atomic save: a hidden temporary file renamed over a.yaml.
	tmp := filepath.Join(tenants, ".a.yaml.tmp")
	writeFile(t, tmp, strings.Replace(tenantA, "A", "A3", 1))
	if err := os.Rename(tmp, a); err != nil {
		t.Fatal(err)
	}
	w.waitFor(t, "an atomic save", has("a", "A3"))

	writeFile(t, b, tenantB)
	w.waitFor(t, "a new file", has("b", "B"))

	writeFile(t, b, "name: B2\nnumbers: [\"+39\"]\n")
	w.waitFor(t, "a broken edit to be rejected", rejected(b, b+`:2:11: numbers[0]: "+39" must be an E.164 number`))
	if got := tenantName(l.Current(), "b"); got != "B" {
		t.Fatalf("after a broken edit tenant b is %q, want the last good B", got)
	}

	// An editor that truncates, then writes: the empty file is rejected
	// meanwhile, and the write fixes it.
	writeFile(t, b, "")
	w.waitFor(t, "an empty file to be rejected", rejected(b, "file is empty"))
	if got := tenantName(l.Current(), "b"); got != "B" {
		t.Fatalf("after an empty save tenant b is %q, want the last good B", got)
	}
	writeFile(t, b, strings.Replace(tenantB, "B", "B3", 1))
	w.waitFor(t, "the fixed file", has("b", "B3"))

	removeFile(t, b)
	w.waitFor(t, "a deleted file", has("b", ""))
	writeFile(t, b, tenantB)
	w.waitFor(t, "a recreated file", has("b", "B"))

	// The folder itself goes (kept: it was set explicitly, so a missing
	// folder is an error), then comes back with other files.
	if err := os.RemoveAll(tenants); err != nil {
		t.Fatal(err)
	}
	w.waitFor(t, "the missing folder to be reported", rejected(tenants, "cannot read the tenants folder"))
	if tenantName(l.Current(), "a") != "A3" || tenantName(l.Current(), "b") != "B" {
		t.Fatalf("tenants dropped when their folder went away")
	}
	if err := os.Mkdir(tenants, 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(tenants, "c.yaml"), "name: C\n")
	w.waitFor(t, "the recreated folder", func(ReloadReport) bool {
		cfg := l.Current()
		return tenantName(cfg, "c") == "C" && cfg.Tenant("a") == nil && cfg.Tenant("b") == nil
	})
	writeFile(t, filepath.Join(tenants, "d.yaml"), "name: D\n")
	w.waitFor(t, "a file in the recreated folder", has("d", "D"))

	// A restart-only setting is reported and not applied; the rest is.
	writeFile(t, main, "sip:\n  listen: 127.0.0.1:5090\nlog:\n  level: warn\n"+mainYAML)
	w.waitFor(t, "a main file change", func(rep ReloadReport) bool { return slices.Contains(rep.Restart, "sip.listen") })
	if cfg := l.Current(); cfg.SIP.Listen != "127.0.0.1:5060" || cfg.Log.Level != "warn" {
		t.Errorf("after the main file change: sip.listen %s (want the running 127.0.0.1:5060), log.level %s (want warn)", cfg.SIP.Listen, cfg.Log.Level)
	}
}

func TestIsTenantFile(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"rossi.yaml", true},
		{"rossi.yml", true},
		{".rossi.yaml", false},
		{".rossi.yaml.swp", false},
		{"rossi.yaml~", false},
		{".#rossi.yaml", false},
		{"#rossi.yaml#", false},
		{"rossi.yaml.bak", false},
		{"rossi.json", false},
		{".yaml", false},
		{"README", false},
	}
	for _, tt := range tests {
		if got := isTenantFile(tt.name); got != tt.want {
			t.Errorf("isTenantFile(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
