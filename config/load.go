package config

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// demoFiles holds the embedded demo: centralino.yaml and tenants/.
//
//go:embed demo
var demoFiles embed.FS

// DemoSource is Config.Source for the embedded demo configuration.
const DemoSource = "embedded demo"

// DefaultFile is the file Resolve looks for in the working directory.
const DefaultFile = "centralino.yaml"

// Load reads the YAML file at path and the tenant files of its
// tenants_dir, applies defaults and CENTRALINO_* environment overrides,
// validates, and returns the config. Every problem found is reported
// (errors.Join of *Error values, file by file), not just the first; a main
// file that cannot be read gives a plain wrapped error instead.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return LoadBytes(path, data)
}

// Options adjust loading; the zero value is what Load does.
type Options struct {
	// CheckSound is called for every sound file a tenant names; an error
	// rejects the file, so that a WAV that cannot be decoded is reported by
	// `centralino check` and at reload, not at call time. (config does not
	// decode audio itself: the media package does.)
	CheckSound func(path string) error
}

// LoadWith is Load with options.
func LoadWith(path string, o Options) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return loadAll(source{name: path, data: data}, osFS{sound: o.CheckSound})
}

// LoadBytes is Load for in-memory YAML; name is used in error messages
// (e.g. "centralino.yaml"), as Config.Source and, through its folder, to
// resolve the relative paths of inline tenants. tenants_dir is read from
// disk, relative to the working directory.
func LoadBytes(name string, data []byte) (*Config, error) {
	return loadAll(source{name: name, data: data}, osFS{})
}

// Demo returns the embedded demo configuration (with environment overrides
// applied); its Source is DemoSource. It reads nothing from disk.
func Demo() (*Config, error) {
	return loadAll(source{name: DemoSource, data: demoMain()}, demoFS())
}

// DemoYAML returns the demo as one file, its tenant inline (so that
// `centralino demo-config > centralino.yaml` is a complete start). The
// caller owns the returned slice.
func DemoYAML() []byte {
	var b bytes.Buffer
	b.Write(demoMain())
	b.WriteString("tenants:\n  -\n")
	for line := range strings.Lines(string(demoTenant())) {
		if strings.TrimSpace(line) != "" {
			b.WriteString("    ")
		}
		b.WriteString(line)
	}
	return b.Bytes()
}

func demoFS() fileSystem {
	sub, err := fs.Sub(demoFiles, "demo")
	if err != nil {
		panic("config: embedded demo: " + err.Error()) // the embed directive guarantees it
	}
	return fsysFS{sub}
}

func demoMain() []byte   { return mustReadDemo("demo/centralino.yaml") }
func demoTenant() []byte { return mustReadDemo("demo/tenants/demo.yaml") }

func mustReadDemo(name string) []byte {
	b, err := demoFiles.ReadFile(name)
	if err != nil {
		panic("config: embedded demo: " + err.Error()) // the embed directive guarantees it
	}
	return b
}

// Resolve decides which file to load: flagPath if given (it must exist),
// else DefaultFile in the working directory if it exists, else "" meaning
// "use the demo".
func Resolve(flagPath string) (string, error) {
	if flagPath != "" {
		if err := regularFile(flagPath); err != nil {
			return "", fmt.Errorf("config file from --config: %w", err)
		}
		return flagPath, nil
	}
	err := regularFile(DefaultFile)
	switch {
	case err == nil:
		return DefaultFile, nil
	case errors.Is(err, os.ErrNotExist):
		return "", nil
	default:
		return "", fmt.Errorf("config file: %w", err)
	}
}

func regularFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	return nil
}

// source is one file's bytes as read.
type source struct {
	name string // path as given: error messages, Tenant.File
	data []byte
}

// fileSystem is where tenant files and the files they name are read: the
// disk, or the embedded demo.
type fileSystem interface {
	ReadDir(name string) ([]fs.DirEntry, error)
	ReadFile(name string) ([]byte, error)
	Stat(name string) (fs.FileInfo, error)
	// Abs is the name to publish in a Config for a file the tenant
	// names, so that users need not know where it was found.
	Abs(name string) string
}

