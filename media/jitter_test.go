package media

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// jpkt is one packet pushed in a jitter test; a zero seq with flush set
// stands for Flush. Payloads are 160 bytes of tag, timestamps 160 per seq
// unless ts is given.
type jpkt struct {
	seq   uint16
	ssrc  uint32
	ts    uint32 // 0: seq*160
	tag   byte   // 0: byte(seq)
	flush bool
}

func flushOp() jpkt { return jpkt{flush: true} }

func runJitter(depth int, ops []jpkt) ([]string, JitterStats) {
	var out []string
	j := NewJitterBuffer(depth, func(payload []byte, silence int) {
		if payload == nil {
			out = append(out, fmt.Sprintf("s%d", silence))
			return
		}
		out = append(out, fmt.Sprintf("p%d", payload[0]))
	})
	buf := make([]byte, 160)
	for _, op := range ops {
		if op.flush {
			j.Flush()
			continue
		}
		ts, tag := op.ts, op.tag
		if ts == 0 {
			ts = uint32(op.seq) * 160
		}
		if tag == 0 {
			tag = byte(op.seq)
		}
		for i := range buf {
			buf[i] = tag
		}
		j.Push(op.ssrc, op.seq, ts, buf)
	}
	return out, j.Stats()
}

func seqs(s ...uint16) []jpkt {
	ops := make([]jpkt, len(s))
	for i, n := range s {
		ops[i] = jpkt{seq: n}
	}
	return ops
}

func TestJitterBuffer(t *testing.T) {
	tests := []struct {
		name  string
		ops   []jpkt
		want  string
		stats JitterStats
	}{
		{"in order", seqs(1, 2, 3), "p1 p2 p3", JitterStats{}},
		{"first packets swapped", seqs(2, 1, 3, 4), "p1 p2 p3 p4", JitterStats{}},
		{"first packet lost", append(seqs(2, 3), flushOp()), "p2 p3", JitterStats{}},
		{"swapped pair", seqs(1, 3, 2, 4), "p1 p2 p3 p4", JitterStats{}},
		{"reversed three", seqs(1, 4, 3, 2, 5), "p1 p2 p3 p4 p5", JitterStats{}},
		{"duplicate held", seqs(1, 2, 2, 3), "p1 p2 p3", JitterStats{Duplicate: 1}},
		{"duplicate released", seqs(1, 2, 3, 4, 2), "p1 p2 p3 p4", JitterStats{Late: 1}},
		{"duplicate out of order", append(seqs(1, 3, 3, 2), flushOp()), "p1 p2 p3", JitterStats{Duplicate: 1}},
		// 2 is given up once 3 packets after it are held; it comes too late.
		{"lost then late", seqs(1, 3, 4, 5, 2, 6), "p1 s160 p3 p4 p5 p6", JitterStats{Lost: 1, Late: 1}},
		{"two lost", seqs(1, 4, 5, 6, 7), "p1 s320 p4 p5 p6 p7", JitterStats{Lost: 2}},
		{"lost at the end", append(seqs(1, 2, 4), flushOp()), "p1 p2 s160 p4", JitterStats{Lost: 1}},
		{"flush with nothing held", append(seqs(1, 2), flushOp(), jpkt{seq: 3}), "p1 p2 p3", JitterStats{}},
		{"sequence wraps", []jpkt{{seq: 65534, ts: 1000}, {seq: 0, ts: 1320}, {seq: 65535, ts: 1160}, {seq: 1, ts: 1480}}, "p254 p255 p0 p1", JitterStats{}},
		{"lost across the wrap", []jpkt{{seq: 65535, ts: 1000}, {seq: 1, ts: 1320}, {seq: 2, ts: 1480}, {seq: 3, ts: 1640}}, "p255 s160 p1 p2 p3", JitterStats{Lost: 1}},
		// A sender pausing (no packets, timestamps move on) is silence too.
		{"pause in timestamps", []jpkt{{seq: 1, ts: 160}, {seq: 2, ts: 1120}, flushOp()}, "p1 s800 p2", JitterStats{}},
		// A jump of over 2 s is a broken or new timeline, not lost audio.
		{"absurd timestamp jump", []jpkt{{seq: 1, ts: 160}, {seq: 2, ts: 160 + 10*pcmRate}, flushOp()}, "p1 p2", JitterStats{}},
		{"timestamps backwards", []jpkt{{seq: 1, ts: 8000}, {seq: 2, ts: 160}, flushOp()}, "p1 p2", JitterStats{}},
		// A new SSRC: what is held goes out, and the new stream starts
		// without a gap to fill (its timestamps are unrelated).
		{"new ssrc", []jpkt{{seq: 1}, {seq: 3}, {seq: 500, ssrc: 9}, {seq: 501, ssrc: 9}, flushOp()}, "p1 s160 p3 p244 p245", JitterStats{Lost: 1}},
		// Beyond the window: a burst loss; the timestamps say how long.
		{"burst loss", seqs(1, 2, 40, 41), "p1 p2 s5920 p40 p41", JitterStats{}},
		// Far behind: the sender restarted its sequence.
		{"sequence restart", []jpkt{{seq: 1000, ts: 100}, {seq: 1001, ts: 260}, {seq: 5, ts: 420}, {seq: 6, ts: 580}}, "p232 p233 p5 p6", JitterStats{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, stats := runJitter(3, tt.ops)
			if strings.Join(got, " ") != tt.want {
				t.Errorf("released %q, want %q", strings.Join(got, " "), tt.want)
			}
			if stats != tt.stats {
				t.Errorf("stats %+v, want %+v", stats, tt.stats)
			}
		})
	}
}

