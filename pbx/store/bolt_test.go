package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

func openBolt(t *testing.T, path string) *Bolt {
	t.Helper()
	s, err := Open(path, time.Second)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestBoltReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "centralino.db")
	s := openBolt(t, path)
	r := reg("100", "sip:100@10.0.0.5", t0.Add(time.Hour))
	c := cdr("call-1", t0)
	mustSave(t, s, r)
	if err := s.AddCDR(c); err != nil {
		t.Fatalf("AddCDR: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = openBolt(t, path)
	diff(t, "registrations after reopen", mustRegistrations(t, s, t0), []Registration{r})
	got, err := s.CDRs(0)
	if err != nil {
		t.Fatalf("CDRs: %v", err)
	}
	diff(t, "CDRs after reopen", got, []CDR{c})
}

func TestBoltReopenKeepsMessages(t *testing.T) {
	path := filepath.Join(t.TempDir(), "centralino.db")
	s := openBolt(t, path)
	m := msg(NewID(t0, "m"), "rossi", t0)
	if err := s.SaveMessage(m); err != nil {
		t.Fatalf("SaveMessage: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s = openBolt(t, path)
	got, err := s.Messages("", 0)
	if err != nil {
		t.Fatalf("Messages: %v", err)
	}
	diff(t, "messages after reopen", got, []Message{m})
}

func TestBoltExpiredDeletedFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "centralino.db")
	s := openBolt(t, path)
	mustSave(t, s, reg("100", "sip:100@10.0.0.5", t0.Add(time.Minute)))
	mustSave(t, s, reg("101", "sip:101@10.0.0.6", t0.Add(time.Hour)))
	if got := mustRegistrations(t, s, t0.Add(2*time.Minute)); len(got) != 1 {
		t.Fatalf("got %d live registrations, want 1", len(got))
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	// Count the keys with bbolt itself, not through the code under test.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, ReadOnly: true})
	if err != nil {
		t.Fatalf("bolt.Open: %v", err)
	}
	var keys []string
	err = db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketRegistrations)).ForEach(func(k, _ []byte) error {
			keys = append(keys, string(k))
			return nil
		})
	})
	if cerr := db.Close(); cerr != nil {
		t.Fatalf("bolt Close: %v", cerr)
	}
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	if want := []string{"101\x00sip:101@10.0.0.6"}; !slices.Equal(keys, want) {
		t.Errorf("keys in file = %q, want %q", keys, want)
	}
}

func TestBoltSecondOpenIsLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "centralino.db")
	openBolt(t, path)

	const timeout = 100 * time.Millisecond
	start := time.Now()
	s, err := Open(path, timeout)
	elapsed := time.Since(start)
	if err == nil {
		_ = s.Close()
		t.Fatal("second Open succeeded, want ErrLocked")
	}
	if !errors.Is(err, ErrLocked) {
		t.Errorf("error %v is not ErrLocked", err)
	}
	if !errors.Is(err, bolterrors.ErrTimeout) {
		t.Errorf("error %v does not wrap bbolt's ErrTimeout", err)
	}
	want := fmt.Sprintf("%s is in use by another Centralino process (lock not acquired within %s)", path, timeout)
	if err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	// bbolt retries every 50ms until the timeout; generous bound for slow CI.
	if elapsed > 5*time.Second {
		t.Errorf("second Open took %s, want about %s", elapsed, timeout)
	}
}

func TestBoltFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "centralino.db")
	openBolt(t, path)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode&0o077 != 0 {
		t.Errorf("file mode %v, want no group/other access", mode)
	}
}

func TestBoltOpenNotABoltFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "garbage.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("not a bolt file ", 1024)), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, time.Second)
	if err == nil {
		_ = s.Close()
		t.Fatal("Open of a garbage file succeeded")
	}
	if !strings.Contains(err.Error(), path) || errors.Is(err, ErrLocked) {
		t.Errorf("error %q should name %s and not be ErrLocked", err, path)
	}
}

// BenchmarkSaveRegistrationParallel measures REGISTER-path throughput with
// real fsyncs: concurrent saves share commits through db.Batch.
func BenchmarkSaveRegistrationParallel(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "bench.db"), time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var seq atomic.Int64
	now := time.Now()
	b.SetParallelism(64) // many phones registering at once, as after a power cut
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			aor := fmt.Sprintf("%05d", seq.Add(1)%5000)
			r := reg(aor, "sip:"+aor+"@10.0.0.5:5060", now.Add(time.Hour))
			if err := s.SaveRegistration(r); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "saves/s")
}

// BenchmarkCallerHistory measures a screen pop's history lookup for a
// caller with few records among many: the worst case, a full scan.
func BenchmarkCallerHistory(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			s, err := Open(filepath.Join(b.TempDir(), "bench.db"), time.Second)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			err = s.db.Update(func(tx *bolt.Tx) error {
				cb, mb := tx.Bucket([]byte(bucketCDRs)), tx.Bucket([]byte(bucketMessages))
				for i := range n {
					c := cdr(fmt.Sprintf("call-%06d", i), t0.Add(time.Duration(i)*time.Minute))
					c.Caller = fmt.Sprintf("+39021%07d", i)
					c.Steps = []CDRStep{{Action: "ring", Target: "100", Result: "no-answer"}, {Action: "operator", Result: "answered"}}
					v, _ := json.Marshal(c)
					if err := cb.Put(cdrKey(c), v); err != nil {
						return err
					}
					if i%5 == 0 {
						m := msg(NewID(c.Start, c.ID), "acme", c.Start)
						m.CallerNumber = c.Caller
						v, _ := json.Marshal(m)
						if err := mb.Put([]byte(m.ID), v); err != nil {
							return err
						}
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				cdrs, _, err := s.CallerHistory("acme", "+390210000005", 10)
				if err != nil || len(cdrs) != 1 {
					b.Fatalf("%d cdrs, %v", len(cdrs), err)
				}
			}
		})
	}
}
