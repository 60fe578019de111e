package config

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // tenants' time zones must load on hosts without a zoneinfo database
)

// Checks of tenants: each against the main settings, and all of them
// against each other (ids, numbers and extensions belong to one tenant).
// They also fill the defaults and the derived fields (Hours.Days,
// Location, resolved paths).

var (
	// featureRe: a star and up to four digits, which every phone can dial
	// and no extension number (digits only) can clash with.
	featureRe  = regexp.MustCompile(`^\*[0-9]{1,4}$`)
	menuKeyRe  = regexp.MustCompile(`^[0-9*#]+$`)
	monthDayRe = regexp.MustCompile(`^([0-9]{2})-([0-9]{2})$`)
	dateRe     = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	clockRe    = regexp.MustCompile(`^([0-9]{1,2}):([0-9]{2})$`)
)

// dayKeys returns the keys of Hours and the values of Conditions.Days
// that name one day, in time.Weekday order.
func dayKeys() [7]string {
	return [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
}

// tenantSrc is one decoded tenant and what its checks need to know.
type tenantSrc struct {
	t *Tenant
	// file is where its problems are reported: the tenant file, or the
	// main file for an inline tenant.
	file   string
	prefix string // "" in a tenant file, "tenants[i]" inline
	dec    *tenantDecoder
	// dir is the folder relative paths are resolved against.
	dir string
}

// locate finds the position of path (relative to the tenant) or of its
// nearest ancestor that was written.
func (s *tenantSrc) locate(path string) position {
	for p := s.full(path); ; p = parentPath(p) {
		if pos, ok := s.dec.pos[p]; ok {
			return pos
		}
		if p == "" {
			return position{}
		}
	}
}

func (s *tenantSrc) full(path string) string {
	if path == "" {
		return s.prefix
	}
	return joinPath(s.prefix, path)
}

// describe names the tenant for messages about another file.
func (s *tenantSrc) describe() string {
	if s.prefix != "" {
		return s.prefix
	}
	return s.file
}

// claim is the first tenant to list an id, number or extension.
type claim struct {
	src  *tenantSrc
	path string
}

// tenantsCheck checks every tenant of a configuration.
type tenantsCheck struct {
	cfg  *Config
	idx  *index
	fsys fileSystem
	errs fileErrors
	// claims maps "id x", "number +39..." and "extension 100" to the
	// tenant that listed it first.
	claims map[string]claim
}

// run checks srcs, whose Tenants are cfg.Tenants in order, and indexes
// them.
func (tc *tenantsCheck) run(srcs []*tenantSrc) {
	tc.claims = map[string]claim{}
	for i, s := range srcs {
		tc.identity(i, s)
	}
	for _, s := range srcs {
		c := &tenantChecker{src: s, t: s.t, cfg: tc.cfg, idx: tc.idx, fsys: tc.fsys}
		c.check()
		tc.errs.add(s.file, c.errs...)
	}
}

// errorf reports a problem of tenant s at path (relative to the tenant).
func (tc *tenantsCheck) errorf(s *tenantSrc, path, format string, args ...any) {
	pos := s.locate(path)
	tc.errs.add(s.file, &Error{File: s.file, Line: pos.line, Column: pos.col, Path: s.full(path), Msg: fmt.Sprintf(format, args...)})
}

// where describes the position of a claim for a message in from's file.
func (tc *tenantsCheck) where(cl claim, from *tenantSrc) string {
	pos := cl.src.locate(cl.path)
	if cl.src.file == from.file {
		return fmt.Sprintf("line %d", pos.line)
	}
	return fmt.Sprintf("%s:%d:%d", cl.src.file, pos.line, pos.col)
}

// identity checks what makes tenant i unique and indexes it. A clash
// between two files is reported in both, so that a reload rejects the
// one that changed whichever of the two comes first.
func (tc *tenantsCheck) identity(i int, s *tenantSrc) {
	t := s.t
	switch {
	case t.ID == "":
		tc.errorf(s, "id", "required")
	case !idRe.MatchString(t.ID):
		if s.prefix == "" && !s.dec.present["id"] {
			tc.errorf(s, "", `the file name gives the tenant id %q, which must be lower-case letters, digits, "-" or "_", starting with a letter or digit: rename the file`, t.ID)
		} else {
			tc.errorf(s, "id", `%q must be lower-case letters, digits, "-" or "_", starting with a letter or digit`, t.ID)
		}
	default:
		if tc.unique(s, "id "+t.ID, "id", func(first claim) string {
			return fmt.Sprintf("%q is already used by %s (%s); tenant ids must be unique", t.ID, first.src.describe(), tc.where(first, s))
		}) {
			tc.idx.tenants[t.ID] = i
		}
	}
	for j, n := range t.Numbers {
		jp := itemPath("numbers", j)
		if !e164Re.MatchString(n) {
			tc.errorf(s, jp, "%q must be an E.164 number like +390212345678", n)
			continue
		}
		if tc.unique(s, "number "+n, jp, func(first claim) string {
			if first.src == s {
				return fmt.Sprintf("%s is listed twice (first at %s)", n, tc.where(first, s))
			}
			return fmt.Sprintf("%s is listed for tenant %q but already belongs to tenant %q (%s); a number can belong to only one tenant",
				n, t.ID, first.src.t.ID, tc.where(first, s))
		}) {
			tc.idx.tenantOfNumber[n] = i
		}
	}
	for j, x := range t.Extensions {
		jp := itemPath("extensions", j)
		if _, ok := tc.idx.extensions[x]; !ok {
			tc.errorf(s, jp, "extension %q is not defined in extensions", x)
			continue
		}
		if tc.unique(s, "extension "+x, jp, func(first claim) string {
			if first.src == s {
				return fmt.Sprintf("extension %s is listed twice (first at %s)", x, tc.where(first, s))
			}
			return fmt.Sprintf("extension %s is listed for tenant %q but already belongs to tenant %q (%s); an extension can belong to only one tenant",
				x, t.ID, first.src.t.ID, tc.where(first, s))
		}) {
			tc.idx.tenantOfExtension[x] = i
		}
	}
}

// unique claims key for s at path. When another tenant claimed it
// first, it reports msg(first) here and, if that tenant is in another
// file, the mirror message there.
func (tc *tenantsCheck) unique(s *tenantSrc, key, path string, msg func(first claim) string) bool {
	first, dup := tc.claims[key]
	if !dup {
		tc.claims[key] = claim{src: s, path: path}
		return true
	}
	tc.errorf(s, path, "%s", msg(first))
	if first.src.file != s.file {
		tc.errorf(first.src, first.path, "%s", tc.mirror(key, first, claim{src: s, path: path}))
	}
	return false
}

// mirror is the message for the first claimant of key when a tenant in
// another file (second) claims it too.
func (tc *tenantsCheck) mirror(key string, first, second claim) string {
	what, v, _ := strings.Cut(key, " ")
	w := tc.where(second, first.src)
	switch what {
	case "id":
		return fmt.Sprintf("%q is also used by %s (%s); tenant ids must be unique", v, second.src.describe(), w)
	case "number":
		return fmt.Sprintf("%s is listed for tenant %q but also for tenant %q (%s); a number can belong to only one tenant", v, first.src.t.ID, second.src.t.ID, w)
	default:
		return fmt.Sprintf("extension %s is listed for tenant %q but also for tenant %q (%s); an extension can belong to only one tenant", v, first.src.t.ID, second.src.t.ID, w)
	}
}

// tenantChecker checks one tenant; paths are relative to the tenant.
type tenantChecker struct {
	src    *tenantSrc
	t      *Tenant
	cfg    *Config
	idx    *index
	fsys   fileSystem
	errs   []*Error
	people map[string]*Person
}

func (c *tenantChecker) errorAt(blame, path, format string, args ...any) {
	pos := c.src.locate(blame)
	c.errs = append(c.errs, &Error{File: c.src.file, Line: pos.line, Column: pos.col, Path: c.src.full(path), Msg: fmt.Sprintf(format, args...)})
}

func (c *tenantChecker) errorf(path, format string, args ...any) {
	c.errorAt(path, path, format, args...)
}

func (c *tenantChecker) isSet(path string) bool {
	return c.src.dec.present[c.src.full(path)]
}

// line is the line path was written at, for "see line N" in messages.
func (c *tenantChecker) line(path string) int {
	return c.src.locate(path).line
}

func (c *tenantChecker) check() {
	t := c.t
	c.text("name", t.Name, true)
	c.trunk()
	if !c.isSet("language") {
		t.Language = defaultLanguage
	}
	c.oneOf("language", &t.Language, "it", "en")
	c.timeZone()
	c.hours()
	c.holidays()
	c.closures()
	c.persons()
	c.callers()
	c.rules()
	c.console()
	c.contacts()
}

func (c *tenantChecker) text(path, v string, required bool) {
	if v == "" {
		if required {
			c.errorf(path, "required")
		}
		return
	}
	if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		c.errorf(path, "must not contain control characters (line breaks, tabs, ...)")
	}
}

