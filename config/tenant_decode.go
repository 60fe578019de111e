package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Tenants are decoded from the yaml.Node tree by reflection over the `yaml`
// tags of tenant.go, not by viper: the schema has maps (status, menu
// options), recursive actions and shorthands, and every error must carry
// the line and column it is about.
//
// Shorthands: a list of one may be written as its item (`caller: vip`,
// `do: voicemail`); an action without options as a bare word (`- hangup`);
// a holiday as its date (`patron: "12-07"`).

// nodeBudget bounds the values one file may hold, and maxDepth their
// nesting. Aliases let a few lines stand for millions of values; no
// tenant needs more than a few thousand, nor menus nested more than a
// dozen deep.
const (
	nodeBudget = 100_000
	maxDepth   = 100
)

var (
	actionType  = reflect.TypeFor[Action]()
	holidayType = reflect.TypeFor[Holiday]()
	soundType   = reflect.TypeFor[Sound]()
	stringType  = reflect.TypeFor[string]()
)

// tenantDecoder decodes tenants from one file, recording where each value
// was written for the checks that follow.
type tenantDecoder struct {
	file string
	// pos holds, by full path, where the value was written (for a map
	// entry: its key).
	pos map[string]position
	// present holds the paths whose value is not null.
	present map[string]bool
	errs    []*Error
	budget  int
	depth   int
	// expanding holds the anchored values being decoded through an
	// alias: one used inside itself would never end.
	expanding map[*yaml.Node]bool
}

func newTenantDecoder(file string) *tenantDecoder {
	return &tenantDecoder{
		file:      file,
		pos:       map[string]position{},
		present:   map[string]bool{},
		budget:    nodeBudget,
		expanding: map[*yaml.Node]bool{},
	}
}

func (d *tenantDecoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// parseTenantFile decodes a tenant file: one YAML document holding one
// tenant mapping. ok is false when the file has problems (in d.errs).
func (d *tenantDecoder) parseTenantFile(data []byte) (t Tenant, ok bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.errs = append(d.errs, &Error{File: d.file, Line: 1, Column: 1, Msg: "file is empty: a tenant file holds one tenant (name:, numbers:, rules:, ...)"})
		} else {
			d.errs = append(d.errs, yamlSyntaxError(d.file, data, err))
		}
		return Tenant{}, false
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		d.errs = append(d.errs, yamlSyntaxError(d.file, data, err))
		return Tenant{}, false
	default:
		d.fail(&next, "", "a tenant file holds one tenant: move this document (after ---) to a file of its own")
		return Tenant{}, false
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind == yaml.DocumentNode || isNull(root) {
		d.errs = append(d.errs, &Error{File: d.file, Line: max(root.Line, 1), Column: max(root.Column, 1), Msg: "file is empty: a tenant file holds one tenant (name:, numbers:, rules:, ...)"})
		return Tenant{}, false
	}
	return d.tenant(root, "")
}

// tenant decodes one tenant mapping at path ("" for a tenant file,
// "tenants[i]" inline).
func (d *tenantDecoder) tenant(n *yaml.Node, path string) (Tenant, bool) {
	before := len(d.errs)
	var t Tenant
	at := n
	if n = d.deref(n, path); n == nil {
		return t, false
	}
	d.pos[path] = position{at.Line, at.Column}
	if n.Kind != yaml.MappingNode {
		d.fail(at, path, "a tenant must be a mapping (id:, name:, numbers:, ...), not %s", describe(n))
		return t, false
	}
	d.value(at, reflect.ValueOf(&t).Elem(), path)
	return t, len(d.errs) == before
}

// spend counts a visited value; false once the budget is gone (reported
// once).
func (d *tenantDecoder) spend(n *yaml.Node) bool {
	d.budget--
	if d.budget == 0 {
		d.fail(n, "", "too many values: the file (or its aliases, once expanded) holds more than %d", nodeBudget)
	}
	return d.budget > 0
}

func (d *tenantDecoder) deref(n *yaml.Node, path string) *yaml.Node {
	if n.Kind != yaml.AliasNode {
		return n
	}
	if n.Alias == nil || n.Alias.Kind == yaml.AliasNode {
		d.fail(n, path, "alias *%s does not name a value", n.Value)
		return nil
	}
	return n.Alias
}

