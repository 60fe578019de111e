package e2e

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"
)

// A phone behind NAT registers a Contact with an address nobody can reach
// (here 127.0.0.99, where nothing listens); its calls must still reach it,
// at the address its REGISTER came from.
func TestNATedPhoneGetsCallsAtItsSource(t *testing.T) {
	e2e(t)
	p := startPBX(t, pbxOptions{})
	port := freePort(t)
	mustSipp(t, sippOpts{
		Scenario: "register.xml", Data: regData(200, "127.0.0.99:5999"),
		Port: port, Target: p.SIP, Service: "100", User: "100", Password: "demo-100",
	})
	var regs []struct{ Contact, Source string }
	p.getJSON("/api/registrations", &regs)
	if len(regs) != 1 || !strings.Contains(regs[0].Contact, "127.0.0.99:5999") || regs[0].Source != fmt.Sprintf("127.0.0.1:%d", port) {
		t.Fatalf("registrations = %+v", regs)
	}
	phone := startSipp(t, sippOpts{
		Scenario: "uas_answer.xml", Data: uasData(true, 500), Port: port, RTPEcho: true,
		Keys: map[string]string{"rtpport": mediaPortKey},
	})
	mustSipp(t, sippOpts{
		Scenario: "uac_call.xml", Data: callData(map[string]any{"WaitBye": true}),
		Target: p.SIP, Service: demoNumber,
	})
	if code := phone.wait(20 * time.Second); code != 0 {
		t.Fatalf("the NATed phone did not get its call (sipp exited %d)", code)
	}
}

// SIP over TLS: with a certificate configured, OPTIONS and a digest
// REGISTER work over a TLS connection.
func TestTLS(t *testing.T) {
	e2e(t)
	dir := t.TempDir()
	certFile, keyFile := writeSelfSigned(t, dir)
	tlsPort := freePort(t)
	p := startPBX(t, pbxOptions{Env: []string{
		fmt.Sprintf("CENTRALINO_SIP_TLS_LISTEN=127.0.0.1:%d", tlsPort),
		"CENTRALINO_SIP_TLS_CERT=" + certFile, "CENTRALINO_SIP_TLS_KEY=" + keyFile,
	}})
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", tlsPort), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	local := conn.LocalAddr().String()
	send := func(msg string) string {
		t.Helper()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := conn.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		for {
			res := readSIP(t, r)
			if !strings.HasPrefix(res, "SIP/2.0 1") {
				return res
			}
		}
	}
	opt := fmt.Sprintf("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/TLS %s;branch=z9hG4bKtls1\r\nFrom: <sip:probe@x>;tag=a\r\n"+
		"To: <sip:%s>\r\nCall-ID: tls-opt\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", p.SIP, local, p.SIP)
	if res := send(opt); !strings.HasPrefix(res, "SIP/2.0 200") || !strings.Contains(res, "Allow:") {
		t.Fatalf("OPTIONS over TLS: %q", statusLine(res))
	}
	reg := func(cseq int, authz string) string {
		return fmt.Sprintf("REGISTER sips:%s SIP/2.0\r\nVia: SIP/2.0/TLS %s;branch=z9hG4bKtlsr%d\r\nFrom: <sips:100@%s>;tag=r\r\n"+
			"To: <sips:100@%s>\r\nCall-ID: tls-reg\r\nCSeq: %d REGISTER\r\nContact: <sips:100@%s>\r\nExpires: 120\r\n%sContent-Length: 0\r\n\r\n",
			p.SIP, local, cseq, p.SIP, p.SIP, cseq, local, authz)
	}
	res := send(reg(1, ""))
	var chal *digest.Challenge
	for _, line := range strings.Split(res, "\r\n") {
		if v, ok := strings.CutPrefix(line, "WWW-Authenticate: "); ok {
			chal, _ = digest.ParseChallenge(v)
		}
	}
	if chal == nil {
		t.Fatalf("no challenge: %q", res)
	}
	cred, _ := digest.Digest(chal, digest.Options{Method: "REGISTER", URI: "sips:" + p.SIP, Username: "100", Password: "demo-100"})
	if res := send(reg(2, "Authorization: "+cred.String()+"\r\n")); !strings.HasPrefix(res, "SIP/2.0 200") {
		t.Fatalf("REGISTER over TLS: %q", statusLine(res))
	}
	var regs []struct{ Transport string }
	p.getJSON("/api/registrations", &regs)
	if len(regs) != 1 || regs[0].Transport != "TLS" {
		t.Errorf("registrations = %+v, want one over TLS", regs)
	}
}

// readSIP reads one SIP message (headers and Content-Length body) from a stream.
func readSIP(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	var b strings.Builder
	length := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read: %v (so far %q)", err, b.String())
		}
		b.WriteString(line)
		if v, ok := strings.CutPrefix(strings.ToLower(line), "content-length:"); ok {
			fmt.Sscan(strings.TrimSpace(v), &length)
		}
		if line == "\r\n" {
			break
		}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(r, body); err != nil {
		t.Fatal(err)
	}
	return b.String() + string(body)
}

func writeSelfSigned(t *testing.T, dir string) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "centralino.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"centralino.test"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}
