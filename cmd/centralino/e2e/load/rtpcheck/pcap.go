package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pion/rtp"
)

// Link types of the captures rtpcheck reads (tcpdump -i lo gives Ethernet).
const (
	linkEthernet = 1
	linkRaw      = 101
	linkLinuxSLL = 113
)

// readPcap calls fn for every frame of a classic pcap file (microsecond or
// nanosecond timestamps, either byte order), with its capture time since
// the first frame.
func readPcap(r io.Reader, fn func(at time.Duration, frame []byte, link uint32)) error {
	var hdr [24]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return fmt.Errorf("pcap header: %w", err)
	}
	var order binary.ByteOrder
	var unit time.Duration
	switch magic := binary.LittleEndian.Uint32(hdr[:4]); magic {
	case 0xa1b2c3d4:
		order, unit = binary.LittleEndian, time.Microsecond
	case 0xd4c3b2a1:
		order, unit = binary.BigEndian, time.Microsecond
	case 0xa1b23c4d:
		order, unit = binary.LittleEndian, time.Nanosecond
	case 0x4d3cb2a1:
		order, unit = binary.BigEndian, time.Nanosecond
	default:
		return fmt.Errorf("not a pcap file (magic %#x; pcapng is not supported: use tcpdump -w)", magic)
	}
	link := order.Uint32(hdr[20:24]) & 0x0fffffff
	snap := order.Uint32(hdr[16:20])
	if snap == 0 || snap > 1<<18 {
		snap = 1 << 18
	}
	buf := make([]byte, snap)
	var start time.Duration
	for n := 0; ; n++ {
		var rec [16]byte
		if _, err := io.ReadFull(r, rec[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("pcap record %d: %w", n, err)
		}
		at := time.Duration(order.Uint32(rec[0:4]))*time.Second + time.Duration(order.Uint32(rec[4:8]))*unit
		incl := order.Uint32(rec[8:12])
		if incl > snap {
			return fmt.Errorf("pcap record %d: %d bytes, more than the snapshot length %d", n, incl, snap)
		}
		if _, err := io.ReadFull(r, buf[:incl]); err != nil {
			return fmt.Errorf("pcap record %d: %w", n, err)
		}
		if n == 0 {
			start = at
		}
		fn(at-start, buf[:incl], link)
	}
}

// parseRTP finds an IPv4/UDP datagram in frame and parses it as RTP
// version 2. Anything else (RTCP included, by its payload types) is skipped.
func parseRTP(frame []byte, link uint32) (streamKey, packet, bool) {
	var key streamKey
	switch link {
	case linkEthernet:
		if len(frame) < 14 || binary.BigEndian.Uint16(frame[12:14]) != 0x0800 {
			return key, packet{}, false
		}
		frame = frame[14:]
	case linkLinuxSLL:
		if len(frame) < 16 || binary.BigEndian.Uint16(frame[14:16]) != 0x0800 {
			return key, packet{}, false
		}
		frame = frame[16:]
	case linkRaw:
	default:
		return key, packet{}, false
	}
	if len(frame) < 20 || frame[0]>>4 != 4 || frame[9] != 17 {
		return key, packet{}, false
	}
	ihl := int(frame[0]&0x0f) * 4
	if ihl < 20 || len(frame) < ihl+8 {
		return key, packet{}, false
	}
	udp := frame[ihl:]
	copy(key.src[:4], frame[12:16])
	copy(key.src[4:], udp[0:2])
	copy(key.dst[:4], frame[16:20])
	copy(key.dst[4:], udp[2:4])
	var h rtp.Header
	if _, err := h.Unmarshal(udp[8:]); err != nil || h.Version != 2 {
		return key, packet{}, false
	}
	if h.PayloadType >= 72 && h.PayloadType <= 76 { // RTCP sender/receiver reports, BYE, …
		return key, packet{}, false
	}
	key.ssrc = h.SSRC
	return key, packet{seq: h.SequenceNumber, ts: h.Timestamp, marker: h.Marker}, true
}