// value decodes n into v, which is addressable.
func (d *tenantDecoder) value(n *yaml.Node, v reflect.Value, path string) {
	if !d.spend(n) {
		return
	}
	at := n
	if n = d.deref(n, path); n == nil || isNull(n) {
		return
	}
	if at.Kind == yaml.AliasNode {
		if d.expanding[n] {
			d.fail(at, path, "alias *%s is used inside the value it names, which would never end", at.Value)
			return
		}
		d.expanding[n] = true
		defer delete(d.expanding, n)
	}
	if d.depth++; d.depth > maxDepth {
		d.fail(at, path, "values are nested too deeply (more than %d levels)", maxDepth)
		d.budget = 0 // one report is enough
		return
	}
	defer func() { d.depth-- }()
	d.pos[path] = position{at.Line, at.Column}
	d.present[path] = true
	d.decode(at, n, v, path)
}

// decode decodes n (which at names, maybe through an alias) into v.
func (d *tenantDecoder) decode(at, n *yaml.Node, v reflect.Value, path string) {
	switch t := v.Type(); {
	case t == actionType:
		d.action(at, n, v, path)
	case t == holidayType && n.Kind == yaml.ScalarNode:
		d.scalar(at, n, v.FieldByName("Date"), path)
	case t.Kind() == reflect.Pointer:
		p := reflect.New(t.Elem())
		d.decode(at, n, p.Elem(), path)
		v.Set(p)
	case t.Kind() == reflect.Struct:
		if n.Kind != yaml.MappingNode {
			if t == soundType {
				d.fail(at, path, `must be a mapping: {file: greeting.wav}, {say: "text to speak"} or {closure: true}, not %s`, describe(n))
				return
			}
			d.fail(at, path, "must be a mapping (key: value lines), not %s", describe(n))
			return
		}
		d.mapping(n, v, path)
	case t.Kind() == reflect.Slice:
		d.list(at, n, v, path)
	case t.Kind() == reflect.Map:
		d.dict(at, n, v, path)
	default:
		d.scalar(at, n, v, path)
	}
}

// yamlFields lists the keys of struct type t from its `yaml` tags.
func yamlFields(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("yaml")
		if !sf.IsExported() || tag == "" || tag == "-" {
			continue
		}
		out = append(out, field{name: tag, index: i})
	}
	return out
}

func (d *tenantDecoder) mapping(n *yaml.Node, v reflect.Value, path string) {
	fields := yamlFields(v.Type())
	d.pairs(n, path, func(k, val *yaml.Node) {
		p := joinPath(path, k.Value)
		f, ok := findField(fields, k.Value)
		if !ok {
			d.fail(k, p, "unknown key%s", suggest(k.Value, fields))
			return
		}
		d.value(val, v.Field(f.index), p)
	})
}

// pairs walks the entries of a mapping, rejecting keys that are not plain
// names, merge keys and duplicates.
func (d *tenantDecoder) pairs(n *yaml.Node, path string, each func(k, v *yaml.Node)) {
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, "keys must be plain names, not %s", describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			d.fail(k, path, "YAML merge keys (<<) are not supported: write the settings out")
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.fail(k, joinPath(path, k.Value), "duplicate key (first set at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		each(k, v)
	}
}

// dict decodes a map keyed by plain names (status, menu options).
func (d *tenantDecoder) dict(at, n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(at, path, "must be a mapping (key: value lines), not %s", describe(n))
		return
	}
	m := reflect.MakeMap(v.Type())
	d.pairs(n, path, func(k, val *yaml.Node) {
		p := joinPath(path, k.Value)
		e := reflect.New(v.Type().Elem()).Elem()
		d.value(val, e, p)
		// Checks of a map entry are about its key (a person, a digit).
		d.pos[p] = position{k.Line, k.Column}
		d.present[p] = true
		m.SetMapIndex(reflect.ValueOf(k.Value), e)
	})
	v.Set(m)
}

