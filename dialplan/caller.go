package dialplan

import (
	"path"

	"github.com/centralino/centralino/config"
)

// classify puts a caller in its class: blocked, then anonymous, then vip,
// then other. A caller with no digit at all ("", "anonymous", "Restricted",
// "unknown", ...) is anonymous: there is no number to call back or to
// match a pattern against. A number that is not E.164 ("0612345678" from a
// trunk that does not normalise) is still a number, so it is not.
func (p *Plan) classify(caller string) (class, detail string) {
	if pat, ok := matchAny(p.blocked, caller); ok {
		return config.CallerBlocked, caller + " matches " + quote(pat)
	}
	if !hasDigit(caller) {
		if caller == "" {
			return config.CallerAnonymous, "no caller number"
		}
		return config.CallerAnonymous, quote(caller) + " is not a number"
	}
	if pat, ok := matchAny(p.vip, caller); ok {
		return config.CallerVIP, caller + " matches " + quote(pat)
	}
	return config.CallerOther, caller
}

// matchAny returns the first pattern matching s. The patterns were checked
// by Compile, so Match cannot fail.
func matchAny(patterns []string, s string) (string, bool) {
	for _, pat := range patterns {
		if ok, _ := path.Match(pat, s); ok {
			return pat, true
		}
	}
	return "", false
}

func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			return true
		}
	}
	return false
}

// quote is strconv.Quote without escaping the non-ASCII letters of names.
func quote(s string) string { return `"` + s + `"` }