// oneOf checks that *v is one of allowed (any case) and normalises it.
func (c *tenantChecker) oneOf(path string, v *string, allowed ...string) bool {
	return checkOneOf(c.errorf, path, v, allowed)
}

// outboundTrunk is the trunk name for forwards and mobiles, "" if none.
func (c *tenantChecker) outboundTrunk() string {
	if c.t.OutboundTrunk != "" {
		return c.t.OutboundTrunk
	}
	if c.idx.outbound >= 0 {
		return c.cfg.Trunks[c.idx.outbound].Name
	}
	return ""
}

// trunk checks t.OutboundTrunk.
func (c *tenantChecker) trunk() {
	name := c.t.OutboundTrunk
	if name == "" {
		return
	}
	ti, ok := c.idx.trunks[name]
	switch {
	case !ok:
		c.errorf("outbound_trunk", "trunk %q is not defined in trunks", name)
	case c.cfg.Trunks[ti].Host == "":
		c.errorf("outbound_trunk", "trunk %q has no host, so it cannot place calls", name)
	}
}

func (c *tenantChecker) timeZone() {
	t := c.t
	if !c.isSet("time_zone") {
		t.TimeZone = defaultTimeZone
	}
	if t.TimeZone == "" || t.TimeZone == "Local" {
		// "" is UTC and "Local" the server's zone to time.LoadLocation:
		// neither is what an admin means by a tenant's time zone.
		c.errorf("time_zone", "%q is not a time zone: write an IANA name like %q", t.TimeZone, defaultTimeZone)
		return
	}
	loc, err := time.LoadLocation(t.TimeZone)
	if err != nil {
		c.errorf("time_zone", "%q is not a time zone: write an IANA name like %q or \"Europe/London\"", t.TimeZone, defaultTimeZone)
		return
	}
	t.Location = loc
}

