package media

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// schedInterval is the packet time of everything the scheduler sends.
	schedInterval = 20 * time.Millisecond
	// schedMaxBurst is how many frames a playback may be sent in one tick
	// to catch up after a late one. A tick late by up to two intervals (a
	// GC pause, a busy machine) is fully made up, so the stream stays on
	// time; a longer stall is not, because a burst of many packets would
	// overflow the peer's jitter buffer and be heard as a skip anyway: the
	// excess is forgiven and the playback resumes from where it was, later
	// by the stall (counted in SchedulerStats.Slipped). Timestamps always
	// advance by one frame per frame, so the peer sees a delay, never a
	// gap in the audio.
	schedMaxBurst = 3
)

// Scheduler paces the playback of prompts to any number of calls from one
// goroutine and one timer ticking every 20 ms: at each tick it sends the
// next frame of every active playback. One goroutine and timer per call
// would cost far more at a thousand calls, in wake-ups and in scheduling
// jitter.
//
// The schedule is absolute: tick k is due at start + k·20 ms, the timer is
// armed for that instant (not for "20 ms from now"), and a tick that runs
// late sends what it owes (see schedMaxBurst), so the streams do not drift
// however late single ticks run. With nothing to play the timer is off,
// and Play wakes the scheduler up.
type Scheduler struct {
	interval time.Duration
	now      func() time.Time
	wake     chan struct{} // a Play happened; capacity 1

	mu      sync.Mutex // guards pending and closed
	pending []*Playback
	closed  bool // Run has returned

	// Owned by Run's goroutine.
	active []*Playback
	base   time.Time // when tick 0 was due
	ticks  int64     // ticks served since base
	buf    [rtpHeaderMin + frameSamples]byte

	frames, slipped atomic.Uint64
	playing         atomic.Int64
}

// SchedulerStats are a scheduler's counters.
type SchedulerStats struct {
	Active  int    // playbacks being sent
	Frames  uint64 // frames sent
	Slipped uint64 // ticks forgiven after a stall (see schedMaxBurst)
}

// NewScheduler returns a scheduler; Run makes it work.
func NewScheduler() *Scheduler {
	return &Scheduler{interval: schedInterval, now: time.Now, wake: make(chan struct{}, 1)}
}

// Playback is one prompt being sent to one leg by a Scheduler.
type Playback struct {
	leg    *Leg
	prompt *Prompt
	loop   bool

	stopped  atomic.Bool
	done     chan struct{}
	doneOnce sync.Once

	// Owned by the scheduler's goroutine.
	pos   int // next sample of the prompt
	first bool
	ssrc  uint32
	seq   uint16
	ts    uint32
}

// Done returns a channel closed when the playback has finished, was
// stopped, or its leg closed.
func (pb *Playback) Done() <-chan struct{} { return pb.done }

// Stop ends the playback: no frame is sent after the one possibly being
// sent at this instant. It is idempotent and safe from any goroutine
// (a leg's Handler included, for barge-in).
func (pb *Playback) Stop() {
	pb.stopped.Store(true)
	pb.finish()
}

func (pb *Playback) finish() { pb.doneOnce.Do(func() { close(pb.done) }) }

// Play starts sending p to leg at the next tick, in the leg's negotiated
// codec (read at every frame, so a re-INVITE switching between PCMA and
// PCMU applies at once). The last frame is padded with silence. With loop,
// the prompt starts over at its end until Stop (music on hold). While the
// leg has no G.711 codec the playback runs silently. A playback with no
// audio, or started after Run returned, is done at once.
//
// The playback is a source of its own in the leg's stream (see Leg.WriteRTP):
// its first frame has the marker bit. Play one prompt at a time per leg.
func (s *Scheduler) Play(leg *Leg, p *Prompt, loop bool) *Playback {
	pb := &Playback{
		leg: leg, prompt: p, loop: loop,
		done:  make(chan struct{}),
		first: true,
		ssrc:  rand.Uint32(), seq: uint16(rand.Uint32()), ts: rand.Uint32(),
	}
	if p == nil || len(p.pcma) == 0 {
		pb.finish()
		return pb
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		pb.finish()
		return pb
	}
	s.pending = append(s.pending, pb)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return pb
}

// Stats returns a snapshot of the counters.
func (s *Scheduler) Stats() SchedulerStats {
	return SchedulerStats{Active: int(s.playing.Load()), Frames: s.frames.Load(), Slipped: s.slipped.Load()}
}

