package media

import (
	"context"
	"log/slog"

	"github.com/zaf/g711"
)

// G.711 transcoding tables, one entry per byte: a table lookup is all a
// PCMA⇄PCMU bridge costs per sample. Built once at start-up, read-only.
var (
	alawToUlaw = transcodeTable(g711.Alaw2UlawFrame)
	ulawToAlaw = transcodeTable(g711.Ulaw2AlawFrame)
)

func transcodeTable(f func(uint8) uint8) *[256]byte {
	var t [256]byte
	for i := range t {
		t[i] = f(uint8(i))
	}
	return &t
}

// Bridge relays packets between a and b until unbridge is called, by
// becoming each leg's Handler:
//
//   - audio in the sending leg's codec goes out with the other leg's payload
//     type, transcoded per byte when one side is PCMA and the other PCMU;
//     audio in other codecs is dropped;
//   - telephone-events go out with the other leg's event payload type, or are
//     dropped if it has none;
//   - comfort noise and unknown payload types are dropped.
//
// Both legs' Remote are read for every packet, so a re-INVITE applies at
// once. unbridge restores the legs' nil handlers (unless someone installed
// another handler meanwhile) and is idempotent; a packet already being
// relayed when it is called may still go out.
func Bridge(a, b *Leg) (unbridge func()) {
	ra := &handlerRef{h: relay{to: b, log: b.log}}
	rb := &handlerRef{h: relay{to: a, log: a.log}}
	a.handler.Store(ra)
	b.handler.Store(rb)
	return func() {
		a.handler.CompareAndSwap(ra, nil)
		b.handler.CompareAndSwap(rb, nil)
	}
}

// rtpSink is where a bridge sends: a SIP leg or a browser's.
type rtpSink interface {
	remoteDesc() *Remote
	WriteRTP(pkt []byte) error
}

func (l *Leg) remoteDesc() *Remote { return l.remote.Load() }

// relay is the Handler of one direction of a bridge.
type relay struct {
	to  rtpSink
	log *slog.Logger
}

func (r relay) HandleRTP(from *Leg, pkt []byte) {
	forward(pkt, from.remote.Load(), r.to, r.log)
}

// forward rewrites pkt, received with the in description, for the sink
// (payload type, codec) and sends it; it drops what the sink cannot take.
func forward(pkt []byte, in *Remote, to rtpSink, log *slog.Logger) {
	out := to.remoteDesc()
	if in == nil || out == nil {
		return // nothing negotiated on one side yet
	}
	start, end, ok := parseRTP(pkt)
	if !ok {
		return
	}
	pt := pkt[1] & 0x7f
	switch {
	case pt == ptCN:
		return
	case in.Codec.Name != "" && pt == in.Codec.PayloadType:
		if !transcode(pkt[start:end], in.Codec.Name, out.Codec.Name) {
			return
		}
		pt = out.Codec.PayloadType
	case in.EventPT != 0 && pt == in.EventPT:
		if out.EventPT == 0 {
			return
		}
		pt = out.EventPT
	default:
		return
	}
	pkt[1] = pkt[1]&0x80 | pt
	if err := to.WriteRTP(pkt); err != nil && log.Enabled(context.Background(), slog.LevelDebug) {
		log.Debug("bridge: rtp not relayed", "err", err)
	}
}

// transcode converts payload in place from codec in to codec out, and
// reports false when it cannot.
func transcode(payload []byte, in, out string) bool {
	var table *[256]byte
	switch {
	case in == out && in != "":
		return true
	case in == "PCMA" && out == "PCMU":
		table = alawToUlaw
	case in == "PCMU" && out == "PCMA":
		table = ulawToAlaw
	default:
		return false
	}
	for i, v := range payload {
		payload[i] = table[v]
	}
	return true
}