// ParseTimeRange parses "HH:MM-HH:MM", times from 00:00 to 24:00 (24:00
// only as an end). A range whose end is not after its start crosses
// midnight; an empty range (start = end) is an error.
func ParseTimeRange(s string) (TimeRange, error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return TimeRange{}, fmt.Errorf(`%q must be a range "HH:MM-HH:MM", like "09:00-13:00"`, s)
	}
	start, err := parseClock(strings.TrimSpace(a))
	if err != nil {
		return TimeRange{}, fmt.Errorf(`%q: %w; write a range "HH:MM-HH:MM", like "09:00-13:00"`, s, err)
	}
	end, err := parseClock(strings.TrimSpace(b))
	if err != nil {
		return TimeRange{}, fmt.Errorf(`%q: %w; write a range "HH:MM-HH:MM", like "09:00-13:00"`, s, err)
	}
	switch {
	case start == 24*60:
		return TimeRange{}, fmt.Errorf("%q: a range cannot start at 24:00: write 00:00", s)
	case start == end:
		return TimeRange{}, fmt.Errorf("%q: start and end are the same time", s)
	}
	return TimeRange{Start: start, End: end}, nil
}

// parseClock parses "HH:MM" into minutes after midnight, 24:00 included.
func parseClock(s string) (int, error) {
	m := clockRe.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a time", s)
	}
	h, min := atoi(m[1]), atoi(m[2])
	if h > 24 || min > 59 || (h == 24 && min != 0) {
		return 0, fmt.Errorf("%q is not a time from 00:00 to 24:00", s)
	}
	return h*60 + min, nil
}

// atoi converts digits that a regexp has already checked.
func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

func (c *tenantChecker) hours() {
	h := &c.t.Hours
	ranges := func(key string, list []string) []TimeRange {
		out := make([]TimeRange, 0, len(list))
		for i, s := range list {
			r, err := ParseTimeRange(s)
			if err != nil {
				c.errorf(itemPath("hours."+key, i), "%v", err)
				continue
			}
			out = append(out, r)
		}
		return out
	}
	var days [7][]TimeRange
	if c.isSet("hours.weekdays") {
		r := ranges("weekdays", h.Weekdays)
		for d := time.Monday; d <= time.Friday; d++ {
			days[d] = r
		}
	}
	if c.isSet("hours.weekend") {
		r := ranges("weekend", h.Weekend)
		days[time.Saturday], days[time.Sunday] = r, r
	}
	own := [7][]string{h.Sun, h.Mon, h.Tue, h.Wed, h.Thu, h.Fri, h.Sat}
	for d, key := range dayKeys() {
		if c.isSet("hours." + key) {
			days[d] = ranges(key, own[d])
		}
	}
	h.Days = days
}

