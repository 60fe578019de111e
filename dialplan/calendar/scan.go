package calendar

import (
	"bytes"
	"fmt"
	"strings"
)

// Limits that bound the work Parse does on hostile input. Real calendars
// stay far below them: a busy person's ten-year Outlook export is a few MB.
const (
	maxInputSize  = 32 << 20
	maxDepth      = 16   // VCALENDAR > VEVENT > VALARM is 3
	maxParamValue = 1024 // go-ical builds parameter values a byte at a time
)

// lineInfo records where things are in the file, so errors found after
// go-ical has built its tree can still say "line N".
type lineInfo struct {
	// events holds, for each VEVENT directly inside a VCALENDAR in file
	// order (the order of go-ical's Calendar.Events), where it begins and
	// where each of its properties is, by name, in order of appearance.
	events []eventLines
}

type eventLines struct {
	begin int
	props map[string][]int
}

// line returns the line of the i-th property called name, or the event's
// BEGIN line when unknown.
func (el eventLines) line(name string, i int) int {
	if l := el.props[name]; i < len(l) {
		return l[i]
	}
	return el.begin
}

const utf8BOM = "\uFEFF"

// scan checks the content lines and the BEGIN/END structure of data,
// reporting problems with their line numbers, and returns the text
// normalised for go-ical's decoder: no BOM, no folding, LF line ends, no
// blank lines. go-ical reports errors without line numbers, and panics on
// some malformed lines (a parameter with no ':' after it), so it only ever
// sees lines that passed here.
func scan(data []byte) ([]byte, lineInfo, error) {
	var info lineInfo
	if len(data) > maxInputSize {
		return nil, info, fmt.Errorf("calendar is larger than %d MB", maxInputSize>>20)
	}
	data = bytes.TrimPrefix(data, []byte(utf8BOM))

	out := make([]byte, 0, len(data))
	type open struct {
		name string
		line int
	}
	var stack []open
	calendars := 0
	var cur []byte // the logical line being unfolded
	curLine := 0
	ev := -1 // index in info.events of the VEVENT being read

	flush := func() error {
		if cur == nil {
			return nil
		}
		// go-ical's reader drops a '\r' before '\n'; drop them all here so
		// both of us see the same line.
		line := strings.TrimRight(string(cur), "\r")
		cur = nil
		name, value, err := lexLine(line)
		if err != nil {
			return fmt.Errorf("line %d: %w", curLine, err)
		}
		switch name {
		case "BEGIN":
			comp := strings.ToUpper(value)
			switch {
			case comp == "":
				return fmt.Errorf("line %d: BEGIN without a component name", curLine)
			case len(stack) == 0 && comp != "VCALENDAR":
				return fmt.Errorf("line %d: expected BEGIN:VCALENDAR, got BEGIN:%s", curLine, value)
			case len(stack) >= maxDepth:
				return fmt.Errorf("line %d: components nested more than %d deep", curLine, maxDepth)
			}
			if comp == "VCALENDAR" {
				calendars++
			}
			if comp == "VEVENT" && len(stack) == 1 {
				info.events = append(info.events, eventLines{begin: curLine, props: map[string][]int{}})
				ev = len(info.events) - 1
			}
			stack = append(stack, open{comp, curLine})
		case "END":
			if len(stack) == 0 {
				return fmt.Errorf("line %d: END:%s without BEGIN", curLine, value)
			}
			top := stack[len(stack)-1]
			if !strings.EqualFold(value, top.name) {
				return fmt.Errorf("line %d: END:%s, but BEGIN:%s at line %d is still open", curLine, value, top.name, top.line)
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 1 {
				ev = -1
			}
		default:
			if len(stack) == 0 {
				if calendars == 0 {
					return fmt.Errorf("line %d: not an iCalendar file: expected BEGIN:VCALENDAR, got %q", curLine, clip(line))
				}
				return fmt.Errorf("line %d: %s after END:VCALENDAR", curLine, name)
			}
			if ev >= 0 && len(stack) == 2 {
				props := info.events[ev].props
				props[name] = append(props[name], curLine)
			}
		}
		out = append(out, line...)
		out = append(out, '\n')
		return nil
	}

	n := 0
	for len(data) > 0 {
		n++
		var raw []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			raw, data = data[:i], data[i+1:]
			raw = bytes.TrimSuffix(raw, []byte("\r"))
		} else {
			raw, data = data, nil
		}
		switch {
		case len(raw) == 0:
			// Not allowed by RFC 5545, but common at the end of files.
			if err := flush(); err != nil {
				return nil, info, err
			}
		case raw[0] == ' ' || raw[0] == '\t':
			if cur == nil {
				return nil, info, fmt.Errorf("line %d: folded line continues nothing", n)
			}
			cur = append(cur, raw[1:]...)
		default:
			if err := flush(); err != nil {
				return nil, info, err
			}
			// Capped, so that unfolding copies instead of writing into data.
			cur, curLine = raw[:len(raw):len(raw)], n
		}
	}
	if err := flush(); err != nil {
		return nil, info, err
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		return nil, info, fmt.Errorf("line %d: end of file, but BEGIN:%s at line %d is still open", n, top.name, top.line)
	}
	if calendars == 0 {
		return nil, info, fmt.Errorf("not an iCalendar file: no BEGIN:VCALENDAR")
	}
	return out, info, nil
}

