package media

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"
)

// schedFixture is a scheduler driven tick by tick with made-up times, and
// a leg sending to a phone.
type schedFixture struct {
	s     *Scheduler
	leg   *Leg
	phone *phone
	base  time.Time
}

func newSchedFixture(t *testing.T) *schedFixture {
	t.Helper()
	f := &schedFixture{
		s:     NewScheduler(),
		leg:   newTestLeg(t, "127.0.0.1", nil),
		phone: newPhone(t, "127.0.0.1"),
		base:  time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC),
	}
	f.leg.SetRemote(Remote{Addr: f.phone.addr, Codec: pcmu, EventPT: 101})
	f.s.base = f.base
	return f
}

// at runs the tick due at base+d.
func (f *schedFixture) at(d time.Duration) { f.s.tick(f.base.Add(d)) }

func (f *schedFixture) sent() uint64 { return f.leg.Stats().PacketsOut }

// countingPrompt returns a prompt of n samples whose µ-law bytes are all
// different from silence and from their neighbours.
func countingPrompt(n int) *Prompt {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(1000 + 37*(i%500))
	}
	return PromptFromPCM(s)
}

func isDone(pb *Playback) bool {
	select {
	case <-pb.Done():
		return true
	default:
		return false
	}
}

func TestSchedulerFrames(t *testing.T) {
	f := newSchedFixture(t)
	p := countingPrompt(400) // two and a half frames
	pb := f.s.Play(f.leg, p, false)

	var first *struct {
		seq uint16
		ts  uint32
	}
	for i, d := range []time.Duration{0, 20 * time.Millisecond, 40 * time.Millisecond} {
		f.at(d)
		got, _ := f.phone.recv()
		if got.PayloadType != pcmu.PayloadType {
			t.Errorf("frame %d: payload type %d", i, got.PayloadType)
		}
		if got.Marker != (i == 0) {
			t.Errorf("frame %d: marker %v", i, got.Marker)
		}
		want := make([]byte, frameSamples)
		for j := range want {
			want[j] = 0xff // µ-law silence pads the last frame
		}
		copy(want, p.Payload("PCMU")[i*frameSamples:])
		if !bytes.Equal(got.Payload, want) {
			t.Errorf("frame %d: wrong payload", i)
		}
		if first == nil {
			first = &struct {
				seq uint16
				ts  uint32
			}{got.SequenceNumber, got.Timestamp}
		} else if got.SequenceNumber != first.seq+uint16(i) || got.Timestamp != first.ts+uint32(i*frameSamples) {
			t.Errorf("frame %d: seq %d ts %d after %d/%d", i, got.SequenceNumber, got.Timestamp, first.seq, first.ts)
		}
		if done := isDone(pb); done != (i == 2) {
			t.Errorf("after frame %d: done %v", i, done)
		}
	}
	f.at(60 * time.Millisecond)
	if n := f.sent(); n != 3 {
		t.Errorf("%d packets sent, want 3", n)
	}
	if a := f.s.Stats().Active; a != 0 {
		t.Errorf("%d playbacks active after the end", a)
	}
}

// TestSchedulerLateTicks checks the catch-up policy: a late tick sends
// what it owes, up to schedMaxBurst frames; the rest is forgiven.
func TestSchedulerLateTicks(t *testing.T) {
	f := newSchedFixture(t)
	f.s.Play(f.leg, countingPrompt(8000), true)
	steps := []struct {
		at   time.Duration
		sent uint64 // in total
	}{
		{0, 1},
		{20 * time.Millisecond, 2},
		{39 * time.Millisecond, 2}, // early wake-up: nothing due yet
		{65 * time.Millisecond, 4}, // ticks 2 and 3 are due
		{80 * time.Millisecond, 5},
		{400 * time.Millisecond, 8}, // 16 due: 3 sent, 13 forgiven
		{420 * time.Millisecond, 9}, // and back on schedule
	}
	for _, st := range steps {
		f.at(st.at)
		if got := f.sent(); got != st.sent {
			t.Errorf("at %v: %d packets sent, want %d", st.at, got, st.sent)
		}
	}
	if got := f.s.Stats().Slipped; got != 13 {
		t.Errorf("slipped %d ticks, want 13", got)
	}
	// The timestamps run on by one frame per frame: a delay, no gap.
	var last uint32
	for i := range 9 {
		p, _ := f.phone.recv()
		if i > 0 && p.Timestamp != last+frameSamples {
			t.Errorf("packet %d: timestamp %d after %d", i, p.Timestamp, last)
		}
		last = p.Timestamp
	}
}

