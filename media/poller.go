package media

import (
	"context"
	"sync"
	"time"
)

const (
	// pollInterval is how often a Poller reads its legs: one packet time.
	// What waits that long is the caller's audio on its way to a recording
	// or to the key detector, which a jitter buffer and human reaction
	// times dwarf.
	pollInterval = 20 * time.Millisecond
	// pollBurst bounds the packets taken from one leg in one round, so that
	// a flood on one socket cannot starve the others (the kernel's buffer
	// keeps the rest for the next round, or drops them).
	pollBurst = 16
)

// Poller reads the RTP of many legs on one goroutine, once per packet
// time, instead of each leg's reader goroutine waking for each packet.
// It is for legs whose packets can wait up to 20 ms: a caller listening to
// prompts, choosing in a menu or leaving a voicemail (see IVROptions). With
// a hundred such calls the per-packet wake-ups (the runtime parking and
// unparking threads around them) cost more CPU than the audio work itself.
// Bridged legs stay on their own goroutines, where no delay is added.
//
// A polled leg's handler runs on the Poller's goroutine, one leg after the
// other, under the Poller's lock: it must not block (Handler says so
// already) nor close an IVR or a leg. A recording's writes (a second of
// audio to the page cache, once a second) happen there too: a disk that
// stalls delays every polled caller's reading, and their packets wait in
// the sockets' buffers meanwhile.
type Poller struct {
	interval time.Duration
	wake     chan struct{} // a leg was added; capacity 1

	mu      sync.Mutex // held for a whole round, so remove waits for it
	legs    []*Leg
	stopped bool
}

// NewPoller returns a Poller; Run reads its legs.
func NewPoller() *Poller {
	return &Poller{interval: pollInterval, wake: make(chan struct{}, 1)}
}

// Run reads the legs every packet time until ctx ends. Call it once, on a
// goroutine of its own. Legs still polled when it returns go back to
// their own reader goroutines.
func (p *Poller) Run(ctx context.Context) {
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		p.mu.Lock()
		idle := len(p.legs) == 0
		p.mu.Unlock()
		if idle {
			// Nothing to read: no ticks until a leg comes.
			select {
			case <-ctx.Done():
			case <-p.wake:
				t.Reset(p.interval)
			}
		}
		select {
		case <-ctx.Done():
			p.mu.Lock()
			legs := p.legs
			p.legs, p.stopped = nil, true
			p.mu.Unlock()
			for _, l := range legs {
				l.pollerGone(p)
			}
			return
		case <-t.C:
		}
		p.mu.Lock()
		for _, l := range p.legs {
			l.pollRound()
		}
		p.mu.Unlock()
	}
}

// Len returns how many legs are polled.
func (p *Poller) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.legs)
}

// add starts polling l; false once Run has returned.
func (p *Poller) add(l *Leg) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return false
	}
	l.pollIndex = len(p.legs)
	p.legs = append(p.legs, l)
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return true
}

// remove stops polling l. When it returns the Poller is not reading l and
// will not again.
func (p *Poller) remove(l *Leg) {
	p.mu.Lock()
	defer p.mu.Unlock()
	i := l.pollIndex
	if i < 0 || i >= len(p.legs) || p.legs[i] != l {
		return // Run returned and let it go
	}
	last := len(p.legs) - 1
	p.legs[i] = p.legs[last]
	p.legs[i].pollIndex = i
	p.legs[last] = nil
	p.legs = p.legs[:last]
	l.pollIndex = -1
}
