package media

import (
	"context"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

// watchFixture is two legs with phones that can feed them, a watchdog on a
// fake clock, and a count of timeouts.
type watchFixture struct {
	t        *testing.T
	clock    *fakeClock
	w        *Watchdog
	legs     []*Leg
	phone    *phone
	timeouts atomic.Int32
}

func newWatchFixture(t *testing.T) *watchFixture {
	f := &watchFixture{t: t, clock: newFakeClock(), phone: newPhone(t, "127.0.0.1")}
	f.w = NewWatchdog(time.Second, f.clock.Now)
	for range 2 {
		l := newTestLeg(t, "127.0.0.1", nil)
		l.SetRemote(Remote{Addr: f.phone.addr, Codec: pcmu})
		f.legs = append(f.legs, l)
	}
	return f
}

func (f *watchFixture) watch(timeout time.Duration) (stop func()) {
	return f.w.Watch(timeout, func() { f.timeouts.Add(1) }, f.legs...)
}

// step advances the clock and runs one scan.
func (f *watchFixture) step(d time.Duration) {
	f.clock.Advance(d)
	f.w.scan()
}

// feed sends one packet to every leg and waits until each counted it.
func (f *watchFixture) feed() {
	f.t.Helper()
	for _, l := range f.legs {
		want := l.Stats().PacketsIn + 1
		f.phone.send(l.LocalAddr(), pkt(0, uint16(want), uint32(want)*160, 0xa, frame(1)))
		eventually(f.t, "packet counted", func() bool { return l.Stats().PacketsIn == want })
	}
}

// watching reports how many groups the watchdog still holds; a group is
// removed exactly when its timeout is triggered (or stopped).
func (f *watchFixture) watching() int {
	f.w.mu.Lock()
	defer f.w.mu.Unlock()
	return len(f.w.groups)
}

func (f *watchFixture) wantFired(fired bool) {
	f.t.Helper()
	if got := f.watching() == 0; got != fired {
		f.t.Fatalf("at %s: fired = %v, want %v", f.clock.Now().Format(time.TimeOnly), got, fired)
	}
	if fired {
		eventually(f.t, "onTimeout to run", func() bool { return f.timeouts.Load() >= 1 })
	}
}

func TestWatchdogTimeout(t *testing.T) {
	f := newWatchFixture(t)
	f.watch(10 * time.Second)
	f.step(9 * time.Second)
	f.wantFired(false)
	f.step(time.Second)
	f.wantFired(true)
	f.step(time.Minute)
	f.step(time.Minute)
	if got := f.timeouts.Load(); got != 1 {
		t.Errorf("onTimeout called %d times, want 1", got)
	}
}

func TestWatchdogPacketsKeepAlive(t *testing.T) {
	f := newWatchFixture(t)
	f.watch(10 * time.Second)
	f.step(9 * time.Second)
	f.feed()
	f.step(0) // the scan sees the packets at 9 s
	f.step(9 * time.Second)
	f.wantFired(false)

	// One leg keeps receiving, the other went silent: that is enough.
	f.phone.send(f.legs[0].LocalAddr(), pkt(0, 9, 9, 0xa, frame(1)))
	eventually(t, "packet counted", func() bool { return f.legs[0].Stats().PacketsIn == 2 })
	f.step(time.Second)
	f.wantFired(true)
}

func TestWatchdogHold(t *testing.T) {
	f := newWatchFixture(t)
	f.watch(10 * time.Second)
	f.step(5 * time.Second)

	// The peer of leg 0 puts the call on hold: no one is expected to send.
	held := f.legs[0].Remote()
	held.Direction = SendOnly
	f.legs[0].SetRemote(held)
	f.step(time.Hour)
	f.wantFired(false)

	// Back to sendrecv: the idle clock restarts now.
	held.Direction = SendRecv
	f.legs[0].SetRemote(held)
	f.step(0)
	f.step(9 * time.Second)
	f.wantFired(false)
	f.step(time.Second)
	f.wantFired(true)
}

func TestWatchdogNullAddressHold(t *testing.T) {
	f := newWatchFixture(t)
	f.watch(10 * time.Second)
	r := f.legs[0].Remote()
	held := r
	held.Addr = netip.MustParseAddrPort("0.0.0.0:9") // RFC 2543 hold, still "sendrecv"
	f.legs[0].SetRemote(held)
	f.step(time.Hour)
	f.wantFired(false)
	f.legs[0].SetRemote(r)
	f.step(time.Second)
	f.step(9 * time.Second)
	f.wantFired(false)
	f.step(time.Second)
	f.wantFired(true)
}

func TestWatchdogHoldAtStart(t *testing.T) {
	f := newWatchFixture(t)
	r := f.legs[1].Remote()
	r.Direction = Inactive
	f.legs[1].SetRemote(r)
	f.watch(10 * time.Second)
	f.step(time.Minute)
	f.wantFired(false)
	r.Direction = SendRecv
	f.legs[1].SetRemote(r)
	f.step(time.Second)
	f.step(9 * time.Second)
	f.wantFired(false)
	f.step(time.Second)
	f.wantFired(true)
}

func TestWatchdogStop(t *testing.T) {
	f := newWatchFixture(t)
	stop := f.watch(10 * time.Second)
	other := f.w.Watch(time.Hour, func() { t.Error("the other call timed out") }, f.legs...)
	defer other()
	stop()
	stop()
	f.step(time.Minute)
	if got := f.watching(); got != 1 {
		t.Errorf("watching %d groups, want 1", got)
	}
	if got := f.timeouts.Load(); got != 0 {
		t.Errorf("stopped watch fired %d times", got)
	}
}

// TestWatchdogRun checks the real loop: it scans on its ticker and ends
// with its context.
func TestWatchdogRun(t *testing.T) {
	clock := newFakeClock()
	w := NewWatchdog(time.Millisecond, clock.Now)
	l := newTestLeg(t, "127.0.0.1", nil)
	fired := make(chan struct{})
	w.Watch(10*time.Second, func() { close(fired) }, l)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		w.Run(ctx)
		close(done)
	}()
	clock.Advance(10 * time.Second)
	select {
	case <-fired:
	case <-time.After(waitTimeout):
		t.Fatal("onTimeout not called")
	}
	cancel()
	select {
	case <-done:
	case <-time.After(waitTimeout):
		t.Fatal("Run did not return after cancel")
	}
}
