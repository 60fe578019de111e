package e2e

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"
)

// sipExchange sends raw bytes to the server over UDP and returns the first
// response (or "" when none came within wait).
func sipExchange(t *testing.T, addr string, msg []byte, wait time.Duration) string {
	t.Helper()
	conn, err := net.Dial("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write(msg); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 65535)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			return ""
		}
		if res := string(buf[:n]); !strings.HasPrefix(res, "SIP/2.0 1") {
			return res
		}
	}
}

func statusLine(res string) string {
	line, _, _ := strings.Cut(res, "\r\n")
	return line
}

func request(method, target, callID string, extra string) []byte {
	return []byte(fmt.Sprintf("%s sip:%s SIP/2.0\r\n"+
		"Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK%s;rport\r\n"+
		"From: <sip:probe@127.0.0.1>;tag=t%s\r\nTo: <sip:%s>\r\nCall-ID: %s\r\nCSeq: 1 %s\r\n"+
		"Max-Forwards: 70\r\n%sContent-Length: 0\r\n\r\n", method, target, callID, callID, target, callID, method, extra))
}

// Malformed SIP gets a 400 or is dropped; it never stops the server.
func TestMalformedSIP(t *testing.T) {
	e2e(t)
	p := startPBX(t, pbxOptions{})

	garbage := []byte("\x00\x01\x02 this is not SIP at all \xff\xfe\r\n\r\n")
	if res := sipExchange(t, p.SIP, garbage, 300*time.Millisecond); res != "" && !strings.HasPrefix(res, "SIP/2.0 400") {
		t.Errorf("garbage got %q", statusLine(res))
	}
	noCSeq := []byte("OPTIONS sip:100@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKnocseq;rport\r\n" +
		"From: <sip:a@b>;tag=1\r\nTo: <sip:100@127.0.0.1>\r\nCall-ID: nocseq\r\nContent-Length: 0\r\n\r\n")
	if res := sipExchange(t, p.SIP, noCSeq, time.Second); !strings.HasPrefix(res, "SIP/2.0 400") {
		t.Errorf("request without CSeq got %q, want 400", statusLine(res))
	}
	badCL := []byte(strings.Replace(string(request("OPTIONS", "100@127.0.0.1", "badcl", "")), "Content-Length: 0", "Content-Length: 99999", 1))
	if res := sipExchange(t, p.SIP, badCL, 300*time.Millisecond); res != "" && !strings.HasPrefix(res, "SIP/2.0 400") {
		t.Errorf("lying Content-Length got %q", statusLine(res))
	}
	huge := request("OPTIONS", "100@127.0.0.1", "huge", "X-Huge: "+strings.Repeat("a", 60000)+"\r\n")
	if res := sipExchange(t, p.SIP, huge, time.Second); res != "" && !strings.HasPrefix(res, "SIP/2.0 4") {
		t.Errorf("60 kB header over UDP got %q", statusLine(res))
	}
	// Over TCP, an endless header line must not make the server buffer forever.
	tc, err := net.Dial("tcp4", p.SIP)
	if err != nil {
		t.Fatal(err)
	}
	tc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	tc.Write([]byte("OPTIONS sip:100@127.0.0.1 SIP/2.0\r\nX-Endless: "))
	chunk := []byte(strings.Repeat("b", 64<<10))
	for i := 0; i < 64; i++ { // 4 MB, bounded
		if _, err := tc.Write(chunk); err != nil {
			break // the server closed the connection: fine
		}
	}
	tc.Close()

	// An INVITE without SDP body but claiming one, and one with broken SDP.
	brokenSDP := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio notaport RTP/AVP 8\r\n"
	inv := fmt.Sprintf("INVITE sip:%s@%s SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKbadsdp;rport\r\n"+
		"From: <sip:0612345678@127.0.0.1>;tag=x\r\nTo: <sip:%s@%s>\r\nCall-ID: badsdp\r\nCSeq: 1 INVITE\r\n"+
		"Contact: <sip:probe@127.0.0.1:9>\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
		demoNumber, p.SIP, demoNumber, p.SIP, len(brokenSDP), brokenSDP)
	registerSipp(t, p, "100", "demo-100") // so that the call gets as far as the SDP
	if res := sipExchange(t, p.SIP, []byte(inv), 2*time.Second); !strings.Contains(res, "SIP/2.0 4") {
		t.Errorf("INVITE with broken SDP got %q, want a 4xx", statusLine(res))
	}

	// Still serving: OPTIONS answers 200 with Allow; unknown methods 405.
	mustSipp(t, sippOpts{Scenario: "uac_request.xml", Data: map[string]any{"Method": "OPTIONS", "Expect": 200, "Allow": true}, Target: p.SIP, Service: "100"})
	mustSipp(t, sippOpts{Scenario: "uac_request.xml", Data: map[string]any{"Method": "PUBLISH", "Expect": 405, "Allow": true}, Target: p.SIP, Service: "100"})
	mustSipp(t, sippOpts{Scenario: "uac_request.xml", Data: map[string]any{"Method": "BYE", "Expect": 481, "Allow": false}, Target: p.SIP, Service: "100"})
}

// REGISTER with an RFC 8760 SHA-256 digest (sipp 3.6 only speaks MD5, so
// this client is a plain UDP socket and icholy/digest).
func TestRegisterSHA256(t *testing.T) {
	e2e(t)
	p := startPBX(t, pbxOptions{Env: []string{"CENTRALINO_SIP_AUTH_ALGORITHMS=SHA-256,MD5"}})
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	server, _ := net.ResolveUDPAddr("udp4", p.SIP)
	local := conn.LocalAddr().String()
	send := func(cseq int, password, authz string) string {
		t.Helper()
		msg := fmt.Sprintf("REGISTER sip:%s SIP/2.0\r\nVia: SIP/2.0/UDP %s;branch=z9hG4bKsha%d\r\n"+
			"From: <sip:101@%s>;tag=sha\r\nTo: <sip:101@%s>\r\nCall-ID: sha256-reg\r\nCSeq: %d REGISTER\r\n"+
			"Contact: <sip:101@%s>\r\nExpires: 120\r\n%sContent-Length: 0\r\n\r\n", p.SIP, local, cseq, p.SIP, p.SIP, cseq, local, authz)
		conn.WriteToUDP([]byte(msg), server)
		conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		buf := make([]byte, 8192)
		for {
			n, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				t.Fatalf("no response to REGISTER: %v", err)
			}
			if res := string(buf[:n]); !strings.HasPrefix(res, "SIP/2.0 100") {
				return res
			}
		}
	}
	answer := func(cseq int, password string) string {
		t.Helper()
		res := send(cseq, password, "")
		var chal *digest.Challenge
		sc := bufio.NewScanner(strings.NewReader(res))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "WWW-Authenticate: "); ok {
				if c, err := digest.ParseChallenge(v); err == nil && c.Algorithm == "SHA-256" {
					chal = c
				}
			}
		}
		if chal == nil {
			t.Fatalf("no SHA-256 challenge in:\n%s", res)
		}
		cred, err := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sip:" + p.SIP, Username: "101", Password: password})
		if err != nil {
			t.Fatal(err)
		}
		return send(cseq+1, password, "Authorization: "+cred.String()+"\r\n")
	}
	if res := answer(1, "wrong"); !strings.HasPrefix(res, "SIP/2.0 403") {
		t.Errorf("wrong SHA-256 password got %q, want 403", statusLine(res))
	}
	if res := answer(3, "demo-101"); !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("SHA-256 REGISTER got %q, want 200", statusLine(res))
	}
}
