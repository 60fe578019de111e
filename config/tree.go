package config

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// viper decodes YAML into maps and forgets where each value was written, so
// the same bytes are also parsed into a yaml.Node tree. Walking that tree
// against the structs gives: the line of every key and list item, the keys
// nobody knows, values of the wrong shape, and the literal text of each
// scalar (YAML reads 0100 as 64 and +390200000000 as an integer; the admin
// meant the text).

// position is where a key or list item starts in the file.
type position struct{ line, col int }

// tree is what the walk learned about one file.
type tree struct {
	file string
	// pos holds the position of every known key and list item, by path.
	pos map[string]position
	// present holds the paths whose value is not null: the admin set them.
	present map[string]bool
	// raw holds the literal text of every scalar setting, by path.
	raw map[string]string
	// tenants is the inline tenant list, left to the tenant decoder.
	tenants *yaml.Node
	errs    []*Error
}

// parseTree parses data and checks its shape against Config. Any problem it
// reports makes the file unusable: the values are not decoded further.
func parseTree(file string, data []byte) *tree {
	t := &tree{
		file:    file,
		pos:     map[string]position{},
		present: map[string]bool{},
		raw:     map[string]string{},
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.errs = append(t.errs, yamlSyntaxError(file, data, err))
		return t
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	if root.Kind == 0 || root.Kind == yaml.DocumentNode || isNull(root) {
		t.errs = append(t.errs, &Error{File: file, Msg: "file is empty: it has no settings"})
		return t
	}
	root = t.deref(root, "")
	if root == nil {
		return t
	}
	if root.Kind != yaml.MappingNode {
		t.fail(root, "", "the file must be a mapping of sections (sip:, rtp:, trunks:, ...), not %s", describe(root))
		return t
	}
	t.mapping(root, reflect.TypeFor[Config](), "")
	return t
}

func (t *tree) fail(n *yaml.Node, path, format string, args ...any) {
	t.errs = append(t.errs, &Error{File: t.file, Line: n.Line, Column: n.Column, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// deref follows an alias (*name) to the anchored node.
func (t *tree) deref(n *yaml.Node, path string) *yaml.Node {
	if n.Kind != yaml.AliasNode {
		return n
	}
	if n.Alias == nil || n.Alias.Kind == yaml.AliasNode {
		t.fail(n, path, "alias *%s does not name a value", n.Value)
		return nil
	}
	return n.Alias
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return "a single value"
	}
}

// mapping checks the keys of n against struct type st.
func (t *tree) mapping(n *yaml.Node, st reflect.Type, path string) {
	fields := fieldsOf(st)
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			t.fail(k, path, "keys must be plain names, not %s", describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			t.fail(k, path, "YAML merge keys (<<) are not supported: write the settings out")
			continue
		}
		p := joinPath(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			t.fail(k, p, "duplicate key (first set at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		f, ok := findField(fields, k.Value)
		if !ok {
			t.fail(k, p, "unknown key%s", suggest(k.Value, fields))
			continue
		}
		t.pos[p] = position{k.Line, k.Column}
		t.value(v, f.kind, f.elem, p)
	}
}

func findField(fields []field, name string) (field, bool) {
	for _, f := range fields {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

// value checks that n has the shape kind k wants, and records it.
func (t *tree) value(n *yaml.Node, k kind, elem reflect.Type, path string) {
	at := n
	if n = t.deref(n, path); n == nil || isNull(n) {
		return
	}
	t.present[path] = true
	switch k {
	case kindTenants:
		if n.Kind != yaml.SequenceNode {
			t.fail(at, path, `must be a list (one "- item" per line, or [a, b]), not %s`, describe(n))
			return
		}
		t.tenants = n
	case kindStruct:
		if n.Kind != yaml.MappingNode {
			t.fail(at, path, "must be a mapping (key: value lines), not %s", describe(n))
			return
		}
		t.mapping(n, elem, path)
	case kindStructs, kindStrings:
		if n.Kind != yaml.SequenceNode {
			t.fail(at, path, `must be a list (one "- item" per line, or [a, b]), not %s`, describe(n))
			return
		}
		for i, item := range n.Content {
			ip := itemPath(path, i)
			t.pos[ip] = position{item.Line, item.Column}
			if k == kindStructs {
				t.value(item, kindStruct, elem, ip)
				continue
			}
			if d := t.deref(item, ip); d != nil && isNull(d) {
				t.fail(item, ip, "empty list item")
				continue
			}
			t.value(item, kindString, nil, ip)
		}
	default:
		t.scalar(at, n, k, path)
	}
}

// plainTag reports whether a scalar's literal text is a usable setting.
// Timestamps, binary and custom tags would reach viper as something else.
func plainTag(tag string) bool {
	switch tag {
	case "!!str", "!!int", "!!float", "!!bool":
		return true
	}
	return false
}

func (t *tree) scalar(at, n *yaml.Node, k kind, path string) {
	if n.Kind != yaml.ScalarNode {
		t.fail(at, path, "must be a single value, not %s", describe(n))
		return
	}
	if !plainTag(n.ShortTag()) {
		t.fail(at, path, "must be plain text: put the value in quotes")
		return
	}
	switch k {
	case kindDuration:
		if _, err := time.ParseDuration(n.Value); err != nil {
			t.fail(at, path, `%q is not a duration: write a number with a unit, like "30s" or "5m"`, n.Value)
			return
		}
	case kindInt:
		if _, err := strconv.Atoi(n.Value); err != nil {
			t.fail(at, path, "%q is not a whole number", n.Value)
			return
		}
	case kindBool:
		if _, ok := parseBool(n.Value); !ok {
			t.fail(at, path, "%q is not true or false", n.Value)
			return
		}
	}
	t.raw[path] = n.Value
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// suggest returns ` (did you mean "x"?)` for the known key closest to name,
// when one is close enough to be a typo.
func suggest(name string, fields []field) string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	return suggestName(name, names)
}

// suggestName is suggest for a list of names.
func suggestName(name string, names []string) string {
	best, bestDist := "", -1
	for _, n := range names {
		d := editDistance(strings.ToLower(name), n)
		if bestDist < 0 || d < bestDist {
			best, bestDist = n, d
		}
	}
	if bestDist < 0 || bestDist > 2 || bestDist >= len(best) {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

var (
	yamlLineRe   = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	yamlAnchorRe = regexp.MustCompile(`unknown anchor '(.*)' referenced`)
)

// yamlSyntaxError turns a yaml.v3 error into an *Error with a line. yaml.v3
// leaves the line out when the problem is on the first line, and for
// unknown anchors, which are found by searching for the reference.
func yamlSyntaxError(file string, data []byte, err error) *Error {
	msg := strings.TrimSpace(err.Error())
	line := 1
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		if n, convErr := strconv.Atoi(m[1]); convErr == nil && n > 0 {
			line = n
		}
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
		if m := yamlAnchorRe.FindStringSubmatch(msg); m != nil {
			for i, l := range strings.Split(string(data), "\n") {
				if strings.Contains(l, "*"+m[1]) {
					line = i + 1
					break
				}
			}
			// Feature codes and menu keys start with *, which YAML reads
			// as an alias: the fix is quoting, not an anchor.
			msg += ` (a value starting with * must be quoted, like "*30")`
		}
	}
	// Multi-line messages ("unmarshal errors:\n  line 2: ...") read badly
	// after "file:line:"; keep them on one line.
	msg = strings.Join(strings.Fields(msg), " ")
	return &Error{File: file, Line: line, Msg: "invalid YAML: " + msg}
}
