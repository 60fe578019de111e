package pbx

import (
	"slices"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/centralino/centralino/config"
)

func parseRequest(t *testing.T, raw string) *sip.Request {
	t.Helper()
	msg, err := sip.NewParser().ParseSIP([]byte(raw))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	req, ok := msg.(*sip.Request)
	if !ok {
		t.Fatalf("not a request: %T", msg)
	}
	return req
}

const forwardedInvite = "INVITE sip:alice@192.0.2.10:5060 SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK1\r\n" +
	"From: \"Mario Rossi\" <sip:0612345678@provider.test>;tag=a\r\n" +
	"To: <sip:+390299999999@provider.test>\r\n" +
	"Call-ID: c1\r\n" +
	"CSeq: 1 INVITE\r\n" +
	"Contact: <sip:203.0.113.5:5060>\r\n" +
	"Diversion: <sip:+390211111111@provider.test>;reason=unconditional;counter=1, <sip:0222222222@provider.test>;reason=no-answer\r\n" +
	"History-Info: <sip:+390233333333@provider.test>;index=1, <sip:+390299999999@provider.test>;index=1.1\r\n" +
	"P-Asserted-Identity: \"Rossi Mario\" <sip:+393331234567@provider.test>\r\n" +
	"Content-Length: 0\r\n\r\n"

func TestCalledCandidates(t *testing.T) {
	req := parseRequest(t, forwardedInvite)
	tests := []struct {
		sources []string
		want    []string
	}{
		{[]string{config.CalledRequestURI}, []string{"alice"}},
		{[]string{config.CalledTo, config.CalledRequestURI}, []string{"+390299999999", "alice"}},
		// The original target of a chain of diversions is the last entry.
		{[]string{config.CalledDiversion}, []string{"0222222222", "+390211111111"}},
		{[]string{config.CalledHistoryInfo}, []string{"+390233333333", "+390299999999"}},
		{[]string{config.CalledDiversion, config.CalledTo}, []string{"0222222222", "+390211111111", "+390299999999"}},
	}
	for _, tt := range tests {
		if got := calledCandidates(req, tt.sources); !slices.Equal(got, tt.want) {
			t.Errorf("calledCandidates(%v) = %q, want %q", tt.sources, got, tt.want)
		}
	}
}

func TestCallerOfPrefersAssertedIdentity(t *testing.T) {
	req := parseRequest(t, forwardedInvite)
	num, name := callerOf(req)
	if num != "+393331234567" || name != "Rossi Mario" {
		t.Errorf("callerOf = %q, %q", num, name)
	}
	anon := parseRequest(t, "INVITE sip:x@h SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK2\r\n"+
		"From: \"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=b\r\nTo: <sip:x@h>\r\nCall-ID: c2\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n")
	if num, _ := callerOf(anon); num != "anonymous" {
		t.Errorf("anonymous caller = %q", num)
	}
}

func TestSplitAddressList(t *testing.T) {
	in := `"Rossi, Mario" <sip:1@a>;x=1, <sip:2@b?h=a,b>, sip:3@c`
	want := []string{`"Rossi, Mario" <sip:1@a>;x=1`, `<sip:2@b?h=a,b>`, `sip:3@c`}
	if got := splitAddressList(in); !slices.Equal(got, want) {
		t.Errorf("splitAddressList = %q, want %q", got, want)
	}
}

func TestURIUserUnescapesAndReadsTel(t *testing.T) {
	var u sip.Uri
	if err := sip.ParseUri("sip:%2B390212345678@h", &u); err != nil {
		t.Fatal(err)
	}
	if got := uriUser(u); got != "+390212345678" {
		t.Errorf("uriUser = %q", got)
	}
	var tel sip.Uri
	if err := sip.ParseUri("tel:+390212345678;phone-context=x", &tel); err != nil {
		t.Fatal(err)
	}
	if got := uriUser(tel); got != "+390212345678" {
		t.Errorf("tel uriUser = %q", got)
	}
}

func TestGrantedExpiryAndRetryAfter(t *testing.T) {
	ours := sip.Uri{Scheme: "sip", User: "alice", Host: "192.0.2.10", Port: 5060}
	mk := func(hdrs ...sip.Header) *sip.Response {
		res := sip.NewResponse(200, "OK")
		for _, h := range hdrs {
			res.AppendHeader(h)
		}
		return res
	}
	contact := func(host string, port int, exp string) sip.Header {
		p := sip.NewParams()
		p.Add("expires", exp)
		return &sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: "alice", Host: host, Port: port}, Params: p}
	}
	tests := []struct {
		res  *sip.Response
		want time.Duration
	}{
		{mk(contact("192.0.2.10", 5060, "120")), 120 * time.Second},
		{mk(contact("198.51.100.1", 5060, "30"), sip.NewHeader("Expires", "90")), 90 * time.Second}, // someone else's contact
		{mk(), 300 * time.Second},
	}
	for i, tt := range tests {
		if got := grantedExpiry(tt.res, ours, 300*time.Second); got != tt.want {
			t.Errorf("case %d: grantedExpiry = %s, want %s", i, got, tt.want)
		}
	}
	if got := retryAfterOf(mk(sip.NewHeader("Retry-After", "120;duration=3600"))); got != 2*time.Minute {
		t.Errorf("retryAfterOf = %s", got)
	}
}

func TestFixContactFollowsReceivedAndRport(t *testing.T) {
	r := &trunkRegistration{contactHost: "10.0.0.5", contactPort: 5060}
	res := sip.NewResponse(200, "OK")
	via := &sip.ViaHeader{ProtocolName: "SIP", ProtocolVersion: "2.0", Transport: "UDP", Host: "10.0.0.5", Port: 5060, Params: sip.NewParams()}
	via.Params.Add("branch", "z9hG4bKx")
	via.Params.Add("received", "203.0.113.7")
	via.Params.Add("rport", "40123")
	res.AppendHeader(via)
	if !r.fixContact(res) || r.contactHost != "203.0.113.7" || r.contactPort != 40123 {
		t.Fatalf("fixContact: changed=%v host=%s port=%d", true, r.contactHost, r.contactPort)
	}
	if r.fixContact(res) {
		t.Error("second fixContact with the same Via reported a change")
	}
}