func (d *tenantDecoder) list(at, n *yaml.Node, v reflect.Value, path string) {
	elem := v.Type().Elem()
	items := n.Content
	if n.Kind != yaml.SequenceNode {
		single := (elem == stringType && n.Kind == yaml.ScalarNode) ||
			(elem == actionType && n.Kind != yaml.SequenceNode)
		if !single {
			d.fail(at, path, `must be a list (one "- item" per line, or [a, b]), not %s`, describe(n))
			return
		}
		items = []*yaml.Node{n}
	}
	out := reflect.MakeSlice(v.Type(), len(items), len(items))
	for i, item := range items {
		ip := itemPath(path, i)
		d.pos[ip] = position{item.Line, item.Column}
		if r := d.deref(item, ip); r == nil {
			continue
		} else if isNull(r) {
			d.fail(item, ip, "empty list item")
			continue
		}
		d.value(item, out.Index(i), ip)
	}
	v.Set(out)
}

// tenantTag reports whether a scalar's literal text is usable. Unlike the
// main file, dates may be left unquoted: tenant files are full of them.
func tenantTag(tag string) bool {
	return plainTag(tag) || tag == "!!timestamp"
}

func (d *tenantDecoder) scalar(at, n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(at, path, "must be a single value, not %s", describe(n))
		return
	}
	if !tenantTag(n.ShortTag()) {
		d.fail(at, path, "must be plain text: put the value in quotes")
		return
	}
	switch {
	case v.Type() == durationType:
		dur, err := time.ParseDuration(n.Value)
		if err != nil {
			d.fail(at, path, `%q is not a duration: write a number with a unit, like "30s" or "5m"`, n.Value)
			return
		}
		v.SetInt(int64(dur))
	case v.Kind() == reflect.String:
		v.SetString(n.Value)
	case v.Kind() == reflect.Int:
		i, err := strconv.Atoi(n.Value)
		if err != nil {
			d.fail(at, path, "%q is not a whole number", n.Value)
			return
		}
		v.SetInt(int64(i))
	case v.Kind() == reflect.Bool:
		b, ok := parseBool(n.Value)
		if !ok {
			d.fail(at, path, "%q is not true or false", n.Value)
			return
		}
		v.SetBool(b)
	default:
		// A programmer error: a tenant.go field type the decoder lacks.
		panic(fmt.Sprintf("config: tenant field %s has unsupported type %s", path, v.Type()))
	}
}

// actionNames lists the actions, as written in YAML, in Action's order.
func actionNames() []string {
	fields := yamlFields(actionType)
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	return names
}

// action decodes `- name` or `- name: {options}` into the one field of
// Action that it sets.
func (d *tenantDecoder) action(at, n *yaml.Node, v reflect.Value, path string) {
	var key, val *yaml.Node
	switch {
	case n.Kind == yaml.ScalarNode && tenantTag(n.ShortTag()):
		key = at
	case n.Kind == yaml.MappingNode && len(n.Content) == 2:
		key, val = n.Content[0], n.Content[1]
		if key.Kind != yaml.ScalarNode || key.ShortTag() == "!!merge" {
			d.fail(key, path, "an action's key must be its name: %s", strings.Join(actionNames(), ", "))
			return
		}
	case n.Kind == yaml.MappingNode && len(n.Content) == 0:
		d.fail(at, path, "empty action: write one of %s", strings.Join(actionNames(), ", "))
		return
	case n.Kind == yaml.MappingNode:
		var names []string
		for i := 0; i < len(n.Content); i += 2 {
			names = append(names, n.Content[i].Value)
		}
		d.fail(at, path, "an action has exactly one key, this one has %d (%s): write each action as its own list item", len(names), strings.Join(names, ", "))
		return
	default:
		d.fail(at, path, `an action is a bare word (- hangup, - voicemail, - operator) or a one-key mapping (- ring: {people: [rossi]}), not %s`, describe(n))
		return
	}
	fields := yamlFields(actionType)
	f, ok := findField(fields, key.Value)
	if !ok {
		hint := suggest(key.Value, fields)
		if hint == "" {
			hint = "; actions are " + strings.Join(actionNames(), ", ")
		}
		d.fail(key, path, "unknown action %q%s", key.Value, hint)
		return
	}
	p := reflect.New(v.Type().Field(f.index).Type.Elem())
	if val != nil {
		d.value(val, p.Elem(), joinPath(path, f.name))
	}
	v.Field(f.index).Set(p)
}
