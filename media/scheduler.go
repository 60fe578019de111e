package media

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// schedInterval is the packet time of everything the scheduler sends.
	schedInterval = 20 * time.Millisecond
	// schedSlots divides each interval into slots, and every playback is
	// sent in one slot. Sending a thousand frames takes milliseconds; all
	// in one burst, a stream late in the burst would arrive later than one
	// early in it, and move within the burst as other calls come and go:
	// jitter that grows with the load. In ten 2 ms slots the bursts are a
	// tenth as long, the packets leave near their due time, and the load
	// on the sockets is smooth.
	schedSlots = 10
	// schedSlotFill is how many playbacks a slot takes before the next
	// slot is opened: a burst this long lasts about a fifth of a
	// millisecond, and with few calls fewer slots mean fewer wake-ups,
	// each of which costs as much as sending dozens of frames (the Go
	// runtime wakes and parks threads around it): measured with 100
	// greetings, 32 per slot cost 0.051–0.059% of a core per call, 64
	// cost 0.041%, 100 cost 0.034% but let a burst grow to 0.3 ms and more
	// packets leave over 2 ms late under load. Past schedSlots·schedSlotFill
	// playbacks, a newcomer goes to the least busy slot.
	schedSlotFill = 64
	// schedMaxBurst is how many frames a playback may be sent at once to
	// catch up after a late tick. A tick late by up to two intervals (a
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
// goroutine and one timer: every 20 ms it sends the next frame of every
// active playback, spread over the interval's slots (see schedSlots). One
// goroutine and timer per call would cost far more at a thousand calls, in
// wake-ups and in scheduling jitter.
//
// The schedule is absolute: slot k is due at start + k·2 ms, the timer is
// armed for that instant (not for "2 ms from now"), and a tick that runs
// late sends what it owes (see schedMaxBurst), so the streams do not drift
// however late single ticks run. The timer skips the slots with nothing
// to send, and with nothing to play it is off until Play wakes the
// scheduler up.
type Scheduler struct {
	// Log, when set before Run, is told whether the player runs at
	// realtime priority (see Run).
	Log *slog.Logger

	interval time.Duration // packet time
	slot     time.Duration // interval / schedSlots
	slotFill int           // schedSlotFill; smaller in tests
	now      func() time.Time
	wake     chan struct{} // a Play happened; capacity 1

	mu      sync.Mutex // guards pending and closed
	pending []*Playback
	closed  bool // Run has returned

	// Owned by Run's goroutine.
	active [schedSlots][]*Playback // by slot
	count  int                     // playbacks in active
	base   time.Time               // when slot 0 was due
	ticks  int64                   // slots served since base
	buf    [rtpHeaderMin + frameSamples]byte

	frames, slippedSlots atomic.Uint64
	playing              atomic.Int64
	realtime             atomic.Bool
	late                 [len(latenessBounds) + 1]atomic.Uint64
	lateSum              atomic.Int64 // ns
}

// SchedulerStats are a scheduler's counters.
type SchedulerStats struct {
	Active   int    // playbacks being sent
	Realtime bool   // Run may use realtime priority under load (see Run)
	Frames   uint64 // frames sent
	Slipped  uint64 // frames each playback skipped after stalls (see schedMaxBurst)
	// Late counts the wake-ups by how late they came after their slot's
	// due time: Late[i] those up to LatenessBounds()[i] (and above the
	// bound before), the last one those above every bound. LateSum is
	// their total lateness. A late wake-up delays every frame of its slot.
	Late    [len(latenessBounds) + 1]uint64
	LateSum time.Duration
}

// latenessBounds are the upper bounds of SchedulerStats.Late.
var latenessBounds = [...]time.Duration{
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond,
}

// LatenessBounds returns the upper bounds of SchedulerStats.Late's buckets.
func LatenessBounds() []time.Duration { return latenessBounds[:] }

// observeLateness counts one wake-up that came d after its due time.
func (s *Scheduler) observeLateness(d time.Duration) {
	d = max(d, 0)
	i := 0
	for i < len(latenessBounds) && d > latenessBounds[i] {
		i++
	}
	s.late[i].Add(1)
	s.lateSum.Add(int64(d))
}

// NewScheduler returns a scheduler; Run makes it work.
func NewScheduler() *Scheduler {
	return &Scheduler{
		interval: schedInterval, slot: schedInterval / schedSlots, slotFill: schedSlotFill,
		now: time.Now, wake: make(chan struct{}, 1),
	}
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
	st := SchedulerStats{
		Active:   int(s.playing.Load()),
		Realtime: s.realtime.Load(),
		Frames:   s.frames.Load(),
		Slipped:  s.slippedSlots.Load() / schedSlots,
	}
	for i := range s.late {
		st.Late[i] = s.late[i].Load()
	}
	st.LateSum = time.Duration(s.lateSum.Load())
	return st
}