// lexLine splits a content line into its upper-cased name and its value,
// checking the parameters in between (RFC 5545 section 3.1).
func lexLine(s string) (name, value string, err error) {
	i := strings.IndexAny(s, ";:")
	switch {
	case i < 0:
		return "", "", fmt.Errorf("no ':' in %q", clip(s))
	case i == 0:
		return "", "", fmt.Errorf("empty property name in %q", clip(s))
	}
	name, rest := strings.ToUpper(s[:i]), s[i:]
	for rest[0] == ';' {
		rest = rest[1:]
		j := 0
		for j < len(rest) && isTokenChar(rest[j]) {
			j++
		}
		if j == 0 || j == len(rest) || rest[j] != '=' {
			return "", "", fmt.Errorf("%s: malformed parameter in %q", name, clip(s))
		}
		param := rest[:j]
		rest = rest[j+1:]
		for {
			var v string
			if strings.HasPrefix(rest, `"`) {
				k := strings.IndexByte(rest[1:], '"')
				if k < 0 {
					return "", "", fmt.Errorf("%s: parameter %s: unterminated quoted value", name, param)
				}
				v, rest = rest[1:1+k], rest[k+2:]
			} else {
				k := strings.IndexAny(rest, "\";,:")
				if k < 0 {
					return "", "", fmt.Errorf("%s: no ':' after the parameters", name)
				}
				if rest[k] == '"' {
					return "", "", fmt.Errorf("%s: parameter %s: '\"' inside an unquoted value", name, param)
				}
				v, rest = rest[:k], rest[k:]
			}
			if len(v) > maxParamValue {
				return "", "", fmt.Errorf("%s: parameter %s: value longer than %d bytes", name, param, maxParamValue)
			}
			if rest == "" {
				return "", "", fmt.Errorf("%s: no ':' after the parameters", name)
			}
			if rest[0] != ',' {
				break
			}
			rest = rest[1:]
		}
		if rest[0] != ';' && rest[0] != ':' {
			return "", "", fmt.Errorf("%s: parameter %s: unexpected %q after a quoted value", name, param, rest[0])
		}
	}
	return name, rest[1:], nil
}

// isTokenChar reports whether c may appear in a parameter name: RFC 5545
// allows letters, digits and '-'; '_' is tolerated.
func isTokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

// clip shortens s for an error message.
func clip(s string) string {
	const max = 60
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
