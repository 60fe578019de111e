package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

//go:embed demo.yaml
var demoYAML string

// DemoSource is Config.Source for the embedded demo configuration.
const DemoSource = "embedded demo"

// DefaultFile is the file Resolve looks for in the working directory.
const DefaultFile = "centralino.yaml"

// Load reads the YAML file at path, applies defaults and CENTRALINO_*
// environment overrides, validates, and returns the config. Every problem
// found is reported (errors.Join of *Error values), not just the first;
// a file that cannot be read gives a plain wrapped error instead.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return LoadBytes(path, data)
}

// LoadBytes is Load for in-memory YAML; name is used in error messages
// (e.g. "centralino.yaml") and as Config.Source.
func LoadBytes(name string, data []byte) (*Config, error) {
	cfg, errs := load(name, data)
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	cfg.Source = name
	return cfg, nil
}

// Demo returns the embedded demo configuration (with environment overrides
// applied); its Source is DemoSource.
func Demo() (*Config, error) {
	return LoadBytes(DemoSource, []byte(demoYAML))
}

// DemoYAML returns the embedded demo file's bytes (so `centralino` can print
// or save it). The caller owns the returned slice.
func DemoYAML() []byte {
	return []byte(demoYAML)
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

// load runs the phases in order. A phase that finds problems ends the load:
// a file of the wrong shape would only add confusing follow-on errors.
func load(name string, data []byte) (*Config, []*Error) {
	t := parseTree(name, data)
	env, envErrs := readEnv()
	if errs := append(t.errs, envErrs...); len(errs) > 0 {
		return nil, errs
	}
	cfg, err := decode(name, data)
	if err != nil {
		return nil, []*Error{err}
	}
	t.apply(reflect.ValueOf(cfg).Elem(), "", env)
	for path := range env {
		if v := valueAt(reflect.ValueOf(cfg).Elem(), path); v.Kind() == reflect.Slice {
			v.Set(reflect.ValueOf(splitList(v.Interface().([]string))))
		}
	}
	c := &checker{file: name, tree: t, env: env, firstListing: map[string]string{}}
	cfg.idx = c.validate(cfg)
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	return cfg, nil
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
		msg := "trunks, extensions and tenants can only be set in the file: unset this variable"
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
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		// parseTree read the same bytes without error, so this is not
		// expected; report it rather than guess.
		var pe viper.ConfigParseError
		if errors.As(err, &pe) {
			if inner := errors.Unwrap(pe); inner != nil {
				err = inner
			}
		}
		return nil, yamlSyntaxError(name, data, err)
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
