package e2e

import (
	"strconv"
	"testing"
	"time"
)

// providerConfig is a small office behind a register-mode trunk, the way
// Messagenet-style providers work. The provider lives on 127.0.0.2 (its
// own address, as in real life: the trunk is recognised by it), the
// phones on 127.0.0.1. ProviderPort is the provider's SIP port.
const providerConfig = `
sip:
  listen: "{{.SIP}}"
rtp:
  ports: "{{.RTP}}"
http:
  listen: "{{.HTTP}}"
data: "{{.Data}}"
trunks:
  - name: provider
    mode: register
    host: "127.0.0.2:{{.ProviderPort}}"
    username: alice
    password: secret
    default_tenant: rossi
    caller_id:
      header: ppi
extensions:
  - number: "200"
    password: pw-200
  - number: "201"
    password: pw-201
    allow_outbound: ["+39*"]
tenants:
  - id: rossi
    name: Studio Rossi
    numbers: ["+390212345678"]
    extensions: ["200", "201"]
`

type trunkStatus struct {
	Name      string `json:"name"`
	State     string `json:"state"`
	LastCode  int    `json:"last_code"`
	LastError string `json:"last_error"`
	Failures  int    `json:"failures"`
}

func trunkState(t *testing.T, p *pbx) trunkStatus {
	var ts []trunkStatus
	p.getJSON("/api/trunks", &ts)
	if len(ts) != 1 {
		t.Fatalf("trunks = %+v", ts)
	}
	return ts[0]
}

// A register-mode trunk: the provider first refuses (503), the trunk
// retries, answers the digest challenge, and refreshes before expiry.
func TestTrunkRegistersRetriesAndRefreshes(t *testing.T) {
	e2e(t)
	providerPort := freePort(t)
	registrar := startSipp(t, sippOpts{
		Scenario: "registrar.xml",
		Data:     map[string]any{"User": "alice", "Password": "secret", "Expires": 2, "Rounds": make([]struct{}, 2)},
		IP:       "127.0.0.2", Port: providerPort,
	})
	p := startPBX(t, pbxOptions{Config: providerConfig, Vars: map[string]any{"ProviderPort": providerPort}})

	eventually(t, 5*time.Second, "the provider's 503 to show", func() bool {
		st := trunkState(t, p)
		return st.State == "failing" && st.LastCode == 503
	})
	eventually(t, 15*time.Second, "the trunk to register after retrying", func() bool {
		return trunkState(t, p).State == "registered"
	})
	if v := p.metric(`centralino_trunk_registered{trunk="provider"}`); v != 1 {
		t.Errorf("trunk metric = %v, want 1", v)
	}
	// Two challenge rounds in the scenario: the initial registration and one refresh.
	if code := registrar.wait(20 * time.Second); code != 0 {
		t.Fatalf("registrar scenario exited %d: the digest answers or the refresh were wrong", code)
	}
	out := runCLI(t, "trunks", "--server", p.HTTP)
	t.Logf("centralino trunks:\n%s", out)
}

// An extension calls an Italian number: it is challenged (407), then the
// call goes out through the trunk in national format with the tenant's
// number as P-Preferred-Identity; premium and foreign numbers are refused.
func TestOutboundCallThroughTrunk(t *testing.T) {
	e2e(t)
	providerPort := freePort(t)
	p := startPBX(t, pbxOptions{Config: providerConfig, Vars: map[string]any{"ProviderPort": providerPort}})

	provider := startSipp(t, sippOpts{
		Scenario: "uas_answer.xml", IP: "127.0.0.2", Port: providerPort, RTPEcho: true,
		Keys: map[string]string{"rtpport": mediaPortKey},
		Data: uasData(false, 0,
			check{In: "msg", Regexp: "^INVITE sip:0287654321@127\\.0\\.0\\.2:" + strconv.Itoa(providerPort)},
			check{In: "hdr", Header: "P-Preferred-Identity:", Regexp: "sip:\\+390212345678@"},
			check{In: "hdr", Header: "From:", Regexp: "sip:alice@"},
		),
	})
	phone := func(dial string, expect int) {
		t.Helper()
		mustSipp(t, sippOpts{
			Scenario: "uac_call_auth.xml", Data: map[string]any{"Dial": dial, "From": "200", "Expect": expect, "PauseMs": 1500, "WaitBye": false},
			Target: p.SIP, User: "200", Password: "pw-200",
		})
	}
	phone("0287654321", 200)
	if code := provider.wait(20 * time.Second); code != 0 {
		t.Fatalf("provider sipp exited %d (wrong Request-URI or caller ID?)", code)
	}
	c := lastCDR(t, p, 1)
	if c.Direction != "outbound" || c.Caller != "200" || c.Called != "+390287654321" || c.Trunk != "provider" || c.Disposition != "answered" {
		t.Errorf("CDR = %+v", c)
	}

	phone("899123456", 403)      // premium: denied whatever the extension's list says
	phone("00442071234567", 403) // international: not in 200's allow list
	phone("4444", 404)           // neither an extension nor a public number
}

// Strangers are refused without learning which accounts exist: no
// credentials → 407, wrong ones → 403, for existing and made-up users alike.
func TestStrangerInviteRefused(t *testing.T) {
	e2e(t)
	p := startPBX(t, pbxOptions{Config: providerConfig, Vars: map[string]any{"ProviderPort": freePort(t)}})
	for _, user := range []string{"200", "999"} {
		mustSipp(t, sippOpts{
			Scenario: "uac_call_auth.xml", Data: map[string]any{"Dial": "201", "From": user, "Expect": 403, "PauseMs": 0, "WaitBye": false},
			Target: p.SIP, User: user, Password: "guess",
		})
	}
	mustSipp(t, sippOpts{
		Scenario: "uac_expect.xml", Data: map[string]any{"Formats": "8", "From": "0612345678", "Expect": 407},
		Target: p.SIP, Service: "+390212345678",
	})
}
