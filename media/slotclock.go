package media

import (
	"context"
	"time"
)

// slotClock is what the Scheduler sleeps on between slots.
type slotClock interface {
	// sleepUntil returns at due (now being the time of the call), or
	// false as soon as ctx ends.
	sleepUntil(ctx context.Context, due, now time.Time) bool
	// setLoad says how many playbacks there are, before a sleep and with
	// 0 before the scheduler goes idle.
	setLoad(playing int)
	close()
}

// timerClock sleeps on a runtime timer. On Linux a timer fires up to a
// millisecond late: the runtime waits for timers in epoll_wait, whose
// timeout is in whole milliseconds (see timerfdClock).
type timerClock struct{ t *time.Timer }

func newTimerClock() *timerClock {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &timerClock{t}
}

func (c *timerClock) sleepUntil(ctx context.Context, due, now time.Time) bool {
	c.t.Reset(due.Sub(now)) // drops a pending expiry: Go 1.23 timer semantics
	select {
	case <-ctx.Done():
		return false
	case <-c.t.C:
		return true
	}
}

func (c *timerClock) setLoad(int) {}

func (c *timerClock) close() { c.t.Stop() }
