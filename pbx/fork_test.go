package pbx

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/centralino/centralino/config"
	"github.com/centralino/centralino/media"
	"github.com/centralino/centralino/pbx/store"
)

const trunkConfig = `
sip:
  listen: 127.0.0.1:5999
rtp:
  ports: 31000-31099
http:
  listen: 127.0.0.1:5998
trunks:
  - name: mnet
    mode: register
    host: sip.provider.test:5061
    username: "5551234"
    password: secret
    caller_id:
      header: %s
    copy_headers: [X-Mnet-InLeg]
extensions:
  - number: "100"
    password: secret
tenants:
  - id: t
    name: T
    numbers: ["+390212345678"]
    extensions: ["100"]
`

// The outgoing INVITE through a trunk follows the trunk's rules: number in
// the dial format, caller ID in From or P-Asserted/Preferred-Identity, and
// the inbound leg's headers copied when forwarding.
func TestBranchInviteThroughTrunk(t *testing.T) {
	for _, tt := range []struct {
		header, fromUser, identity string
	}{
		// A forwarded call from outside shows the original caller.
		{"from", "0612345678", ""},
		{"pai", "5551234", "P-Asserted-Identity: <sip:+390612345678@sip.provider.test>"},
		{"ppi", "5551234", "P-Preferred-Identity: <sip:+390612345678@sip.provider.test>"},
	} {
		t.Run(tt.header, func(t *testing.T) {
			cfg, err := config.LoadBytes("t.yaml", []byte(strings.Replace(trunkConfig, "%s", tt.header, 1)))
			if err != nil {
				t.Fatal(err)
			}
			s, err := New(cfg, Options{Store: store.NewMemory(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				t.Fatal(err)
			}
			in := parseRequest(t, "INVITE sip:5551234@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK9\r\n"+
				"From: <sip:0612345678@sip.provider.test>;tag=in\r\nTo: <sip:+390212345678@sip.provider.test>\r\n"+
				"Call-ID: in-1\r\nCSeq: 1 INVITE\r\nMax-Forwards: 12\r\nX-Mnet-InLeg: leg-42\r\nContent-Length: 0\r\n\r\n")
			tr := cfg.Trunk("mnet")
			rt := &route{direction: dirInbound, tenant: cfg.Tenant("t"), trunk: tr, caller: "+390612345678"}
			c := newCall(s, cfg, in, rt)
			c.legB.sdp = media.SDPParams{SessionID: 1}
			host, port := splitHostPort(tr.Host)
			target := dialTarget{label: "trunk:mnet", transport: "UDP", trunk: tr}
			target.ruri.Scheme, target.ruri.User, target.ruri.Host, target.ruri.Port = "sip", "3331234567", host, port

			out := c.branchInvite(target).String()
			for _, want := range []string{
				"INVITE sip:3331234567@sip.provider.test:5061 SIP/2.0",
				"From: <sip:" + tt.fromUser + "@sip.provider.test>;tag=",
				"X-Mnet-InLeg: leg-42",
				"Max-Forwards: 11",
				"m=audio ",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("INVITE lacks %q:\n%s", want, out)
				}
			}
			if tt.identity != "" && !strings.Contains(out, tt.identity) {
				t.Errorf("INVITE lacks %q:\n%s", tt.identity, out)
			}
			if tt.identity == "" && strings.Contains(out, "-Identity") {
				t.Errorf("caller ID in From, yet an identity header:\n%s", out)
			}
		})
	}
}