// Run sends the playbacks' frames until ctx ends; then every playback is
// done, and later ones are done at once. Call it once, on a goroutine of
// its own: on Linux, with two CPUs or more and the right to (root,
// CAP_SYS_NICE or RLIMIT_RTPRIO ≥ 1), Run locks it to a thread that it
// raises to realtime priority while there are hundreds of playbacks, so
// that the kernel wakes the player on time (see linuxClock).
func (s *Scheduler) Run(ctx context.Context) {
	// The waits are for each slot's due time, not for "2 ms from now", so
	// that an idle scheduler that wakes up within an interval keeps its
	// schedule: a prompt that follows another on the same leg goes on 20
	// ms after the last frame, not at once.
	clock, err := newSlotClock(ctx)
	defer clock.close()
	s.realtime.Store(err == nil)
	if s.Log != nil {
		if err != nil {
			s.Log.Warn("prompt player at normal priority: under load its packets may leave late", "why", err)
		} else {
			s.Log.Info("prompt player: realtime priority under load")
		}
	}
	defer s.shutdown()
	for {
		// Idle: wait for a Play.
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		}
		if now := s.now(); s.ticks == 0 || !now.Before(s.due(s.ticks)) {
			// The next slot of the old schedule is past: start a new one now.
			s.base, s.ticks = now, 0
		}
		// Busy: newcomers are admitted at the next slot with frames to
		// send, at most an interval away.
		for busy := true; busy; {
			clock.setLoad(s.count)
			due := s.due(s.next())
			if !clock.sleepUntil(ctx, due, s.now()) {
				return
			}
			now := s.now()
			s.observeLateness(now.Sub(due))
			busy = s.tick(now)
		}
		clock.setLoad(0)
	}
}

// due is when slot k is due.
func (s *Scheduler) due(k int64) time.Time {
	return s.base.Add(time.Duration(k) * s.slot)
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
	for k := range s.active {
		for _, pb := range s.active[k] {
			pb.finish()
		}
		s.active[k] = nil
	}
	s.count = 0
	s.playing.Store(0)
}

// next is the next slot worth waking up for: one with frames to send, or
// the very next when playbacks wait to be admitted.
func (s *Scheduler) next() int64 {
	s.mu.Lock()
	waiting := len(s.pending) > 0
	s.mu.Unlock()
	if waiting {
		return s.ticks
	}
	for k := s.ticks; k < s.ticks+schedSlots; k++ {
		if len(s.active[k%schedSlots]) > 0 {
			return k
		}
	}
	return s.ticks
}

// tick sends the frames due at now and reports whether anything is still
// playing or waiting to.
func (s *Scheduler) tick(now time.Time) bool {
	due := int64(now.Sub(s.base)/s.slot) + 1 // slots due so far
	if due <= s.ticks {
		return s.count > 0 || s.hasPending()
	}
	if owed, most := due-s.ticks, int64(schedMaxBurst*schedSlots); owed > most {
		s.slippedSlots.Add(uint64(owed - most))
		s.ticks = due - most
	}
	for ; s.ticks < due; s.ticks++ {
		k := int(s.ticks % schedSlots)
		if s.ticks == due-1 {
			// Playbacks that just arrived get at most one frame, not a
			// catch-up, whichever their slot.
			s.admit(k)
		}
		s.sendFrames(k, s.due(s.ticks))
	}
	s.playing.Store(int64(s.count))
	return s.count > 0 || s.hasPending()
}

func (s *Scheduler) hasPending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending) > 0
}

// admit moves the pending playbacks to the active ones: each to its leg's
// slot, so consecutive prompts stay an interval apart, or else to the
// fullest slot with room (see schedSlotFill), or, when all are full, to the
// least busy. Ties go to the slot that comes first from the current one
// (k), so that a lone playback starts at once.
func (s *Scheduler) admit(k int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, pb := range s.pending {
		slot := int(pb.leg.schedSlot.Load()) - 1
		if slot < 0 {
			slot = s.slotFor(k)
			pb.leg.schedSlot.Store(int32(slot + 1))
		}
		s.active[slot] = append(s.active[slot], pb)
		s.count++
		s.pending[i] = nil
	}
	s.pending = s.pending[:0]
}

// slotFor picks the slot of a new leg (see admit).
func (s *Scheduler) slotFor(k int) int {
	roomy, least := -1, k
	for j := range schedSlots {
		c := (k + j) % schedSlots
		n := len(s.active[c])
		if n < s.slotFill && (roomy < 0 || n > len(s.active[roomy])) {
			roomy = c
		}
		if n < len(s.active[least]) {
			least = c
		}
	}
	if roomy >= 0 {
		return roomy
	}
	return least
}

// sendFrames sends one frame of every playback in slot k, due at at,
// dropping those that are over. The others keep their order, so that each
// stream leaves at the same point of the burst from one interval to the next.
func (s *Scheduler) sendFrames(k int, at time.Time) {
	kept := s.active[k][:0]
	for _, pb := range s.active[k] {
		if pb.stopped.Load() || !s.sendFrame(pb, at) {
			pb.finish()
			s.count--
			continue
		}
		kept = append(kept, pb)
	}
	clear(s.active[k][len(kept):])
	s.active[k] = kept
}

// sendFrame sends pb's next frame, due at at, and reports whether there is
// more to send. It does not allocate.
func (s *Scheduler) sendFrame(pb *Playback, at time.Time) bool {
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
	if err := pb.leg.writeRTPAt(pkt, at); errors.Is(err, net.ErrClosed) {
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