// Run sends the playbacks' frames until ctx ends; then every playback is
// done, and later ones are done at once. Call it once, on a goroutine of
// its own.
func (s *Scheduler) Run(ctx context.Context) {
	// A timer re-armed for each tick's due time, rather than a Ticker, so
	// that an idle scheduler that wakes up within a tick keeps its
	// schedule: a prompt that follows another on the same leg goes on 20
	// ms after the last frame, not at once.
	t := time.NewTimer(time.Hour)
	t.Stop()
	defer t.Stop()
	defer s.shutdown()
	for {
		// Idle: wait for a Play.
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		}
		if now := s.now(); s.ticks == 0 || !now.Before(s.due()) {
			// The next tick of the old schedule is past: start a new one now.
			s.base, s.ticks = now, 0
		}
		for busy := true; busy; {
			t.Reset(s.due().Sub(s.now()))
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				busy = s.tick(s.now())
			}
		}
	}
}

// due is when the next tick is due.
func (s *Scheduler) due() time.Time {
	return s.base.Add(time.Duration(s.ticks) * s.interval)
}

// shutdown finishes every playback when Run returns.
func (s *Scheduler) shutdown() {
	s.mu.Lock()
	s.closed = true
	pending := s.pending
	s.pending = nil
	s.mu.Unlock()
	for _, pb := range pending {
		pb.finish()
	}
	for _, pb := range s.active {
		pb.finish()
	}
	s.active = nil
	s.playing.Store(0)
}

// tick sends the frames due at now and reports whether anything is still
// playing.
func (s *Scheduler) tick(now time.Time) bool {
	due := int64(now.Sub(s.base)/s.interval) + 1
	owed := due - s.ticks
	if owed <= 0 {
		return len(s.active) > 0
	}
	s.ticks = due
	if owed > schedMaxBurst {
		s.slipped.Add(uint64(owed - schedMaxBurst))
		owed = schedMaxBurst
	}
	for f := range owed {
		if f == owed-1 {
			// Playbacks that just arrived get one frame, not a catch-up.
			s.admit()
		}
		s.sendFrames()
	}
	s.playing.Store(int64(len(s.active)))
	return len(s.active) > 0
}

// admit moves the pending playbacks to the active ones.
func (s *Scheduler) admit() {
	s.mu.Lock()
	s.active = append(s.active, s.pending...)
	clear(s.pending)
	s.pending = s.pending[:0]
	s.mu.Unlock()
}

// sendFrames sends one frame of every active playback, dropping those that
// are over.
func (s *Scheduler) sendFrames() {
	for i := 0; i < len(s.active); {
		pb := s.active[i]
		if pb.stopped.Load() || !s.sendFrame(pb) {
			pb.finish()
			last := len(s.active) - 1
			s.active[i] = s.active[last]
			s.active[last] = nil
			s.active = s.active[:last]
			continue
		}
		i++
	}
}

// sendFrame sends pb's next frame and reports whether there is more to
// send. It does not allocate.
func (s *Scheduler) sendFrame(pb *Playback) bool {
	n := len(pb.prompt.pcma)
	if pb.pos >= n && !pb.loop {
		return false
	}
	r := pb.leg.remote.Load()
	var (
		audio []byte
		pt    uint8
	)
	if r != nil {
		audio, pt = pb.prompt.Payload(r.Codec.Name), r.Codec.PayloadType
	}
	if audio == nil {
		// Nothing we can send yet: let the time pass all the same.
		pb.advance(frameSamples, n)
		return pb.loop || pb.pos < n
	}

	pkt := s.buf[:]
	pkt[0] = 0x80
	pkt[1] = pt
	if pb.first {
		pkt[1] |= 0x80 // the start of a talkspurt (RFC 3551 §4.1)
		pb.first = false
	}
	// WriteRTP rewrites the header in place, so set all of it every time.
	binary.BigEndian.PutUint16(pkt[2:], pb.seq)
	binary.BigEndian.PutUint32(pkt[4:], pb.ts)
	binary.BigEndian.PutUint32(pkt[8:], pb.ssrc)
	payload := pkt[rtpHeaderMin:]
	for len(payload) > 0 {
		if pb.pos >= n {
			if !pb.loop {
				silence := byte(0xff) // PCMU
				if r.Codec.Name == "PCMA" {
					silence = 0xd5
				}
				for i := range payload {
					payload[i] = silence
				}
				break
			}
			pb.pos = 0
		}
		c := copy(payload, audio[pb.pos:])
		pb.pos += c
		payload = payload[c:]
	}
	pb.seq++
	pb.ts += frameSamples
	s.frames.Add(1)
	if err := pb.leg.WriteRTP(pkt); errors.Is(err, net.ErrClosed) {
		return false // the call is over; a loop would never end
	}
	return pb.loop || pb.pos < n
}

// advance moves the playback position by k samples without sending.
func (pb *Playback) advance(k, n int) {
	pb.pos += k
	if pb.loop && pb.pos >= n {
		pb.pos %= n
	}
	// The timestamp follows the time, as a sender in silence would; the
	// sequence number does not, since no packet was lost.
	pb.ts += frameSamples
}
