package config

import (
	"fmt"
	"reflect"
	"strings"
	"time"
)

// The file's shape is derived from the structs' mapstructure tags, so the
// unknown-key check, the environment variables and viper's decoding can never
// disagree about which keys exist.

// kind is how a setting is written in YAML.
type kind int

const (
	kindString   kind = iota
	kindDuration      // a string such as "30s"
	kindInt
	kindBool
	kindStrings // a list of strings
	kindStruct  // a mapping of known keys
	kindStructs // a list of mappings
	// kindTenants is the inline tenant list: its schema has maps, recursive
	// actions and shorthands that viper cannot decode, so the tenant
	// decoder (tenant_decode.go) reads it from the node tree instead.
	kindTenants
)

// field is one key of a mapping.
type field struct {
	name  string // YAML key
	index int    // Go struct field index
	kind  kind
	elem  reflect.Type // struct type, for kindStruct and kindStructs
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	tenantsType  = reflect.TypeFor[[]Tenant]()
)

// fieldsOf lists the YAML keys of struct type t. Fields tagged "-" and
// unexported fields are not keys.
func fieldsOf(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("mapstructure")
		if !sf.IsExported() || tag == "-" || tag == "" {
			continue
		}
		f := field{name: tag, index: i}
		switch ft := sf.Type; {
		case ft == tenantsType:
			f.kind = kindTenants
		case ft == durationType:
			f.kind = kindDuration
		case ft.Kind() == reflect.String:
			f.kind = kindString
		case ft.Kind() == reflect.Int:
			f.kind = kindInt
		case ft.Kind() == reflect.Bool:
			f.kind = kindBool
		case ft.Kind() == reflect.Struct:
			f.kind, f.elem = kindStruct, ft
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.String:
			f.kind = kindStrings
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			f.kind, f.elem = kindStructs, ft.Elem()
		default:
			// A programmer error: a new field type the loader cannot check.
			panic(fmt.Sprintf("config: field %s.%s has unsupported type %s", t.Name(), sf.Name, ft))
		}
		out = append(out, f)
	}
	return out
}

// envKey is a setting that an environment variable can override.
type envKey struct {
	path string // "sip.listen"
	name string // "CENTRALINO_SIP_LISTEN"
	kind kind
}

const envPrefix = "CENTRALINO"

func envName(path string) string {
	return envPrefix + "_" + strings.ToUpper(strings.ReplaceAll(path, ".", "_"))
}

// envKeys lists every scalar (and plain list) setting outside the trunk,
// extension and tenant lists, which are file-only. sections lists the
// mappings and file-only lists: a variable named after one of them would
// hide, in viper, every key below it.
func envKeys() (keys, sections []envKey) {
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for _, f := range fieldsOf(t) {
			p := joinPath(prefix, f.name)
			switch f.kind {
			case kindStruct:
				sections = append(sections, envKey{path: p, name: envName(p), kind: f.kind})
				walk(f.elem, p)
			case kindStructs, kindTenants:
				sections = append(sections, envKey{path: p, name: envName(p), kind: f.kind})
			default:
				keys = append(keys, envKey{path: p, name: envName(p), kind: f.kind})
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
	return keys, sections
}

// joinPath appends a key to a dotted path.
func joinPath(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// itemPath names the i-th element of the list at path.
func itemPath(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}

// parentPath strips the last key or index: "trunks[1].mode" → "trunks[1]"
// → "trunks" → "".
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}