type osFS struct {
	// sound, when set, checks that a sound file can be played.
	sound func(path string) error
}

// checkSound reports whether a sound file is usable (nil when no check was asked for).
func (f osFS) checkSound(path string) error {
	if f.sound == nil {
		return nil
	}
	return f.sound(path)
}

func (osFS) ReadDir(name string) ([]fs.DirEntry, error) { return os.ReadDir(name) }
func (osFS) ReadFile(name string) ([]byte, error)       { return os.ReadFile(name) }
func (osFS) Stat(name string) (fs.FileInfo, error)      { return os.Stat(name) }

// Abs makes the path absolute: it then means the same thing to every
// user, whatever folder they would have resolved it against.
func (osFS) Abs(name string) string {
	if abs, err := filepath.Abs(name); err == nil {
		return abs
	}
	return name
}

type fsysFS struct{ fsys fs.FS }

func (f fsysFS) ReadDir(name string) ([]fs.DirEntry, error) { return fs.ReadDir(f.fsys, name) }
func (f fsysFS) ReadFile(name string) ([]byte, error)       { return fs.ReadFile(f.fsys, name) }
func (f fsysFS) Stat(name string) (fs.FileInfo, error)      { return fs.Stat(f.fsys, name) }
func (f fsysFS) Abs(name string) string                     { return name }

// loadAll loads main and the tenant files of its tenants_dir.
func loadAll(main source, fsys fileSystem) (*Config, error) {
	l, errs := loadFromDisk(main, fsys)
	if len(errs) > 0 {
		return nil, errs.join([]string{main.name})
	}
	return l.cfg, nil
}

// loaded is a configuration and the files it was built from.
type loaded struct {
	cfg    *Config
	files  []source // tenant files
	dir    string   // tenants_dir
	dirSet bool     // tenants_dir was set explicitly
}