// validMonthDay reports whether month m has day d in a leap year.
func validMonthDay(m, d int) bool {
	if m < 1 || m > 12 || d < 1 {
		return false
	}
	return d <= time.Date(2000, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// checkMonthDay checks "MM-DD" (02-29 included).
func checkMonthDay(s string) error {
	m := monthDayRe.FindStringSubmatch(s)
	if m == nil || !validMonthDay(atoi(m[1]), atoi(m[2])) {
		return fmt.Errorf(`%q is not a day of the year: write "MM-DD", like "12-07"`, s)
	}
	return nil
}

// parseDate parses "YYYY-MM-DD".
func parseDate(s string) (time.Time, error) {
	if dateRe.MatchString(s) {
		if d, err := time.Parse(time.DateOnly, s); err == nil {
			return d, nil
		}
	}
	return time.Time{}, fmt.Errorf(`%q is not a date: write "YYYY-MM-DD", like "2026-08-10"`, s)
}

func (c *tenantChecker) holidays() {
	h := &c.t.Holidays
	if h.National == nil {
		national := true
		h.National = &national
	}
	if c.isSet("holidays.patron") {
		if err := checkMonthDay(h.Patron.Date); err != nil {
			c.errorf("holidays.patron", "%v (the patron saint's day, every year)", err)
		}
		c.text("holidays.patron.name", h.Patron.Name, false)
	}
	for i, x := range h.Extra {
		p := itemPath("holidays.extra", i)
		if checkMonthDay(x.Date) != nil {
			if _, err := parseDate(x.Date); err != nil {
				c.errorf(p, `%q is not a date: write "YYYY-MM-DD" for one day, or "MM-DD" for every year`, x.Date)
			}
		}
		c.text(p+".name", x.Name, false)
	}
}

func (c *tenantChecker) closures() {
	for i := range c.t.Closures {
		cl := &c.t.Closures[i]
		p := itemPath("closures", i)
		c.text(p+".name", cl.Name, false)
		if cl.From == "" {
			c.errorf(p+".from", `required: the first day, "YYYY-MM-DD"`)
			continue
		}
		from, err := parseDate(cl.From)
		if err != nil {
			c.errorf(p+".from", "%v", err)
		}
		if cl.To == "" {
			cl.To = cl.From
		}
		to, errTo := parseDate(cl.To)
		if errTo != nil && c.isSet(p+".to") {
			c.errorf(p+".to", "%v", errTo)
		}
		if err == nil && errTo == nil && to.Before(from) {
			c.errorf(p+".to", "%s is before from (%s): the last day must not come before the first", cl.To, cl.From)
		}
		if c.isSet(p + ".greeting") {
			c.sound(p+".greeting", &cl.Greeting, false, false)
		}
	}
}

// resolve joins a relative path to the tenant's folder.
func (c *tenantChecker) resolve(name string) string {
	if filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(c.src.dir, name)
}

// file checks that name (relative to the tenant's folder) is a regular
// file, and returns its resolved path and whether it is one.
func (c *tenantChecker) file(path, name string) (string, bool) {
	full := c.resolve(name)
	fi, err := c.fsys.Stat(full)
	switch {
	case err != nil:
		c.errorf(path, "cannot read %s: %v (a relative path is relative to the folder of %s)", full, unwrapPath(err), c.src.file)
		return c.fsys.Abs(full), false
	case !fi.Mode().IsRegular():
		c.errorf(path, "%s is not a regular file", full)
		return c.fsys.Abs(full), false
	}
	return c.fsys.Abs(full), true
}

func (c *tenantChecker) persons() {
	c.people = map[string]*Person{}
	first := map[string]int{}
	for i := range c.t.People {
		pr := &c.t.People[i]
		p := itemPath("people", i)
		switch {
		case pr.ID == "":
			c.errorf(p+".id", "required")
		case !idRe.MatchString(pr.ID):
			c.errorf(p+".id", `%q must be lower-case letters, digits, "-" or "_", starting with a letter or digit`, pr.ID)
		default:
			if j, dup := first[pr.ID]; dup {
				c.errorf(p+".id", "%q is already used by people[%d] (line %d); person ids must be unique in a tenant", pr.ID, j, c.line(itemPath("people", j)+".id"))
				break
			}
			first[pr.ID] = i
			c.people[pr.ID] = pr
		}
		c.text(p+".name", pr.Name, false)
		c.text(p+".role", pr.Role, false)
		for j, x := range pr.Extensions {
			if !slices.Contains(c.t.Extensions, x) {
				c.errorf(itemPath(p+".extensions", j), "extension %q is not one of this tenant's extensions (%s)", x, listOrNone(c.t.Extensions))
			}
		}
		if pr.Mobile != "" && !e164Re.MatchString(pr.Mobile) {
			c.errorf(p+".mobile", "%q must be an E.164 number like +393331234567", pr.Mobile)
		}
		if pr.Calendar != "" {
			pr.Calendar = c.calendar(p+".calendar", pr.Calendar)
		}
	}
}

// console checks what the operator console shows and plays for the
// tenant, and fills the default answer phrase.
func (c *tenantChecker) console() {
	cn := &c.t.Console
	c.text("console.answer_phrase", cn.AnswerPhrase, false)
	if cn.AnswerPhrase == "" {
		cn.AnswerPhrase = defaultAnswerPhrase(c.t.Name, c.t.Language)
	}
	if strings.ContainsFunc(cn.Instructions, func(r rune) bool { return (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f }) {
		c.errorf("console.instructions", "must not contain control characters other than line breaks and tabs")
	}
	if c.isSet("console.hold") {
		c.sound("console.hold", &cn.Hold, false, false)
	}
}

// contacts checks the tenant's known callers: one entry per number.
func (c *tenantChecker) contacts() {
	first := map[string]int{}
	for i, ct := range c.t.Contacts {
		p := itemPath("contacts", i)
		switch {
		case ct.Number == "":
			c.errorf(p+".number", "required: the caller's E.164 number, like +390212345678")
		case !e164Re.MatchString(ct.Number):
			c.errorf(p+".number", "%q must be an E.164 number like +390212345678", ct.Number)
		default:
			if j, dup := first[ct.Number]; dup {
				c.errorf(p+".number", "%s is already listed in contacts[%d] (line %d); a number can be one contact only", ct.Number, j, c.line(itemPath("contacts", j)+".number"))
				break
			}
			first[ct.Number] = i
		}
		c.text(p+".name", ct.Name, true)
		c.text(p+".note", ct.Note, false)
	}
}

func listOrNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

// calendar checks an iCalendar source and returns it with a file path
// resolved.
func (c *tenantChecker) calendar(path, v string) string {
	lower := strings.ToLower(v)
	switch {
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		if u, err := url.Parse(v); err != nil || u.Host == "" {
			c.errorf(path, "%q is not a valid URL", v)
		}
		return v
	case strings.HasPrefix(lower, "webcal://"):
		c.errorf(path, "write https:// instead of webcal:// (it is the same address)")
		return v
	case strings.Contains(v, "://"):
		c.errorf(path, "%q must be an http(s) URL or a file", v)
		return v
	}
	full, _ := c.file(path, v)
	return full
}

func (c *tenantChecker) callers() {
	cl := &c.t.Callers
	c.patterns("callers.vip", cl.VIP)
	c.patterns("callers.blocked", cl.Blocked)
	if !c.isSet("callers.anonymous") {
		cl.Anonymous = AnonymousAllow
	}
	c.oneOf("callers.anonymous", &cl.Anonymous, AnonymousAllow, AnonymousReject)
}

// patterns checks path.Match patterns on numbers.
func (c *tenantChecker) patterns(p string, pats []string) {
	for i, pat := range pats {
		if msg := patternProblem(pat); msg != "" {
			c.errorf(itemPath(p, i), "%s", msg)
		}
	}
}

func (c *tenantChecker) rules() {
	usesVIP := false
	always := -1 // the first rule without conditions
	for i := range c.t.Rules {
		r := &c.t.Rules[i]
		p := itemPath("rules", i)
		c.text(p+".name", r.Name, false)
		if always >= 0 && always == i-1 {
			c.errorf(p, "never used: rules[%d] (line %d) has no conditions, so it takes every call", always, c.line(itemPath("rules", always)))
		}
		if c.conditions(p+".when", &r.When) == 0 && always < 0 {
			always = i
		}
		if slices.Contains(r.When.Caller, CallerVIP) {
			usesVIP = true
		}
		c.sequence(p+".do", r.Do)
	}
	if len(c.t.Callers.VIP) > 0 && !usesVIP {
		c.errorf("callers.vip", "VIP callers are listed but no rule has `caller: vip`, so they get nothing special: add a rule (usually the first) saying what happens to them")
	}
}

// conditions checks a rule's conditions and returns how many are set.
func (c *tenantChecker) conditions(p string, w *Conditions) int {
	n := 0
	for _, b := range []*bool{w.Open, w.Holiday, w.Closure} {
		if b != nil {
			n++
		}
	}
	if w.Open != nil && *w.Open && !c.hasHours() {
		c.errorf(p+".open", "the tenant has no hours, so it is never open: add hours, or remove this condition")
	}
	for i, cl := range w.Caller {
		ip := itemPath(p+".caller", i)
		switch strings.ToLower(cl) {
		case CallerVIP:
			if len(c.t.Callers.VIP) == 0 {
				c.errorf(ip, "no numbers are listed in callers.vip, so no caller is a VIP")
			}
		case CallerOther:
		case CallerAnonymous:
			if c.t.Callers.Anonymous == AnonymousReject {
				c.errorf(ip, "anonymous callers are rejected before any rule (callers.anonymous is reject), so this never matches")
			}
		case CallerBlocked:
			c.errorf(ip, "blocked callers are refused before any rule, so no rule sees them: use vip, anonymous or other")
		default:
			c.errorf(ip, "%q is not one of vip, anonymous, other", cl)
			continue
		}
		w.Caller[i] = strings.ToLower(cl)
	}
	for i, num := range w.Called {
		ip := itemPath(p+".called", i)
		switch {
		case !e164Re.MatchString(num):
			c.errorf(ip, "%q must be an E.164 number like +390212345678", num)
		case !slices.Contains(c.t.Numbers, num):
			c.errorf(ip, "%s is not one of this tenant's numbers (%s)", num, listOrNone(c.t.Numbers))
		}
	}
	for _, id := range sortedKeys(w.Status) {
		sp := p + ".status." + id
		if c.people[id] == nil {
			c.errorf(sp, "no person %q in people%s", id, suggestName(id, slices.Sorted(mapKeys(c.people))))
		}
		states := w.Status[id]
		if len(states) == 0 {
			c.errorf(sp, "list at least one of available, meeting, away, dnd")
		}
		for i := range states {
			c.oneOf(itemPath(sp, i), &states[i], StatusAvailable, StatusMeeting, StatusAway, StatusDND)
		}
	}
	for i := range w.Days {
		c.oneOf(itemPath(p+".days", i), &w.Days[i], "mon", "tue", "wed", "thu", "fri", "sat", "sun", "weekdays", "weekend")
	}
	if c.isSet(p + ".time") {
		if _, err := ParseTimeRange(w.Time); err != nil {
			c.errorf(p+".time", "%v", err)
		}
	}
	for _, set := range []bool{len(w.Caller) > 0, len(w.Called) > 0, len(w.Status) > 0, len(w.Days) > 0, w.Time != ""} {
		if set {
			n++
		}
	}
	return n
}

func (c *tenantChecker) hasHours() bool {
	for _, d := range c.t.Hours.Days {
		if len(d) > 0 {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(mapKeys(m))
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// terminal reports whether an action ends the call whatever happens.
func terminal(a *Action) bool {
	return a.Hangup != nil || a.Voicemail != nil
}

// actionName is the YAML name of the action a sets.
func actionName(a *Action) string {
	switch {
	case a.Ring != nil:
		return "ring"
	case a.Forward != nil:
		return "forward"
	case a.Operator != nil:
		return "operator"
	case a.Play != nil:
		return "play"
	case a.Menu != nil:
		return "menu"
	case a.Voicemail != nil:
		return "voicemail"
	case a.Hangup != nil:
		return "hangup"
	}
	return ""
}

// sequence checks a list of actions: each runs when the previous one
// failed, so it must end in an action that cannot fail.
func (c *tenantChecker) sequence(p string, acts []Action) {
	if len(acts) == 0 {
		c.errorf(p, "no actions: list what to do, ending with hangup or voicemail")
		return
	}
	unreachable := false
	for i := range acts {
		ip := itemPath(p, i)
		c.action(ip, &acts[i])
		if terminal(&acts[i]) && i < len(acts)-1 && !unreachable {
			unreachable = true
			c.errorf(itemPath(p, i+1), "never runs: %s (line %d) ends the call, so the actions after it are unreachable", actionName(&acts[i]), c.line(ip))
		}
	}
	if last := &acts[len(acts)-1]; !terminal(last) {
		c.errorAt(itemPath(p, len(acts)-1), p, "the last action is %q; a sequence must end with hangup or voicemail, so that no call is left without an answer", actionName(last))
	}
}

func (c *tenantChecker) action(p string, a *Action) {
	switch {
	case a.Ring != nil:
		c.ring(p+".ring", a.Ring)
	case a.Forward != nil:
		c.forward(p+".forward", a.Forward)
	case a.Operator != nil:
		if !c.isSet(p + ".operator.max_wait") {
			a.Operator.MaxWait = defaultOperatorMaxWait
		}
		c.atLeast(p+".operator.max_wait", a.Operator.MaxWait, minActionDuration)
	case a.Play != nil:
		c.sound(p+".play", a.Play, true, true)
	case a.Menu != nil:
		c.menu(p+".menu", a.Menu)
	case a.Voicemail != nil:
		v := a.Voicemail
		if c.isSet(p + ".voicemail.greeting") {
			c.sound(p+".voicemail.greeting", &v.Greeting, false, true)
		}
		if !c.isSet(p + ".voicemail.max_length") {
			v.MaxLength = defaultVoicemailLength
		}
		if v.MaxLength < minVoicemailLength || v.MaxLength > maxVoicemailLength {
			c.errorf(p+".voicemail.max_length", "%s must be from %s to %s", fmtDuration(v.MaxLength), fmtDuration(minVoicemailLength), fmtDuration(maxVoicemailLength))
		}
	case a.Hangup != nil:
		if !c.isSet(p + ".hangup.code") {
			a.Hangup.Code = defaultHangupCode
		}
		if a.Hangup.Code < 400 || a.Hangup.Code > 699 {
			c.errorf(p+".hangup.code", "%d must be a SIP failure status from 400 to 699, like 480 (unavailable) or 486 (busy)", a.Hangup.Code)
		}
	}
}

func (c *tenantChecker) atLeast(path string, d, least time.Duration) {
	if d < least {
		c.errorf(path, "%s is too short: must be at least %s", fmtDuration(d), fmtDuration(least))
	}
}

func (c *tenantChecker) ring(p string, r *RingAction) {
	if len(r.People)+len(r.Mobiles)+len(r.Extensions) == 0 {
		c.errorf(p, "ring needs at least one of people, mobiles or extensions, like ring: {people: [rossi]}")
	}
	for i, id := range r.People {
		ip := itemPath(p+".people", i)
		switch pr := c.people[id]; {
		case pr == nil:
			c.errorf(ip, "no person %q in people%s", id, suggestName(id, slices.Sorted(mapKeys(c.people))))
		case len(pr.Extensions) == 0:
			c.errorf(ip, "person %q has no extensions to ring: give them extensions, or ring their mobile (mobiles: [%s])", id, id)
		}
	}
	for i, id := range r.Mobiles {
		ip := itemPath(p+".mobiles", i)
		switch pr := c.people[id]; {
		case pr == nil:
			c.errorf(ip, "no person %q in people%s", id, suggestName(id, slices.Sorted(mapKeys(c.people))))
		case pr.Mobile == "":
			c.errorf(ip, "person %q has no mobile number: set people[].mobile", id)
		}
	}
	if len(r.Mobiles) > 0 && c.outboundTrunk() == "" {
		c.errorf(p+".mobiles", "mobiles are rung through a trunk, and no trunk has a host: add one, or set outbound_trunk")
	}
	for i, x := range r.Extensions {
		if _, ok := c.idx.extensions[x]; !ok {
			c.errorf(itemPath(p+".extensions", i), "extension %q is not defined in extensions", x)
		}
	}
	if !c.isSet(p + ".strategy") {
		r.Strategy = RingParallel
	}
	c.oneOf(p+".strategy", &r.Strategy, RingParallel, RingSequential)
	if !c.isSet(p + ".timeout") {
		r.Timeout = c.cfg.SIP.RingTimeout
	}
	c.atLeast(p+".timeout", r.Timeout, minActionDuration)
}

func (c *tenantChecker) forward(p string, f *ForwardAction) {
	switch {
	case f.Number == "":
		c.errorf(p+".number", "required: the E.164 number to forward to, like +393331234567")
	case !e164Re.MatchString(f.Number):
		c.errorf(p+".number", "%q must be an E.164 number like +393331234567", f.Number)
	}
	if f.Trunk != "" {
		ti, ok := c.idx.trunks[f.Trunk]
		switch {
		case !ok:
			c.errorf(p+".trunk", "trunk %q is not defined in trunks", f.Trunk)
		case c.cfg.Trunks[ti].Host == "":
			c.errorf(p+".trunk", "trunk %q has no host, so it cannot place calls", f.Trunk)
		}
	} else if f.Trunk = c.outboundTrunk(); f.Trunk == "" {
		c.errorf(p, "a forward goes out through a trunk, and no trunk has a host: add one, or set trunk or outbound_trunk")
	}
	if !c.isSet(p + ".timeout") {
		f.Timeout = defaultForwardTimeout
	}
	c.atLeast(p+".timeout", f.Timeout, minActionDuration)
}

// sound checks a Sound; required says it must be set, closure whether
// "the closure's greeting" makes sense here.
func (c *tenantChecker) sound(p string, s *Sound, required, closure bool) {
	n := 0
	for _, set := range []bool{s.File != "", c.isSet(p + ".say"), s.Closure} {
		if set {
			n++
		}
	}
	switch {
	case n == 0 && required:
		c.errorf(p, `set one of file (a .wav file), say (a text to speak) or closure: true`)
		return
	case n == 0:
		if c.isSet(p) {
			c.errorf(p, `set one of file (a .wav file) or say (a text to speak), or leave it out`)
		}
		return
	case n > 1:
		c.errorf(p, "set only one of file, say or closure")
		return
	}
	switch {
	case s.File != "":
		if !strings.EqualFold(filepath.Ext(s.File), ".wav") {
			c.errorf(p+".file", "%q must be a .wav file", s.File)
			return
		}
		var exists bool
		if s.File, exists = c.file(p+".file", s.File); !exists {
			return // one problem is enough
		}
		if sc, ok := c.fsys.(interface{ checkSound(string) error }); ok {
			if err := sc.checkSound(s.File); err != nil {
				c.errorf(p+".file", "%s cannot be played: %v", s.File, err)
			}
		}
	case s.Closure && !closure:
		c.errorf(p+".closure", "closure: true plays the greeting of the closure in force, which makes no sense here: use file or say")
	case !s.Closure && strings.TrimSpace(s.Say) == "":
		c.errorf(p+".say", "is empty: write the text to speak")
	}
}

func (c *tenantChecker) menu(p string, m *MenuAction) {
	c.sound(p+".prompt", &m.Prompt, true, true)
	if len(m.Options) == 0 {
		c.errorf(p+".options", `list at least one option: a key ("0"-"9", "*", "#"), or several, and the actions it runs`)
	}
	longest := 0
	for key := range m.Options {
		longest = max(longest, len(key))
	}
	for _, key := range sortedKeys(m.Options) {
		kp := p + ".options." + key
		switch {
		case !menuKeyRe.MatchString(key):
			c.errorf(kp, `%q is not a choice of phone keys: use "0"-"9", "*" and "#" (quote * and #)`, key)
			continue
		case len(key) > maxMenuChoiceKeys:
			c.errorf(kp, "%q is %d keys long: a choice has at most %d", key, len(key), maxMenuChoiceKeys)
			continue
		case longest > 1 && strings.Contains(key, "#"):
			c.errorf(kp, `%q: when a choice has more than one key, "#" ends the caller's input, so no choice may use it`, key)
			continue
		}
		c.sequence(kp, m.Options[key])
	}
	if !c.isSet(p + ".timeout") {
		m.Timeout = defaultMenuTimeout
	}
	c.atLeast(p+".timeout", m.Timeout, minActionDuration)
	if !c.isSet(p + ".digit_timeout") {
		m.DigitTimeout = defaultMenuDigitTimeout
	}
	c.atLeast(p+".digit_timeout", m.DigitTimeout, minActionDuration)
	if !c.isSet(p + ".retries") {
		m.Retries = defaultMenuRetries
	}
	if m.Retries < 0 || m.Retries > maxMenuRetries {
		c.errorf(p+".retries", "%d must be from 0 to %d", m.Retries, maxMenuRetries)
	}
	if c.isSet(p + ".invalid") {
		c.sound(p+".invalid", &m.Invalid, false, false)
	}
}
