package e2e

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"os"
	"sync"
	"testing"
)

// echoMarker fills the payload of packets an rtpPeer echoes: a packet that
// comes back with it has made the round trip through the far end.
const echoMarker = 0x55

// rtpPeer is a Go RTP endpoint standing in for a phone's media, so that a
// test can see exactly what the PBX relayed.
type rtpPeer struct {
	conn *net.UDPConn
	echo bool

	mu       sync.Mutex
	byPT     map[uint8]int
	payloads map[string]bool // distinct non-marker payloads seen
	marked   int             // packets whose payload is all echoMarker
	done     chan struct{}
}

// newRTPPeer listens on 127.0.0.1; with echo it answers every ordinary
// audio packet with a marker packet to the packet's source.
func newRTPPeer(t *testing.T, echo bool) *rtpPeer {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	p := &rtpPeer{conn: conn, echo: echo, byPT: map[uint8]int{}, payloads: map[string]bool{}, done: make(chan struct{})}
	go p.loop()
	t.Cleanup(func() { conn.Close(); <-p.done })
	return p
}

func (p *rtpPeer) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

func (p *rtpPeer) loop() {
	defer close(p.done)
	buf := make([]byte, 2048)
	for {
		n, from, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		if n < 12 || buf[0]>>6 != 2 {
			continue
		}
		pt := buf[1] & 0x7f
		payload := buf[12:n]
		marked := len(payload) > 0 && bytes.Count(payload, []byte{echoMarker}) == len(payload)
		p.mu.Lock()
		p.byPT[pt]++
		if marked {
			p.marked++
		} else if pt < 96 {
			p.payloads[string(payload)] = true
		}
		p.mu.Unlock()
		if p.echo && !marked && pt < 96 {
			out := make([]byte, n)
			copy(out, buf[:n])
			for i := 12; i < n; i++ {
				out[i] = echoMarker
			}
			p.conn.WriteToUDPAddrPort(out, from)
		}
	}
}

func (p *rtpPeer) count(pt uint8) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.byPT[pt]
}

func (p *rtpPeer) roundTrips() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.marked
}

// seenPayloads reports how many of want's payloads arrived byte for byte.
func (p *rtpPeer) seenPayloads(want [][]byte) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, w := range want {
		if p.payloads[string(w)] {
			n++
		}
	}
	return n
}

// pcapRTPPayloads reads the RTP payloads of a classic little-endian pcap
// of Ethernet/IPv4/UDP packets (what sip-tester ships).
func pcapRTPPayloads(t *testing.T, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := parsePcap(data)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return out
}

func parsePcap(data []byte) ([][]byte, error) {
	if len(data) < 24 || binary.LittleEndian.Uint32(data) != 0xa1b2c3d4 {
		return nil, errors.New("not a little-endian pcap")
	}
	if binary.LittleEndian.Uint32(data[20:]) != 1 {
		return nil, errors.New("not an Ethernet capture")
	}
	var out [][]byte
	for off := 24; off+16 <= len(data); {
		incl := int(binary.LittleEndian.Uint32(data[off+8:]))
		off += 16
		if off+incl > len(data) {
			return nil, errors.New("truncated record")
		}
		frame := data[off : off+incl]
		off += incl
		if len(frame) < 14+20+8+12 || binary.BigEndian.Uint16(frame[12:]) != 0x0800 {
			continue
		}
		ip := frame[14:]
		ihl := int(ip[0]&0x0f) * 4
		if ip[9] != 17 || len(ip) < ihl+8 {
			continue
		}
		udp := ip[ihl:]
		rtp := udp[8:]
		if len(rtp) < 12 || rtp[0]>>6 != 2 {
			continue
		}
		cc := int(rtp[0] & 0x0f)
		hdr := 12 + 4*cc
		if len(rtp) <= hdr {
			continue
		}
		out = append(out, append([]byte(nil), rtp[hdr:]...))
	}
	return out, nil
}
