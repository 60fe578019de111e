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

// TestLinuxClockModes: as root, under load the clock's thread runs at
// realtime priority (SCHED_FIFO) and sleeps until the due instant, never
// less; with few playbacks it is back to normal priority. Otherwise the
// error says what realtime priority needs.
func TestLinuxClockModes(t *testing.T) {
	type result struct {
		err              error
		idle, busy, back uint32 // thread policies
		early            []time.Duration
	}
	policy := func() uint32 {
		attr, err := unix.SchedGetAttr(0, 0)
		if err != nil {
			return 99
		}
		return attr.Policy
	}
	ch := make(chan result, 1)
	go func() {
		var r result
		sc, err := newSlotClock(context.Background())
		defer func() { sc.close(); ch <- r }()
		if r.err = err; err != nil {
			return
		}
		r.idle = policy()
		sc.setLoad(realtimeEnter)
		r.busy = policy()
		for _, d := range []time.Duration{2 * time.Millisecond, 5 * time.Millisecond, 500 * time.Microsecond, 0, -time.Millisecond} {
			now := time.Now()
			if !sc.sleepUntil(context.Background(), now.Add(d), now) {
				r.early = append(r.early, -1)
			}
			if woke := time.Since(now); woke < d {
				r.early = append(r.early, woke-d)
			}
		}
		sc.setLoad(realtimeLeave + 1) // between the thresholds: no change
		if policy() != unix.SCHED_FIFO {
			r.early = append(r.early, -2)
		}
		sc.setLoad(0)
		r.back = policy()
	}()
	r := <-ch
	if os.Geteuid() != 0 || runtime.NumCPU() < 2 {
		if r.err != nil && !strings.Contains(r.err.Error(), "RLIMIT_RTPRIO") && !strings.Contains(r.err.Error(), "one CPU") {
			t.Errorf("error %q does not say what realtime priority needs", r.err)
		}
		return
	}
	if r.err != nil {
		t.Fatalf("as root: %v", r.err)
	}
	if r.idle != 0 || r.busy != unix.SCHED_FIFO || r.back != 0 {
		t.Errorf("thread policy idle %d, busy %d, back %d; want 0 (normal), %d (FIFO), 0", r.idle, r.busy, r.back, unix.SCHED_FIFO)
	}
	if len(r.early) > 0 {
		t.Errorf("woke up before the due instant, reported a cancelled context (-1) or left realtime too soon (-2): %v", r.early)
	}
}

// TestSchedulerRealtimeStat: Stats reports what Run may use.
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
