package pbx

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/centralino/centralino/config"
	"github.com/centralino/centralino/pbx/store"
)

const testConfig = `
sip:
  listen: 127.0.0.1:5999
  min_expires: 60s
  max_expires: 3600s
  default_expires: 600s
rtp:
  ports: 31000-31099
http:
  listen: 127.0.0.1:5998
extensions:
  - number: "100"
    password: secret
    max_contacts: 2
tenants:
  - id: t
    name: T
    numbers: ["+390200000001"]
    extensions: ["100"]
`

// testServer builds a server (nothing bound) on a memory store with a
// clock the test controls.
func testServer(t *testing.T) (*Server, *store.Memory, *time.Time) {
	t.Helper()
	cfg, err := config.LoadBytes("test.yaml", []byte(testConfig))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	mem := store.NewMemory()
	s, err := New(cfg, Options{
		Store:  mem,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:    func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, mem, &now
}

func register(t *testing.T, src string, cseq int, contacts string, extra string) *sip.Request {
	t.Helper()
	raw := "REGISTER sip:127.0.0.1 SIP/2.0\r\n" +
		"Via: SIP/2.0/UDP " + src + ";branch=z9hG4bK" + fmt.Sprint(cseq) + "\r\n" +
		"From: <sip:100@127.0.0.1>;tag=f\r\nTo: <sip:100@127.0.0.1>\r\n" +
		"Call-ID: reg-1\r\nCSeq: " + fmt.Sprint(cseq) + " REGISTER\r\n"
	if contacts != "" {
		raw += "Contact: " + contacts + "\r\n"
	}
	raw += extra + "Content-Length: 0\r\n\r\n"
	req := parseRequest(t, raw)
	req.SetSource(src)
	return req
}

func TestRegistrarUpdate(t *testing.T) {
	s, mem, now := testServer(t)
	cfg := s.config()
	ext := cfg.Extension("100")
	r := s.registrar

	code, _, hdrs := r.update(cfg, ext, register(t, "192.0.2.1:5062", 1, "<sip:100@10.0.0.1:5062>", ""))
	if code != 200 {
		t.Fatalf("first REGISTER: %d", code)
	}
	if got := contactsOf(hdrs); len(got) != 1 || !strings.Contains(got[0], "expires=600") {
		t.Fatalf("200 contacts = %q, want one with the default expiry", got)
	}
	b := r.loc.lookup("100", *now)
	if len(b) != 1 || b[0].source.String() != "192.0.2.1:5062" || b[0].transport != "UDP" {
		t.Fatalf("binding = %+v", b)
	}
	if aor, ok := r.loc.aorAt(b[0].source); !ok || aor != "100" {
		t.Error("source index misses the binding")
	}

	// Too brief → 423 with Min-Expires.
	code, _, hdrs = r.update(cfg, ext, register(t, "192.0.2.1:5062", 2, "<sip:100@10.0.0.1:5062>;expires=10", ""))
	if code != 423 || len(hdrs) != 1 || hdrs[0].Value() != "60" {
		t.Fatalf("brief REGISTER: %d %v", code, hdrs)
	}

	// Too long → capped at max.
	code, _, hdrs = r.update(cfg, ext, register(t, "192.0.2.1:5062", 3, "<sip:100@10.0.0.1:5062>", "Expires: 99999\r\n"))
	if code != 200 || !strings.Contains(contactsOf(hdrs)[0], "expires=3600") {
		t.Fatalf("long REGISTER: %d %q", code, contactsOf(hdrs))
	}

	// A reordered older REGISTER must not roll the binding back.
	r.update(cfg, ext, register(t, "192.0.2.1:5062", 2, "<sip:100@10.0.0.1:5062>;expires=60", ""))
	if b := r.loc.lookup("100", *now); b[0].expires != now.Add(time.Hour) {
		t.Errorf("stale CSeq changed the binding: expires %s", b[0].expires)
	}

	// Two more contacts with max_contacts 2: the one expiring first goes.
	r.update(cfg, ext, register(t, "192.0.2.2:5062", 10, "<sip:100@10.0.0.2:5062>;expires=120", ""))
	code, _, _ = r.update(cfg, ext, register(t, "192.0.2.3:5062", 11, "<sip:100@10.0.0.3:5062>;expires=900", ""))
	if code != 200 {
		t.Fatal(code)
	}
	var raws []string
	for _, b := range r.loc.lookup("100", *now) {
		raws = append(raws, b.raw)
	}
	if len(raws) != 2 || strings.Contains(strings.Join(raws, " "), "10.0.0.2") {
		t.Errorf("after overflow: %q, want the 10.0.0.2 contact evicted", raws)
	}
	recs, _ := mem.Registrations(*now)
	if len(recs) != 2 {
		t.Errorf("store has %d registrations, want 2", len(recs))
	}

	// Contact: * with Expires: 0 removes everything, in the store too.
	code, _, _ = r.update(cfg, ext, register(t, "192.0.2.1:5062", 20, "*", "Expires: 0\r\n"))
	if code != 200 || len(r.loc.lookup("100", *now)) != 0 {
		t.Fatalf("wildcard unregister: %d", code)
	}
	if recs, _ := mem.Registrations(*now); len(recs) != 0 {
		t.Errorf("store still has %d registrations", len(recs))
	}
	if code, _, _ = r.update(cfg, ext, register(t, "192.0.2.1:5062", 21, "*", "Expires: 60\r\n")); code != 400 {
		t.Errorf("wildcard without Expires 0: %d, want 400", code)
	}
}

func TestRegistrarExpiryAndRestore(t *testing.T) {
	s, mem, now := testServer(t)
	cfg := s.config()
	r := s.registrar
	r.update(cfg, cfg.Extension("100"), register(t, "192.0.2.1:5062", 1, "<sip:100@10.0.0.1:5062>;expires=60", ""))

	// A new server on the same store finds the binding...
	s2, err := New(cfg, Options{Store: mem, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.registrar.restore(*now); err != nil {
		t.Fatal(err)
	}
	if got := s2.registrar.loc.lookup("100", *now); len(got) != 1 {
		t.Fatalf("restored %d bindings, want 1", len(got))
	}
	// ...until it expires: the sweep drops it from memory and the store.
	*now = now.Add(61 * time.Second)
	r.sweep(*now)
	if n := r.loc.count(); n != 0 {
		t.Errorf("%d bindings left after expiry", n)
	}
	if recs, _ := mem.Registrations(now.Add(-time.Hour)); len(recs) != 0 {
		t.Errorf("store keeps %d expired registrations", len(recs))
	}
}

func contactsOf(hdrs []sip.Header) []string {
	var out []string
	for _, h := range hdrs {
		if h.Name() == "Contact" {
			out = append(out, h.Value())
		}
	}
	return out
}
