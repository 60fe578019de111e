package media

import (
	"context"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestThreadClock: as root the clock's thread runs at realtime priority
// (SCHED_FIFO) and sleeps until the due instant, never less; otherwise the
// error says what the priority needs.
func TestThreadClock(t *testing.T) {
	type result struct {
		err    error
		policy uint32
		early  []time.Duration
	}
	ch := make(chan result, 1)
	go func() { // the goroutine, and its thread, end with the clock
		var r result
		c, err := newThreadClock()
		if r.err = err; err != nil {
			ch <- r
			return
		}
		defer c.close()
		attr, err := unix.SchedGetAttr(0, 0)
		if err != nil {
			r.err = err
			ch <- r
			return
		}
		r.policy = attr.Policy
		for _, d := range []time.Duration{2 * time.Millisecond, 500 * time.Microsecond, 0, -time.Millisecond} {
			now := time.Now()
			if !c.sleepUntil(context.Background(), now.Add(d), now) {
				r.early = append(r.early, -1)
			}
			if woke := time.Since(now); woke < d {
				r.early = append(r.early, woke-d)
			}
		}
		ch <- r
	}()
	r := <-ch
	if os.Geteuid() != 0 || runtime.NumCPU() < 2 {
		if r.err != nil && !strings.Contains(r.err.Error(), "RLIMIT_RTPRIO") {
			t.Errorf("error %q does not say what realtime priority needs", r.err)
		}
		return
	}
	if r.err != nil {
		t.Fatalf("as root: %v", r.err)
	}
	if r.policy != unix.SCHED_FIFO {
		t.Errorf("thread policy %d, want SCHED_FIFO", r.policy)
	}
	if len(r.early) > 0 {
		t.Errorf("woke up before the due instant, or reported a cancelled context: %v", r.early)
	}
}

// TestSchedulerRealtimeStat: Stats reports what Run got.
func TestSchedulerRealtimeStat(t *testing.T) {
	s := NewScheduler()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { s.Run(ctx); close(stopped) }()
	defer func() { cancel(); <-stopped }()
	want := os.Geteuid() == 0 && runtime.NumCPU() >= 2
	deadline := time.Now().Add(waitTimeout)
	for s.Stats().Realtime != want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if got := s.Stats().Realtime; got != want {
		t.Errorf("Realtime = %v, want %v (root, %d CPUs)", got, want, runtime.NumCPU())
	}
}