// TestJitterBufferReleasesInOrderAtOnce: the first depth packets wait for
// each other; after them, a packet in order never waits.
func TestJitterBufferReleasesInOrderAtOnce(t *testing.T) {
	var n int
	j := NewJitterBuffer(3, func([]byte, int) { n++ })
	p := make([]byte, 160)
	for i := range 10 {
		j.Push(1, 100+uint16(i), uint32(i)*160, p)
		want := i + 1
		if i < 2 {
			want = 0
		}
		if n != want {
			t.Fatalf("after %d packets, %d released, want %d", i+1, n, want)
		}
	}
}

func TestJitterBufferDropsOversizedPayload(t *testing.T) {
	got, stats := []string(nil), JitterStats{}
	j := NewJitterBuffer(3, func(p []byte, s int) { got = append(got, fmt.Sprint(len(p), s)) })
	j.Push(1, 1, 160, make([]byte, maxJitterPayload+1))
	j.Push(1, 2, 320, make([]byte, maxJitterPayload))
	j.Flush()
	stats = j.Stats()
	if want := []string{"960 0"}; !slices.Equal(got, want) || stats.Dropped != 1 {
		t.Errorf("released %q with %+v, want %q and one dropped", got, stats, want)
	}
}

// TestJitterBufferRandomOrder shuffles packets within the depth and loses
// some: what comes out is always in order, each packet once, with silence
// exactly where packets are missing.
func TestJitterBufferRandomOrder(t *testing.T) {
	const n = 2000
	var out []int // seq, or -1 per 160 samples of silence
	j := NewJitterBuffer(3, func(p []byte, silence int) {
		if p == nil {
			for range silence / 160 {
				out = append(out, -1)
			}
			return
		}
		out = append(out, int(p[0])|int(p[1])<<8)
	})
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	// Deterministic shuffle: swap neighbours within windows of 3, and lose
	// every 97th packet.
	for i := 0; i+2 < n; i += 3 {
		order[i], order[i+2] = order[i+2], order[i]
	}
	p := make([]byte, 160)
	for _, s := range order {
		if s%97 == 50 {
			continue
		}
		p[0], p[1] = byte(s), byte(s>>8)
		j.Push(7, uint16(s+65000), uint32(s)*160, p) // wraps on the way
	}
	j.Flush()
	if len(out) != n {
		t.Fatalf("%d frames out, want %d", len(out), n)
	}
	for i, s := range out {
		want := i
		if i%97 == 50 {
			want = -1
		}
		if s != want {
			t.Fatalf("frame %d is %d, want %d", i, s, want)
		}
	}
}

func TestJitterBufferDoesNotAllocate(t *testing.T) {
	j := NewJitterBuffer(3, func([]byte, int) {})
	p := make([]byte, 160)
	var seq uint16
	if n := testing.AllocsPerRun(1000, func() {
		// Out of order and with a loss, to go through every path.
		j.Push(1, seq+1, uint32(seq+1)*160, p)
		j.Push(1, seq, uint32(seq)*160, p)
		j.Push(1, seq+3, uint32(seq+3)*160, p)
		seq += 4
	}); n != 0 {
		t.Errorf("%v allocations per push, want 0", n)
	}
}
