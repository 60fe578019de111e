package media

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// newSlotClock gives the calling goroutine, the scheduler's, the best clock
// it can have: a realtime thread of its own (threadClock), or else the
// runtime's timer with a doorbell (doorbellClock). The error says why the
// first could not be had.
//
// Measured with 1,600 voicemail calls on two cores (half idle): a thread of
// normal priority, even a C program's (cyclictest), woke up more than 2 ms
// late 1.2–1.4% of the time, whatever it slept on; at realtime priority,
// never later than 1 ms.
func newSlotClock(context.Context) (slotClock, error) {
	if runtime.NumCPU() < 2 {
		// Overloaded, the player runs without sleeping: at realtime
		// priority on the only CPU, nothing else would.
		return newDoorbellClock(), errors.New("one CPU: the player keeps normal priority")
	}
	c, err := newThreadClock()
	if err != nil {
		return newDoorbellClock(), err
	}
	return c, nil
}

// threadClock sleeps in a blocking read of a Linux timerfd on a thread of
// its own at realtime priority (SCHED_FIFO 1, above every normal thread),
// so that the kernel wakes the scheduler at the due instant whatever the
// rest of the process and the machine are doing.
//
// The goroutine stays locked to the thread, which ends with it: a thread
// at realtime priority must not go back to the runtime to run anything
// else. Blocked in read(2) the thread holds no P (the runtime's processor);
// back from it, it needs an idle one, which the server keeps spare (see
// cmd/centralino's GOMAXPROCS). A sleep lasts at most one interval (the
// scheduler waits for work on a channel, not here), so the read need not
// be interruptible by ctx.
type threadClock struct {
	fd int
}

func newThreadClock() (*threadClock, error) {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_CLOEXEC) // blocking reads
	if err != nil {
		return nil, fmt.Errorf("timerfd: %w", err)
	}
	runtime.LockOSThread()
	attr := unix.SchedAttr{Policy: unix.SCHED_FIFO, Priority: 1, Flags: unix.SCHED_FLAG_RESET_ON_FORK}
	if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
		runtime.UnlockOSThread() // nothing changed: the thread can go back
		unix.Close(fd)
		return nil, fmt.Errorf("realtime priority refused (%w): it needs root, CAP_SYS_NICE or a realtime priority limit (RLIMIT_RTPRIO) of at least 1", err)
	}
	return &threadClock{fd: fd}, nil
}

func (c *threadClock) sleepUntil(ctx context.Context, due, now time.Time) bool {
	if d := due.Sub(now); d > 0 {
		spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
		if err := unix.TimerfdSettime(c.fd, 0, &spec, nil); err != nil {
			return sleepOnRuntime(ctx, d)
		}
		var expirations [8]byte
		for {
			_, err := unix.Read(c.fd, expirations[:])
			if err == nil {
				break
			}
			if !errors.Is(err, unix.EINTR) {
				return sleepOnRuntime(ctx, d)
			}
		}
	}
	return ctx.Err() == nil
}

// sleepOnRuntime is the fallback should the timerfd ever fail.
func sleepOnRuntime(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (c *threadClock) close() { unix.Close(c.fd) }

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
// under load the reads came up to 10 ms late. Nor is a blocking read at
// normal priority: the kernel wakes the thread late as often, and back
// from the system call it waits for a P besides.)
type doorbellClock struct {
	*timerClock
	f   *os.File
	raw syscall.RawConn
}

func newDoorbellClock() slotClock {
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