// TestSchedulerNewcomerNoBurst: a playback that starts at a late tick gets
// one frame, not the others' catch-up.
func TestSchedulerNewcomerNoBurst(t *testing.T) {
	f := newSchedFixture(t)
	f.s.Play(f.leg, countingPrompt(8000), true)
	f.at(0)
	other := newTestLeg(t, "127.0.0.1", nil)
	other.SetRemote(Remote{Addr: f.phone.addr, Codec: pcma})
	f.s.Play(other, countingPrompt(8000), true)
	f.at(60 * time.Millisecond)
	// The newcomer went to the next free slot, 2 ms after the busy one.
	f.at(62 * time.Millisecond)
	if a, b := f.sent(), other.Stats().PacketsOut; a != 4 || b != 1 {
		t.Errorf("sent %d and %d packets, want 4 (catching up) and 1 (new)", a, b)
	}
}

// TestSchedulerNextPromptTimestamp: the next prompt on a leg moves the
// stream's timestamp on by the time between the frames' due instants, not
// between their send times, so that a late last frame of one prompt does
// not shift the whole of the next.
func TestSchedulerNextPromptTimestamp(t *testing.T) {
	f := newSchedFixture(t)
	f.s.Play(f.leg, countingPrompt(2*frameSamples), false)
	f.at(0)
	f.at(23500 * time.Microsecond) // the last frame, due at 20 ms, 3.5 ms late
	f.at(40 * time.Millisecond)
	f.s.Play(f.leg, countingPrompt(frameSamples), false)
	f.at(100 * time.Millisecond) // due at 100 ms: 80 ms after the last frame
	var ts []uint32
	for range 3 {
		p, _ := f.phone.recv()
		ts = append(ts, p.Timestamp)
	}
	if d := ts[1] - ts[0]; d != frameSamples {
		t.Errorf("first prompt: timestamp step %d, want %d", d, frameSamples)
	}
	if d := ts[2] - ts[1]; d != 80*8 {
		t.Errorf("next prompt: timestamp moved on by %d, want %d (80 ms)", d, 80*8)
	}
}

// TestSchedulerSlots: playbacks fill a slot before the next is opened and
// then spread evenly over the slots of an interval, each stream keeps its
// slot (20 ms between its packets), and a leg's next prompt goes out in the
// same slot.
func TestSchedulerSlots(t *testing.T) {
	f := newSchedFixture(t)
	f.s.slotFill = 2
	const legs = 2*schedSlots + 3
	var all []*Leg
	var pbs []*Playback
	for range legs {
		leg := newTestLeg(t, "127.0.0.1", nil)
		leg.SetRemote(Remote{Addr: f.phone.addr, Codec: pcma})
		all = append(all, leg)
		pbs = append(pbs, f.s.Play(leg, countingPrompt(4*frameSamples), false))
	}
	slotOf := func() map[*Leg]int {
		m := map[*Leg]int{}
		for k := range schedSlots {
			for _, pb := range f.s.active[k] {
				m[pb.leg] = k
			}
		}
		return m
	}
	f.at(0)
	perSlot := map[int]int{}
	first := slotOf()
	for _, k := range first {
		perSlot[k]++
	}
	for k := range schedSlots {
		if n := perSlot[k]; n < 2 || n > 3 {
			t.Errorf("slot %d has %d playbacks, want 2 or 3 (%d over %d slots)", k, n, legs, schedSlots)
		}
	}
	// One slot at a time: each leg sends exactly when its slot comes.
	for step := 1; step <= 2*schedSlots; step++ {
		before := make([]uint64, legs)
		for i, leg := range all {
			before[i] = leg.Stats().PacketsOut
		}
		f.at(time.Duration(step) * f.s.slot)
		for i, leg := range all {
			sent := leg.Stats().PacketsOut - before[i]
			if want := uint64(0); step%schedSlots == first[leg] {
				want = 1
				if sent != want {
					t.Errorf("step %d: leg %d (slot %d) sent %d", step, i, first[leg], sent)
				}
			} else if sent != want {
				t.Errorf("step %d: leg %d (slot %d) sent %d out of its slot", step, i, first[leg], sent)
			}
		}
	}
	// The next prompt on a leg keeps the leg's slot.
	f.at(100 * time.Millisecond)
	for i, pb := range pbs {
		if !isDone(pb) {
			t.Fatalf("playback %d of 4 frames not done after 100 ms", i)
		}
	}
	last := all[legs-1]
	f.s.Play(last, countingPrompt(3*frameSamples), false)
	f.at(120 * time.Millisecond)
	if got, ok := slotOf()[last]; !ok || got != first[last] {
		t.Errorf("the leg's next prompt is in slot %d (active %v), want %d", got, ok, first[last])
	}
}

