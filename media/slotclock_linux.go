package media

import (
	"context"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// doorbellClock is a timerClock with a Linux timerfd, armed for the same
// instant, as a doorbell for the runtime. A runtime timer is run by a P when
// it schedules; a busy P does so all the time, but an idle one waits for the
// next timer in epoll_wait, whose timeout is in whole milliseconds: the
// timer then fires up to a millisecond late, half of a 2 ms slot. The
// timerfd is in that same epoll set (the runtime's poller registers it), and
// the kernel's high-resolution timer makes it ready within microseconds, so
// epoll_wait returns on time and the P runs the timer. Nobody reads the fd:
// arming it again clears it.
//
// (Sleeping on a read of the timerfd alone is no better: a goroutine made
// ready by the poller waits until a P polls, which busy Ps do rarely, and
// under load the reads came up to 10 ms late.)
type doorbellClock struct {
	*timerClock
	f   *os.File
	raw syscall.RawConn
}

func newSlotClock(context.Context) slotClock {
	tc := newTimerClock()
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return tc // a sandbox without timerfd: less precise, still correct
	}
	f := os.NewFile(uintptr(fd), "scheduler-timerfd") // non-blocking: joins the poller
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return tc
	}
	return &doorbellClock{timerClock: tc, f: f, raw: raw}
}

func (c *doorbellClock) sleepUntil(ctx context.Context, due, now time.Time) bool {
	if d := due.Sub(now); d > 0 {
		spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
		c.raw.Control(func(fd uintptr) { unix.TimerfdSettime(int(fd), 0, &spec, nil) })
	}
	return c.timerClock.sleepUntil(ctx, due, now)
}

func (c *doorbellClock) close() {
	c.timerClock.close()
	c.f.Close()
}
