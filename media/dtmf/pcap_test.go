package dtmf

import (
	"encoding/binary"
	"fmt"
	"os"
	"testing"
)

// rtpPacket is what the tests need of an RTP packet read from a capture.
type rtpPacket struct {
	payloadType uint8
	marker      bool
	timestamp   uint32
	payload     []byte
}

// readPcap returns the RTP packets of a classic little-endian pcap file of
// Ethernet frames carrying IPv4/UDP, as sipp ships them.
func readPcap(t testing.TB, path string) []rtpPacket {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	packets, err := parsePcap(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return packets
}

func parsePcap(b []byte) ([]rtpPacket, error) {
	le := binary.LittleEndian
	if len(b) < 24 || le.Uint32(b) != 0xa1b2c3d4 {
		return nil, fmt.Errorf("not a little-endian pcap file")
	}
	if link := le.Uint32(b[20:]); link != 1 {
		return nil, fmt.Errorf("link type %d, want Ethernet", link)
	}
	var out []rtpPacket
	for p := 24; p < len(b); {
		if p+16 > len(b) {
			return nil, fmt.Errorf("truncated record header at %d", p)
		}
		n := int(le.Uint32(b[p+8:]))
		if p+16+n > len(b) {
			return nil, fmt.Errorf("truncated record at %d", p)
		}
		frame := b[p+16 : p+16+n]
		p += 16 + n
		if len(frame) < 14 || binary.BigEndian.Uint16(frame[12:]) != 0x0800 {
			continue // not IPv4
		}
		ip := frame[14:]
		if len(ip) < 20 || ip[9] != 17 {
			continue // not UDP
		}
		udp := ip[int(ip[0]&0x0f)*4:]
		if len(udp) < 8+12 {
			return nil, fmt.Errorf("short udp datagram")
		}
		rtp := udp[8:]
		hdr := 12 + 4*int(rtp[0]&0x0f)
		if rtp[0]&0x10 != 0 && len(rtp) >= hdr+4 {
			hdr += 4 + 4*int(binary.BigEndian.Uint16(rtp[hdr+2:]))
		}
		if rtp[0]>>6 != 2 || len(rtp) < hdr {
			return nil, fmt.Errorf("not an rtp packet")
		}
		out = append(out, rtpPacket{
			payloadType: rtp[1] & 0x7f,
			marker:      rtp[1]&0x80 != 0,
			timestamp:   binary.BigEndian.Uint32(rtp[4:]),
			payload:     rtp[hdr:],
		})
	}
	return out, nil
}