func TestSchedulerLoopAndStop(t *testing.T) {
	f := newSchedFixture(t)
	p := countingPrompt(240) // a frame and a half
	pb := f.s.Play(f.leg, p, true)
	f.at(0)
	f.at(20 * time.Millisecond)
	f.phone.recv()
	second, _ := f.phone.recv()
	want := append(append([]byte(nil), p.Payload("PCMU")[160:240]...), p.Payload("PCMU")[:80]...)
	if !bytes.Equal(second.Payload, want) {
		t.Error("the loop does not continue from the start within the frame")
	}
	pb.Stop()
	pb.Stop() // idempotent
	if !isDone(pb) {
		t.Fatal("Stop did not close Done")
	}
	f.at(40 * time.Millisecond)
	if n := f.sent(); n != 2 {
		t.Errorf("%d packets sent, want 2: a frame went out after Stop", n)
	}
}

func TestSchedulerCodec(t *testing.T) {
	f := newSchedFixture(t)
	p := countingPrompt(1600)
	pb := f.s.Play(f.leg, p, false)
	f.at(0)
	f.phone.recv()
	// A re-INVITE switches to PCMA: the next frame follows.
	f.leg.SetRemote(Remote{Addr: f.phone.addr, Codec: pcma})
	f.at(20 * time.Millisecond)
	got, _ := f.phone.recv()
	if got.PayloadType != pcma.PayloadType || !bytes.Equal(got.Payload, p.Payload("PCMA")[160:320]) {
		t.Errorf("after the switch: payload type %d, want PCMA's frame", got.PayloadType)
	}
	// No G.711 codec: time passes silently, and the playback still ends.
	f.leg.SetRemote(Remote{Addr: f.phone.addr, Codec: Codec{Name: "G722", PayloadType: 9}})
	for i := 2; i < 10; i++ {
		f.at(time.Duration(i) * 20 * time.Millisecond)
	}
	if n := f.sent(); n != 2 {
		t.Errorf("%d packets sent, want 2", n)
	}
	if !isDone(pb) {
		t.Error("playback not done after its duration")
	}
}

func TestSchedulerLegClosed(t *testing.T) {
	f := newSchedFixture(t)
	pb := f.s.Play(f.leg, countingPrompt(800), true)
	f.at(0)
	f.leg.Close()
	f.at(20 * time.Millisecond)
	if !isDone(pb) {
		t.Error("music on hold still playing to a closed leg")
	}
}

func TestSchedulerNothingToPlay(t *testing.T) {
	s := NewScheduler()
	leg := newTestLeg(t, "127.0.0.1", nil)
	for _, p := range []*Prompt{nil, PromptFromPCM(nil)} {
		if pb := s.Play(leg, p, true); !isDone(pb) {
			t.Errorf("Play(%v) not done at once", p)
		}
	}
}

