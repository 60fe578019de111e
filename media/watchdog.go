package media

import (
	"context"
	"sync"
	"time"
)

// Watchdog ends calls whose media stopped: a phone that lost power or
// network never sends BYE, and without this the call would stay up (and be
// billed) forever. One goroutine scans every watched call, instead of one
// timer per call.
//
// Activity is judged by the legs' packet counters, sampled on each scan with
// the injected clock, so a timeout is detected within one interval of its
// deadline.
type Watchdog struct {
	interval time.Duration
	now      func() time.Time

	mu     sync.Mutex // guards groups
	groups map[*watchGroup]struct{}
}

// watchGroup is one call's legs. Its fields are only used under Watchdog.mu.
type watchGroup struct {
	timeout   time.Duration
	onTimeout func()
	legs      []watchedLeg
	suspended bool // some peer is on hold
}

type watchedLeg struct {
	leg      *Leg
	packets  uint64    // PacketsIn at the last change seen
	activeAt time.Time // when that change was seen
}

// NewWatchdog returns a watchdog scanning every interval (> 0), reading the
// time from now.
func NewWatchdog(interval time.Duration, now func() time.Time) *Watchdog {
	return &Watchdog{interval: interval, now: now, groups: make(map[*watchGroup]struct{})}
}

// Run scans the watched calls every interval until ctx is done.
func (w *Watchdog) Run(ctx context.Context) {
	t := time.NewTicker(w.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.scan()
		}
	}
}

// Watch calls onTimeout once, on a new goroutine, when a leg whose peer is
// expected to send (Remote().Direction.Sends()) has received nothing for
// timeout. Idle time counts from Watch, or from the last packet seen after
// it. While any peer of the group is on hold (its Direction is not
// SendRecv, or its Addr is the RFC 2543 hold address 0.0.0.0) the whole
// group is suspended, since one-way or no audio is then expected on every
// leg, and the idle clock restarts when all peers are back to sendrecv. stop removes the group; it is idempotent, and after
// it returns onTimeout is not called unless it already was.
func (w *Watchdog) Watch(timeout time.Duration, onTimeout func(), legs ...*Leg) (stop func()) {
	now := w.now()
	g := &watchGroup{timeout: timeout, onTimeout: onTimeout, legs: make([]watchedLeg, len(legs))}
	for i, l := range legs {
		g.legs[i] = watchedLeg{leg: l, packets: l.packetsIn.Load(), activeAt: now}
	}
	w.mu.Lock()
	w.groups[g] = struct{}{}
	w.mu.Unlock()
	return func() {
		w.mu.Lock()
		delete(w.groups, g)
		w.mu.Unlock()
	}
}

// scan checks every group once.
func (w *Watchdog) scan() {
	now := w.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	for g := range w.groups {
		if g.expired(now) {
			delete(w.groups, g)
			go g.onTimeout()
		}
	}
}

// expired updates g's activity at now and reports whether it timed out.
func (g *watchGroup) expired(now time.Time) bool {
	onHold := false
	for _, wl := range g.legs {
		if r := wl.leg.Remote(); r.Direction != SendRecv || r.Addr.Addr().IsUnspecified() {
			onHold = true
			break
		}
	}
	if onHold {
		g.suspended = true
		return false
	}
	resumed := g.suspended
	g.suspended = false
	timedOut := false
	for i := range g.legs {
		wl := &g.legs[i]
		if p := wl.leg.packetsIn.Load(); p != wl.packets || resumed {
			wl.packets, wl.activeAt = p, now
		}
		if wl.leg.Remote().Direction.Sends() && now.Sub(wl.activeAt) >= g.timeout {
			timedOut = true
		}
	}
	return timedOut
}
