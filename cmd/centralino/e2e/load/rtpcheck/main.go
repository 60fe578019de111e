// Command rtpcheck reads a packet capture of RTP (tcpdump -w, on the
// loopback or any Ethernet-framed interface) and says whether each stream
// arrived regularly: no sequence gaps, timestamps stepping by the packet
// time, and every packet arriving within a tolerance of when its timestamp
// says it should. The media load script uses it to check that playback
// stays paced under load.
//
// Usage: rtpcheck [-tolerance 2ms] capture.pcap
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"time"
)

func main() {
	tolerance := flag.Duration("tolerance", 2*time.Millisecond, "largest acceptable lateness or earliness of a packet against its timestamp")
	minPackets := flag.Int("min-packets", 50, "ignore streams with fewer packets (call set-up and tear-down fragments)")
	ptime := flag.Duration("ptime", 20*time.Millisecond, "packet time the streams should keep")
	verbose := flag.Bool("v", false, "list when (seconds into the capture) the packets beyond the tolerance were captured")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: rtpcheck [-tolerance 2ms] capture.pcap")
		os.Exit(2)
	}
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer f.Close()
	rep, err := analyse(bufio.NewReaderSize(f, 1<<20), *minPackets, int64(*ptime*clockRate/time.Second))
	if err != nil {
		fmt.Fprintln(os.Stderr, "rtpcheck:", err)
		os.Exit(2)
	}
	rep.print(os.Stdout, *tolerance)
	if *verbose {
		rep.printBeyond(os.Stdout, *tolerance)
	}
	if !rep.ok(*tolerance) {
		os.Exit(1)
	}
}

// report sums up every stream of a capture.
type report struct {
	streams, packets int
	seqGaps          int // packets missing, by sequence number
	tsIrregular      int // timestamp steps that do not match the sequence step
	talkspurts       int // marked packets starting a talkspurt after a pause
	// jitter holds, per packet, how far its arrival was from where its
	// timestamp puts it, relative to the stream's own earliest packet
	// (so a constant network delay does not count).
	jitter []time.Duration
	// drift and driftAt are jitter before sorting, and each packet's
	// capture time from the capture's first RTP packet (origin).
	drift, driftAt []time.Duration
	origin         time.Duration
	// interarrival holds, per packet, |arrival gap - timestamp gap|.
	interarrival []time.Duration
}

func (r *report) ok(tolerance time.Duration) bool {
	return r.streams > 0 && r.seqGaps == 0 && r.tsIrregular == 0 && pct(r.jitter, 100) <= tolerance
}

func (r *report) print(w io.Writer, tolerance time.Duration) {
	fmt.Fprintf(w, "RTP streams %d, packets %d, sequence gaps %d, irregular timestamp steps %d, talkspurts after a pause %d\n",
		r.streams, r.packets, r.seqGaps, r.tsIrregular, r.talkspurts)
	over := len(r.jitter) - sort.Search(len(r.jitter), func(i int) bool { return r.jitter[i] > tolerance })
	fmt.Fprintf(w, "  arrival vs timestamp (per-stream drift): p50 %v, p99 %v, p99.9 %v, max %v; %d packets (%.3f%%) beyond the tolerance of %v\n",
		pct(r.jitter, 50), pct(r.jitter, 99), pct(r.jitter, 99.9), pct(r.jitter, 100),
		over, 100*float64(over)/float64(max(1, len(r.jitter))), tolerance)
	fmt.Fprintf(w, "  packet-to-packet deviation:                p50 %v, p99 %v, p99.9 %v, max %v\n",
		pct(r.interarrival, 50), pct(r.interarrival, 99), pct(r.interarrival, 99.9), pct(r.interarrival, 100))
}

// printBeyond lists when the packets beyond the tolerance were captured.
func (r *report) printBeyond(w io.Writer, tolerance time.Duration) {
	for i, d := range r.drift {
		if d > tolerance {
			fmt.Fprintf(w, "    at %.3f s: %v\n", r.driftAt[i].Seconds(), d.Round(10*time.Microsecond))
		}
	}
}

// pct returns the p-th percentile of ds (sorted by analyse), rounded to 10 µs.
func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := int(float64(len(ds)-1) * p / 100)
	return ds[i].Round(10 * time.Microsecond)
}

type streamKey struct {
	src, dst [6]byte // IPv4 address and port
	ssrc     uint32
}

type packet struct {
	at     time.Duration // capture time
	seq    uint16
	ts     uint32
	marker bool
}

// clockRate is the RTP clock of the narrowband codecs Centralino plays.
const clockRate = 8000

// analyse groups the capture's RTP packets into streams and measures them;
// step is the timestamp increment of one packet.
func analyse(r io.Reader, minPackets int, step int64) (*report, error) {
	streams := map[streamKey][]packet{}
	rep := &report{}
	err := readPcap(r, func(at time.Duration, frame []byte, link uint32) {
		key, p, ok := parseRTP(frame, link)
		if ok {
			if len(streams) == 0 {
				rep.origin = at
			}
			p.at = at
			streams[key] = append(streams[key], p)
		}
	})
	if err != nil {
		return nil, err
	}
	for _, ps := range streams {
		if len(ps) < minPackets {
			continue
		}
		rep.streams++
		rep.packets += len(ps)
		// Timestamps unwrapped to 64 bits, so a stream crossing 2^32 is fine.
		var ext int64
		first := ps[0]
		minOff := time.Duration(1 << 62)
		offs := make([]time.Duration, len(ps))
		for i, p := range ps {
			if i > 0 {
				prev := ps[i-1]
				dseq := int(p.seq - prev.seq)
				dts := int64(int32(p.ts - prev.ts))
				ext += dts
				if dseq > 1 {
					rep.seqGaps += dseq - 1
				}
				switch {
				case p.marker && dseq == 1 && dts > step:
					// A talkspurt after a pause (the next prompt): its
					// timestamp moves on by the pause, which the drift
					// below checks against the arrival.
					rep.talkspurts++
				case dseq < 1 || dts != int64(dseq)*step:
					rep.tsIrregular++
				}
				gap := p.at - prev.at
				want := time.Duration(dts) * time.Second / clockRate
				rep.interarrival = append(rep.interarrival, abs(gap-want))
			}
			offs[i] = (p.at - first.at) - time.Duration(ext)*time.Second/clockRate
			minOff = min(minOff, offs[i])
		}
		for i, o := range offs {
			rep.drift = append(rep.drift, o-minOff)
			rep.driftAt = append(rep.driftAt, ps[i].at-rep.origin)
		}
	}
	rep.jitter = slices.Clone(rep.drift)
	slices.Sort(rep.jitter)
	slices.Sort(rep.interarrival)
	return rep, nil
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