// loadFromDisk loads main, then reads its tenants_dir and builds the
// configuration from both.
func loadFromDisk(main source, fsys fileSystem) (*loaded, fileErrors) {
	m, fatal := parseMain(main, nil)
	if len(fatal) > 0 {
		return nil, fileErrors{main.name: fatal}
	}
	l := &loaded{dir: m.cfg.TenantsDir, dirSet: m.c.isSet("tenants_dir")}
	files, readErrs, err := readTenantFiles(fsys, l.dir, l.dirSet)
	if err != nil {
		m.c.errorf("tenants_dir", "%v", err)
	}
	l.files = files
	cfg, errs := assemble(m, files, fsys)
	for _, e := range readErrs {
		errs.add(e.File, e)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	l.cfg = cfg
	return l, nil
}

// isTenantFile reports whether a file in tenants_dir holds a tenant:
// editors' hidden files, backups (name~) and swap files are not.
func isTenantFile(name string) bool {
	if strings.HasPrefix(name, ".") {
		return false
	}
	ext := filepath.Ext(name)
	return (ext == ".yaml" || ext == ".yml") && len(name) > len(ext)
}

// tenantIDOf is the tenant id a file's name gives.
func tenantIDOf(file string) string {
	base := filepath.Base(file)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// readTenantFiles reads the tenant files of dir, sorted by name. A missing
// folder is no error unless it was set explicitly; a file that cannot be
// read is reported in readErrs.
func readTenantFiles(fsys fileSystem, dir string, explicit bool) (files []source, readErrs []*Error, err error) {
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !explicit {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("cannot read the tenants folder %s: %w", dir, unwrapPath(err))
	}
	for _, e := range entries {
		if !isTenantFile(e.Name()) {
			continue
		}
		name := filepath.Join(dir, e.Name())
		// Stat, not the entry's type: a symlink to a file is a file.
		fi, err := fsys.Stat(name)
		if err == nil && !fi.Mode().IsRegular() {
			continue
		}
		var data []byte
		if err == nil {
			data, err = fsys.ReadFile(name)
		}
		if err != nil {
			readErrs = append(readErrs, &Error{File: name, Msg: fmt.Sprintf("cannot read the file: %v", unwrapPath(err))})
			continue
		}
		files = append(files, source{name: name, data: data})
	}
	return files, readErrs, nil
}

// unwrapPath drops the path from an *fs.PathError: messages name it.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// mainPhase is the main file decoded, with its own settings checked.
type mainPhase struct {
	src  source
	cfg  *Config
	tree *tree
	c    *checker
	idx  *index
	// restart lists the restart-only settings that differed from the pin
	// (and were set back to it).
	restart []string
}

// parseMain decodes and checks the main file, except its tenants. The
// problems it returns make the file unusable (wrong shape, bad variables);
// the others are kept in m.c for assemble to report with the rest. When
// pin is set, the restart-only settings keep pin's values.
func parseMain(src source, pin *Config) (*mainPhase, []*Error) {
	t := parseTree(src.name, src.data)
	env, envErrs := readEnv()
	if errs := append(t.errs, envErrs...); len(errs) > 0 {
		return nil, errs
	}
	cfg, err := decode(src.name, src.data)
	if err != nil {
		return nil, []*Error{err}
	}
	t.apply(reflect.ValueOf(cfg).Elem(), "", env)
	for path := range env {
		if v := valueAt(reflect.ValueOf(cfg).Elem(), path); v.Kind() == reflect.Slice {
			v.Set(reflect.ValueOf(splitList(v.Interface().([]string))))
		}
	}
	m := &mainPhase{src: src, cfg: cfg, tree: t}
	if pin != nil {
		m.restart = pinRestart(cfg, pin)
	}
	m.c = &checker{file: src.name, tree: t, env: env}
	m.idx = m.c.validate(cfg)
	return m, nil
}

// assemble decodes the tenants (inline, then files in order), checks them
// against the main settings and each other, and completes the Config. It
// returns the problems of every file; the Config only when there are none.
func assemble(m *mainPhase, files []source, fsys fileSystem) (*Config, fileErrors) {
	errs := fileErrors{}
	cfg, idx := m.cfg, m.idx
	var srcs []*tenantSrc
	var decoded []Tenant
	if list := m.tree.tenants; list != nil {
		dec := newTenantDecoder(m.src.name)
		dir := filepath.Dir(m.src.name)
		for i, item := range list.Content {
			p := itemPath("tenants", i)
			dec.pos[p] = position{item.Line, item.Column}
			if r := dec.deref(item, p); r != nil && isNull(r) {
				dec.fail(item, p, "empty list item")
				continue
			}
			if t, ok := dec.tenant(item, p); ok {
				decoded = append(decoded, t)
				srcs = append(srcs, &tenantSrc{file: m.src.name, prefix: p, dec: dec, dir: dir})
			}
		}
		errs.add(m.src.name, dec.errs...)
	}
	for _, f := range files {
		dec := newTenantDecoder(f.name)
		t, ok := dec.parseTenantFile(f.data)
		errs.add(f.name, dec.errs...)
		if !ok {
			continue
		}
		t.File = f.name
		id := tenantIDOf(f.name)
		switch {
		case !dec.present["id"]:
			t.ID = id
		case t.ID != id:
			pos := dec.pos["id"]
			errs.add(f.name, &Error{File: f.name, Line: pos.line, Column: pos.col, Path: "id",
				Msg: fmt.Sprintf("%q does not match the file name, which gives %q: rename the file or fix the id (or leave id out)", t.ID, id)})
			continue
		}
		decoded = append(decoded, t)
		srcs = append(srcs, &tenantSrc{file: f.name, dec: dec, dir: filepath.Dir(f.name)})
	}
	cfg.Tenants = decoded
	for i := range srcs {
		srcs[i].t = &cfg.Tenants[i]
	}
	tc := &tenantsCheck{cfg: cfg, idx: idx, fsys: fsys, errs: errs}
	tc.run(srcs)
	m.c.crossRefs(cfg, idx)
	errs.add(m.src.name, m.c.errs...)
	if len(errs) > 0 {
		return nil, errs
	}
	cfg.idx = idx
	cfg.Source = m.src.name
	return cfg, nil
}

// restartSetting is a setting that only a restart applies: listeners,
// ports, certificates, the data folder and the watched tenants folder.
type restartSetting struct {
	key string
	get func(*Config) *string
	// def, when set, is the value the setting takes when left empty,
	// derived from settings pinned before it (pin holds the value in
	// force, derived or not).
	def func(*Config) string
	// list replaces get for a list setting.
	list func(*Config) *[]string
}

func restartSettings() []restartSetting {
	return []restartSetting{
		{key: "sip.listen", get: func(c *Config) *string { return &c.SIP.Listen }},
		{key: "sip.tls_listen", get: func(c *Config) *string { return &c.SIP.TLSListen }},
		{key: "sip.tls_cert", get: func(c *Config) *string { return &c.SIP.TLSCert }},
		{key: "sip.tls_key", get: func(c *Config) *string { return &c.SIP.TLSKey }},
		{key: "http.listen", get: func(c *Config) *string { return &c.HTTP.Listen }},
		{key: "http.tls_cert", get: func(c *Config) *string { return &c.HTTP.TLSCert }},
		{key: "http.tls_key", get: func(c *Config) *string { return &c.HTTP.TLSKey }},
		{key: "console.webrtc_listen", get: func(c *Config) *string { return &c.Console.WebRTCListen },
			def: func(c *Config) string { return defaultWebRTCListen(c.HTTP.Listen) }},
		{key: "console.webrtc_advertise", list: func(c *Config) *[]string { return &c.Console.WebRTCAdvertise }},
		{key: "rtp.ports", get: func(c *Config) *string { return &c.RTP.Ports }},
		{key: "data", get: func(c *Config) *string { return &c.Data }},
		{key: "tenants_dir", get: func(c *Config) *string { return &c.TenantsDir }},
	}
}

// pinRestart sets cfg's restart-only settings to pin's values and returns
// the keys that differed.
func pinRestart(cfg, pin *Config) []string {
	var changed []string
	for _, s := range restartSettings() {
		if s.list != nil {
			if v, old := s.list(cfg), s.list(pin); !slices.Equal(*v, *old) {
				changed = append(changed, s.key)
				*v = slices.Clone(*old)
			}
			continue
		}
		v, old := s.get(cfg), s.get(pin)
		now := *v
		if now == "" && s.def != nil {
			now = s.def(cfg)
		}
		if now != *old {
			changed = append(changed, s.key)
			*v = *old
		}
	}
	return changed
}

// readEnv finds the CENTRALINO_* variables that are set and checks the ones
// viper would fail to decode. It returns the overridden paths and the
// variable that overrides each.
func readEnv() (map[string]string, []*Error) {
	keys, sections := envKeys()
	set := map[string]string{}
	var errs []*Error
	for _, k := range keys {
		v, ok := os.LookupEnv(k.name)
		if !ok || v == "" { // viper ignores empty variables too
			continue
		}
		set[k.path] = k.name
		var msg string
		switch k.kind {
		case kindDuration:
			if _, err := time.ParseDuration(v); err != nil {
				msg = fmt.Sprintf(`%q is not a duration: write a number with a unit, like "30s" or "5m"`, v)
			}
		case kindBool:
			if _, err := strconv.ParseBool(v); err != nil {
				msg = fmt.Sprintf("%q is not true or false", v)
			}
		case kindInt:
			if _, err := strconv.Atoi(v); err != nil {
				msg = fmt.Sprintf("%q is not a whole number", v)
			}
		}
		if msg != "" {
			errs = append(errs, &Error{File: k.name, Path: k.path, Msg: msg})
		}
	}
	for _, s := range sections {
		if v, ok := os.LookupEnv(s.name); !ok || v == "" {
			continue
		}
		msg := "trunks, extensions, operators and tenants can only be set in the file: unset this variable"
		if s.kind == kindStruct {
			// viper would let this variable hide every key of the section.
			msg = "is a section, not a setting: unset this variable and set its keys one at a time"
			for _, k := range keys {
				if strings.HasPrefix(k.path, s.path+".") {
					msg += ", like " + k.name
					break
				}
			}
		}
		errs = append(errs, &Error{File: s.name, Path: s.path, Msg: msg})
	}
	return set, errs
}

// decode loads data with viper: defaults for every setting outside the lists
// (so that a variable applies even when the file leaves its key out), then
// the file, then CENTRALINO_* variables.
func decode(name string, data []byte) (*Config, *Error) {
	v := viper.New()
	v.SetConfigType("yaml")
	v.SetEnvPrefix(envPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	def := reflect.ValueOf(defaults())
	keys, _ := envKeys()
	for _, k := range keys {
		v.SetDefault(k.path, valueAt(def, k.path).Interface())
	}
	// The tenants are left to the tenant decoder: viper's decoding cannot
	// express their schema (and UnmarshalExact would reject it).
	var settings map[string]any
	if err := yaml.Unmarshal(data, &settings); err != nil {
		// parseTree read the same bytes without error, so this is not
		// expected; report it rather than guess.
		return nil, yamlSyntaxError(name, data, err)
	}
	delete(settings, "tenants")
	if err := v.MergeConfigMap(settings); err != nil {
		return nil, &Error{File: name, Msg: fmt.Sprintf("cannot read the settings: %v", err)}
	}
	var cfg Config
	hook := mapstructure.ComposeDecodeHookFunc(
		mapstructure.StringToTimeDurationHookFunc(),
		mapstructure.StringToWeakSliceHookFunc(","),
	)
	if err := v.UnmarshalExact(&cfg, viper.DecodeHook(hook)); err != nil {
		return nil, &Error{File: name, Msg: fmt.Sprintf("cannot decode the settings: %v", err)}
	}
	return &cfg, nil
}

// valueAt returns the field of v (a Config) at a dotted path without list
// indexes, such as "sip.listen".
func valueAt(v reflect.Value, path string) reflect.Value {
	for key := range strings.SplitSeq(path, ".") {
		f, ok := findField(fieldsOf(v.Type()), key)
		if !ok {
			panic("config: no setting " + path) // programmer error
		}
		v = v.Field(f.index)
	}
	return v
}

// splitList tidies a list that came from a comma-separated variable.
func splitList(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// apply replaces the values viper decoded from the file with the literal
// text the admin wrote, except where a variable overrides them.
func (t *tree) apply(v reflect.Value, path string, env map[string]string) {
	for _, f := range fieldsOf(v.Type()) {
		p := joinPath(path, f.name)
		if _, ok := env[p]; ok {
			continue
		}
		fv := v.Field(f.index)
		switch f.kind {
		case kindTenants:
			// Decoded from the node tree by the tenant decoder.
		case kindStruct:
			t.apply(fv, p, env)
		case kindStructs:
			for i := range fv.Len() {
				t.apply(fv.Index(i), itemPath(p, i), env)
			}
		case kindStrings:
			for i := range fv.Len() {
				if raw, ok := t.raw[itemPath(p, i)]; ok {
					fv.Index(i).SetString(raw)
				}
			}
		default:
			if raw, ok := t.raw[p]; ok {
				setScalar(fv, f.kind, raw)
			}
		}
	}
}

// setScalar sets v from text that parseTree has already checked.
func setScalar(v reflect.Value, k kind, raw string) {
	switch k {
	case kindString:
		v.SetString(raw)
	case kindDuration:
		d, _ := time.ParseDuration(raw)
		v.SetInt(int64(d))
	case kindInt:
		n, _ := strconv.Atoi(raw)
		v.SetInt(int64(n))
	case kindBool:
		b, _ := parseBool(raw)
		v.SetBool(b)
	}
}