// TestSchedulerRun plays through the real ticker: packets are paced at
// 20 ms on an absolute schedule, and the scheduler goes idle and wakes up.
func TestSchedulerRun(t *testing.T) {
	s := NewScheduler()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { s.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()

	leg := newTestLeg(t, "127.0.0.1", nil)
	ph := newPhone(t, "127.0.0.1")
	leg.SetRemote(Remote{Addr: ph.addr, Codec: pcma})

	for round := range 2 { // the second after the scheduler went idle
		const frames = 25
		pb := s.Play(leg, countingPrompt(frames*frameSamples), false)
		var arrivals []time.Time
		var seq0 uint16
		var ts0 uint32
		for i := range frames {
			p, _ := ph.recv()
			arrivals = append(arrivals, time.Now())
			if i == 0 {
				seq0, ts0 = p.SequenceNumber, p.Timestamp
				if !p.Marker {
					t.Errorf("round %d: no marker on the first packet", round)
				}
				continue
			}
			if p.Marker || p.SequenceNumber != seq0+uint16(i) || p.Timestamp != ts0+uint32(i*frameSamples) {
				t.Errorf("round %d packet %d: marker %v seq %d ts %d", round, i, p.Marker, p.SequenceNumber-seq0, p.Timestamp-ts0)
			}
		}
		select {
		case <-pb.Done():
		case <-time.After(waitTimeout):
			t.Fatal("playback not done")
		}
		span := arrivals[frames-1].Sub(arrivals[0])
		if want := (frames - 1) * schedInterval; span < want-10*time.Millisecond || span > want+10*time.Millisecond {
			t.Errorf("round %d: %d packets over %v, want %v", round, frames, span, want)
		}
		for i := 1; i < frames; i++ {
			if gap := arrivals[i].Sub(arrivals[i-1]); gap > 3*schedInterval {
				t.Errorf("round %d: %v between packets %d and %d", round, gap, i-1, i)
			}
		}
		eventually(t, "scheduler idle", func() bool { return s.Stats().Active == 0 })
	}

	// Shutting down ends what plays, and what comes after.
	moh := s.Play(leg, countingPrompt(800), true)
	ph.recv()
	cancel()
	<-stopped
	if !isDone(moh) {
		t.Error("playback not done after Run returned")
	}
	if pb := s.Play(leg, countingPrompt(800), true); !isDone(pb) {
		t.Error("Play after Run returned is not done at once")
	}
}

// TestSchedulerFillsSlotsFirst: with few calls, playbacks share as few
// slots as their fill allows, so the scheduler wakes up less often.
func TestSchedulerFillsSlotsFirst(t *testing.T) {
	f := newSchedFixture(t)
	f.s.slotFill = 3
	for range 7 {
		leg := newTestLeg(t, "127.0.0.1", nil)
		leg.SetRemote(Remote{Addr: f.phone.addr, Codec: pcma})
		f.s.Play(leg, countingPrompt(8000), true)
	}
	f.at(0)
	var got []int
	for k := range schedSlots {
		got = append(got, len(f.s.active[k]))
	}
	if want := []int{3, 3, 1, 0, 0, 0, 0, 0, 0, 0}; !slices.Equal(got, want) {
		t.Errorf("playbacks per slot %v, want %v", got, want)
	}
}

func TestSchedulerLateness(t *testing.T) {
	s := NewScheduler()
	for _, d := range []time.Duration{-time.Millisecond, 0, 100 * time.Microsecond, 101 * time.Microsecond,
		2 * time.Millisecond, 3 * time.Millisecond, time.Second} {
		s.observeLateness(d)
	}
	st := s.Stats()
	// Bounds: 100µs 250µs 500µs 1ms 2ms 5ms 10ms, then above.
	if want := [8]uint64{3, 1, 0, 0, 1, 1, 0, 1}; st.Late != want {
		t.Errorf("Late = %v, want %v", st.Late, want)
	}
	if want := 100*time.Microsecond + 101*time.Microsecond + 5*time.Millisecond + time.Second; st.LateSum != want {
		t.Errorf("LateSum = %v, want %v", st.LateSum, want)
	}
}
