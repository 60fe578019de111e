package media

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Between realtimeLeave and realtimeEnter playbacks the clock keeps the
// mode it is in, so that a load near one threshold does not flip it at
// every call.
const (
	realtimeEnter = 2 * schedSlotFill // playbacks
	realtimeLeave = schedSlotFill
	// threadNap is the realtime clock's longest single sleep (see
	// linuxClock.sleepRealtime).
	threadNap = 2 * time.Millisecond
)

// linuxClock wakes the scheduler on time under load. With few playbacks it
// sleeps on the runtime's timer with a timerfd doorbell (see doorbellClock),
// which is cheap and, with CPU to spare, on time. From realtimeEnter
// playbacks on, when it may, it sleeps on a thread of its own at realtime
// priority instead: measured with 1,600 voicemail calls on two cores (half
// idle), a thread of normal priority, even a C program's (cyclictest), woke
// up more than 2 ms late 1.2–1.4% of the time whatever it slept on; at
// realtime priority never later than 1 ms. The realtime thread costs a
// little CPU of its own (the runtime's monitor preempts a goroutine that
// never yields every 10 ms), nothing next to hundreds of calls but a third
// more with a hundred, hence the two modes.
type linuxClock struct {
	door   slotClock
	timer  int  // blocking timerfd for the realtime mode; -1 without it
	onRT   bool // the goroutine is locked to its thread at realtime priority
	stuck  bool // the thread could not be set back to normal: never unlock it
	permit error
}

// newSlotClock returns the scheduler's clock, and why it will never use
// realtime priority (nil when it will, under load).
func newSlotClock(context.Context) (slotClock, error) {
	c := &linuxClock{door: newDoorbellClock(), timer: -1}
	if runtime.NumCPU() < 2 {
		// Overloaded, the player runs without sleeping: at realtime
		// priority on the only CPU, nothing else would.
		c.permit = errors.New("one CPU: the player keeps normal priority")
		return c, c.permit
	}
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_CLOEXEC) // blocking reads
	if err != nil {
		c.permit = fmt.Errorf("timerfd: %w", err)
		return c, c.permit
	}
	c.timer = fd
	// Find out now whether realtime priority is allowed, to say so at
	// start-up rather than under load.
	if err := c.enterRealtime(); err != nil {
		c.permit = err
		return c, err
	}
	c.leaveRealtime()
	return c, nil
}

// enterRealtime locks the goroutine to its thread and raises the thread to
// SCHED_FIFO 1, above every normal thread.
func (c *linuxClock) enterRealtime() error {
	runtime.LockOSThread()
	attr := unix.SchedAttr{Policy: unix.SCHED_FIFO, Priority: 1, Flags: unix.SCHED_FLAG_RESET_ON_FORK}
	if err := unix.SchedSetAttr(0, &attr, 0); err != nil {
		runtime.UnlockOSThread() // nothing changed: the thread can go back
		return fmt.Errorf("realtime priority refused (%w): it needs root, CAP_SYS_NICE or a realtime priority limit (RLIMIT_RTPRIO) of at least 1", err)
	}
	c.onRT = true
	return nil
}

// leaveRealtime sets the thread back to normal priority and unlocks it. A
// thread that stays realtime must never run anything else: should the
// reset fail, the goroutine keeps it until it ends, and the thread with it.
func (c *linuxClock) leaveRealtime() {
	if !c.onRT || c.stuck {
		return
	}
	if err := unix.SchedSetAttr(0, &unix.SchedAttr{Policy: 0 /* SCHED_OTHER */}, 0); err != nil {
		c.stuck = true
		return
	}
	c.onRT = false
	runtime.UnlockOSThread()
}

func (c *linuxClock) setLoad(playing int) {
	switch {
	case c.permit != nil:
	case !c.onRT && playing >= realtimeEnter:
		if err := c.enterRealtime(); err != nil {
			c.permit = err // the right was taken away: stay with the doorbell
		}
	case c.onRT && playing <= realtimeLeave:
		c.leaveRealtime()
	}
}

func (c *linuxClock) sleepUntil(ctx context.Context, due, now time.Time) bool {
	if c.onRT {
		return c.sleepRealtime(ctx, due, now)
	}
	return c.door.sleepUntil(ctx, due, now)
}

// sleepRealtime sleeps in a blocking read of the timerfd, so that the kernel
// wakes this thread itself at the due instant, whatever the rest of the
// process is doing. The read is a raw system call, which keeps the
// goroutine's P (the runtime's processor) instead of letting the runtime
// hand it to another thread: back from an ordinary system call the thread
// must find an idle P, and under load it often waited milliseconds for one;
// and the runtime's monitor, seeing a goroutine that never yields, took the
// P at every sleep and then polled every 20 µs. The server has spare Ps for
// the one held here (see cmd/centralino). A stop-the-world of the garbage
// collector waits for the read to end: naps of at most threadNap bound that
// wait; with this many playbacks the slots are 2 ms apart anyway.
func (c *linuxClock) sleepRealtime(ctx context.Context, due, now time.Time) bool {
	for d := due.Sub(now); d > 0; d = time.Until(due) {
		spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(min(d, threadNap)))}
		if err := unix.TimerfdSettime(c.timer, 0, &spec, nil); err != nil {
			return c.door.sleepUntil(ctx, due, time.Now())
		}
		var expirations [8]byte
		for {
			_, _, errno := unix.RawSyscall(unix.SYS_READ, uintptr(c.timer), uintptr(unsafe.Pointer(&expirations[0])), uintptr(len(expirations)))
			if errno == 0 {
				break
			}
			if errno != unix.EINTR {
				return c.door.sleepUntil(ctx, due, time.Now())
			}
		}
	}
	return ctx.Err() == nil
}

func (c *linuxClock) close() {
	c.leaveRealtime()
	c.door.close()
	if c.timer >= 0 {
		unix.Close(c.timer)
	}
}

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

func (c *doorbellClock) setLoad(int) {}

func (c *doorbellClock) close() {
	c.timerClock.close()
	c.f.Close()
}
