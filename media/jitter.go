package media

const (
	// maxJitterPayload is the largest payload a JitterBuffer keeps: 120 ms
	// of G.711, the longest packetisation phones use.
	maxJitterPayload = 960
	// jitterMaxFill bounds the silence inserted for one gap (2 s): a
	// longer jump in timestamps is a new stream or a broken one, not
	// audio that was lost, and recording it as silence would pad the
	// message with nothing.
	jitterMaxFill = 2 * pcmRate
	// jitterResync is how far behind the release point (in packets) a
	// packet must be to be taken as a restarted sequence rather than as a
	// late packet.
	jitterResync = 100
)

// JitterBuffer puts the packets of one G.711 RTP stream back in order for
// a recorder, which has no playout deadline and so needs no timer: once
// the first depth packets are in, a packet is released as soon as every
// packet before it has been, and a missing packet is given up for lost once
// depth packets after it have arrived. Duplicates and packets arriving after their turn are dropped.
// Each gap in the timestamps (a lost packet, or a sender that paused) is
// released as silence of the gap's length, so the recording keeps its
// timing; the gap is measured in 8 kHz samples and G.711's one byte per
// sample is assumed.
//
// It never allocates after NewJitterBuffer, and is not safe for concurrent
// use.
type JitterBuffer struct {
	depth int
	mask  uint16
	slots []jitterSlot
	emit  func(payload []byte, silence int)

	started  bool
	primed   bool // released something since the stream started
	ssrc     uint32
	next     uint16 // the next sequence number to release
	highest  uint16 // the highest sequence number held
	held     int    // packets in slots
	tsKnown  bool   // whether expectTS means anything yet
	expectTS uint32 // timestamp right after the last released packet

	stats JitterStats
}

type jitterSlot struct {
	full bool
	seq  uint16
	ts   uint32
	n    int
	buf  [maxJitterPayload]byte
}

// JitterStats counts what a JitterBuffer did not release as received.
type JitterStats struct {
	Late      uint64 // arrived after their turn had passed (or repeated one released)
	Duplicate uint64 // already held
	Lost      uint64 // never arrived in time; replaced by silence
	Dropped   uint64 // payload too large to hold
}

// NewJitterBuffer returns a buffer that waits for up to depth (≥ 1) packets
// after a missing one, and releases to emit, in order: either a packet's
// payload (silence == 0; valid only during the call) or a run of silence
// samples (payload nil).
func NewJitterBuffer(depth int, emit func(payload []byte, silence int)) *JitterBuffer {
	depth = max(depth, 1)
	// Room for depth packets past a missing one, and as many again for a
	// packet that overtakes them while an earlier one is missing.
	size := 2
	for size < 2*(depth+1) {
		size *= 2
	}
	return &JitterBuffer{depth: depth, mask: uint16(size - 1), slots: make([]jitterSlot, size), emit: emit}
}

// Push hands the buffer one packet of the stream. A new SSRC (the peer
// restarted or switched its stream) releases what is held and starts
// over.
func (j *JitterBuffer) Push(ssrc uint32, seq uint16, ts uint32, payload []byte) {
	if len(payload) > maxJitterPayload {
		j.stats.Dropped++
		return
	}
	if !j.started || ssrc != j.ssrc {
		if j.started {
			j.Flush()
			j.tsKnown = false
		}
		j.started, j.primed, j.ssrc, j.next, j.highest = true, false, ssrc, seq, seq
	}
	d := int16(seq - j.next)
	switch {
	case d < 0 && !j.primed && int(int16(j.highest-seq)) <= int(j.mask):
		// Nothing released yet: the stream starts earlier than we thought.
		j.next = seq
	case d < -jitterResync:
		// Far behind: the sender restarted its sequence numbers.
		j.Flush()
		j.next, j.highest = seq, seq
	case d < 0:
		j.stats.Late++
		return
	case int(d) > int(j.mask):
		// Too far ahead to hold: a burst loss. Release what is held and
		// carry on from here; the timestamps tell the gap.
		j.Flush()
		j.next, j.highest = seq, seq
	}
	s := &j.slots[seq&j.mask]
	if s.full {
		j.stats.Duplicate++
		return
	}
	s.full, s.seq, s.ts, s.n = true, seq, ts, copy(s.buf[:], payload)
	j.held++
	if int16(seq-j.highest) > 0 {
		j.highest = seq
	}
	j.release(false)
}

// Flush releases everything held, skipping what is missing; call it at the
// end of a recording.
func (j *JitterBuffer) Flush() {
	j.release(true)
}

// Stats returns the counters.
func (j *JitterBuffer) Stats() JitterStats { return j.stats }

// release emits the packets that are due: in order while the next one is
// there; past a missing one once depth packets after it are held (or
// always, when flushing).
func (j *JitterBuffer) release(all bool) {
	if !j.primed {
		// Hold the first packets until depth of them are in, so that a
		// first packet overtaken by its successor still comes first.
		if !all && j.held < j.depth {
			return
		}
		j.primed = true
	}
	for j.held > 0 {
		s := &j.slots[j.next&j.mask]
		if !s.full {
			if !all && int(int16(j.highest-j.next)) < j.depth {
				return
			}
			j.stats.Lost++
			j.next++
			continue
		}
		j.emitSlot(s)
		s.full = false
		j.held--
		j.next++
	}
	if all {
		j.next = j.highest + 1
	}
}

// emitSlot releases one packet, preceded by the silence of any gap in the
// timestamps before it.
func (j *JitterBuffer) emitSlot(s *jitterSlot) {
	if j.tsKnown {
		if gap := int32(s.ts - j.expectTS); gap > 0 && gap <= jitterMaxFill {
			j.emit(nil, int(gap))
		}
	}
	j.emit(s.buf[:s.n], 0)
	j.tsKnown, j.expectTS = true, s.ts+uint32(s.n)
}
