package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"
)

// t0 is in UTC so values survive the JSON round trip unchanged and
// reflect.DeepEqual compares whole records.
var t0 = time.Date(2025, 3, 14, 9, 30, 0, 0, time.UTC)

// backends lists every Store implementation; each behaviour test runs on all.
var backends = []struct {
	name string
	open func(t *testing.T) Store
}{
	{"bolt", func(t *testing.T) Store {
		t.Helper()
		s, err := Open(filepath.Join(t.TempDir(), "centralino.db"), time.Second)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}},
	{"memory", func(t *testing.T) Store {
		t.Helper()
		s := NewMemory()
		t.Cleanup(func() { _ = s.Close() })
		return s
	}},
}

func forEachBackend(t *testing.T, test func(t *testing.T, s Store)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { test(t, b.open(t)) })
	}
}

func reg(aor, contact string, expires time.Time) Registration {
	return Registration{
		AOR:       aor,
		Contact:   contact,
		Source:    "10.0.0.5:5062",
		Transport: "UDP",
		CallID:    "call-" + aor,
		CSeq:      7,
		UserAgent: "Yealink SIP-T46U 108.86.0.20",
		Expires:   expires,
		Updated:   t0,
	}
}

func cdr(id string, start time.Time) CDR {
	return CDR{
		ID:          id,
		Start:       start,
		Answer:      start.Add(3 * time.Second),
		End:         start.Add(time.Minute),
		Direction:   "inbound",
		Caller:      "+390212345678",
		Called:      "+390687654321",
		Tenant:      "acme",
		Trunk:       "messagenet",
		AnsweredBy:  "101",
		Disposition: "answered",
		Code:        200,
		HangupBy:    "caller",
		Reason:      "normal clearing",
	}
}

func mustRegistrations(t *testing.T, s Store, now time.Time) []Registration {
	t.Helper()
	got, err := s.Registrations(now)
	if err != nil {
		t.Fatalf("Registrations(%s): %v", now, err)
	}
	return got
}

func mustSave(t *testing.T, s Store, r Registration) {
	t.Helper()
	if err := s.SaveRegistration(r); err != nil {
		t.Fatalf("SaveRegistration(%s, %s): %v", r.AOR, r.Contact, err)
	}
}

func diff[T any](t *testing.T, what string, got, want []T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func TestRegistrationRoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store) {
		r := reg("100", "<sip:100@10.0.0.5:5062;transport=udp>", t0.Add(time.Hour))
		mustSave(t, s, r)
		diff(t, "registrations", mustRegistrations(t, s, t0), []Registration{r})
	})
}

func TestRegistrationUpsert(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store) {
		a := reg("101", "sip:101@10.0.0.7:5060", t0.Add(time.Hour))
		b := reg("100", "sip:100@10.0.0.5:5062", t0.Add(time.Hour))
		c := reg("100", "sip:100@192.168.1.9:5060", t0.Add(time.Hour))
		for _, r := range []Registration{a, b, c} {
			mustSave(t, s, r)
		}
		// Same (AOR, Contact): replaced, not added.
		b2 := b
		b2.CSeq, b2.Expires, b2.Source = 8, t0.Add(2*time.Hour), "10.0.0.5:40000"
		mustSave(t, s, b2)
		diff(t, "registrations", mustRegistrations(t, s, t0), []Registration{b2, c, a})
	})
}

func TestDeleteRegistration(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store) {
		a := reg("100", "sip:100@10.0.0.5", t0.Add(time.Hour))
		b := reg("100", "sip:100@10.0.0.6", t0.Add(time.Hour))
		mustSave(t, s, a)
		mustSave(t, s, b)
		if err := s.DeleteRegistration("100", "sip:100@10.0.0.5"); err != nil {
			t.Fatalf("DeleteRegistration: %v", err)
		}
		if err := s.DeleteRegistration("999", "sip:nobody@nowhere"); err != nil {
			t.Errorf("DeleteRegistration of an absent binding: %v", err)
		}
		diff(t, "registrations", mustRegistrations(t, s, t0), []Registration{b})
	})
}

func TestRegistrationsDropExpired(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store) {
		short := reg("100", "sip:100@10.0.0.5", t0.Add(10*time.Second))
		edge := reg("101", "sip:101@10.0.0.6", t0.Add(20*time.Second)) // Expires == now: expired
		long := reg("102", "sip:102@10.0.0.7", t0.Add(time.Hour))
		for _, r := range []Registration{short, edge, long} {
			mustSave(t, s, r)
		}
		diff(t, "at t0+20s", mustRegistrations(t, s, t0.Add(20*time.Second)), []Registration{long})
		// Asking again with an earlier clock shows they were deleted, not just hidden.
		diff(t, "at t0 after expiry", mustRegistrations(t, s, t0), []Registration{long})
	})
}

func TestCDRsNewestFirst(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store) {
		// Added out of order; two share a start time.
		in := []CDR{
			cdr("b", t0.Add(time.Minute)),
			cdr("a", t0),
			cdr("d", t0.Add(time.Hour)),
			cdr("c", t0.Add(time.Minute)),
			cdr("e", t0.Add(time.Nanosecond)),
		}
		for _, c := range in {
			if err := s.AddCDR(c); err != nil {
				t.Fatalf("AddCDR(%s): %v", c.ID, err)
			}
		}
		tests := []struct {
			limit int
			want  []string
		}{
			{0, []string{"d", "c", "b", "e", "a"}},
			{-1, []string{"d", "c", "b", "e", "a"}},
			{2, []string{"d", "c"}},
			{5, []string{"d", "c", "b", "e", "a"}},
			{50, []string{"d", "c", "b", "e", "a"}},
		}
		for _, tt := range tests {
			got, err := s.CDRs(tt.limit)
			if err != nil {
				t.Fatalf("CDRs(%d): %v", tt.limit, err)
			}
			var ids []string
			for _, c := range got {
				ids = append(ids, c.ID)
			}
			diff(t, fmt.Sprintf("CDRs(%d) ids", tt.limit), ids, tt.want)
		}
		got, err := s.CDRs(1)
		if err != nil {
			t.Fatalf("CDRs(1): %v", err)
		}
		diff(t, "CDRs(1)", got, []CDR{in[2]})
	})
}

func TestCDRsEmpty(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store) {
		got, err := s.CDRs(10)
		if err != nil || len(got) != 0 {
			t.Errorf("CDRs(10) on an empty store = %v, %v; want none, nil", got, err)
		}
	})
}

func TestValidation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store) {
		for _, r := range []Registration{
			reg("", "sip:x@10.0.0.1", t0.Add(time.Hour)),
			reg("100", "", t0.Add(time.Hour)),
		} {
			if err := s.SaveRegistration(r); err == nil {
				t.Errorf("SaveRegistration(%q, %q) succeeded, want an error", r.AOR, r.Contact)
			}
		}
		for _, c := range []CDR{
			cdr("", t0),
			cdr("zero-start", time.Time{}),
			cdr("before-1970", time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)),
			cdr("after-2262", time.Date(2263, 1, 1, 0, 0, 0, 0, time.UTC)),
		} {
			if err := s.AddCDR(c); err == nil {
				t.Errorf("AddCDR(id %q, start %s) succeeded, want an error", c.ID, c.Start)
			}
		}
		if got := mustRegistrations(t, s, t0); len(got) != 0 {
			t.Errorf("rejected registrations were stored: %v", got)
		}
		if got, _ := s.CDRs(0); len(got) != 0 {
			t.Errorf("rejected CDRs were stored: %v", got)
		}
	})
}

func TestCloseTwiceAndUseAfterClose(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store) {
		for i := range 2 {
			if err := s.Close(); err != nil {
				t.Fatalf("Close #%d: %v", i+1, err)
			}
		}
		r := reg("100", "sip:100@10.0.0.5", t0.Add(time.Hour))
		checks := map[string]error{
			"SaveRegistration":   s.SaveRegistration(r),
			"DeleteRegistration": s.DeleteRegistration("100", "sip:100@10.0.0.5"),
			"AddCDR":             s.AddCDR(cdr("x", t0)),
		}
		_, checks["Registrations"] = s.Registrations(t0)
		_, checks["CDRs"] = s.CDRs(0)
		for name, err := range checks {
			if !errors.Is(err, ErrClosed) {
				t.Errorf("%s after Close: %v, want ErrClosed", name, err)
			}
		}
	})
}

func TestConcurrentSaves(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store) {
		const n = 200
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				aor := fmt.Sprintf("%03d", i)
				errs <- s.SaveRegistration(reg(aor, "sip:"+aor+"@10.0.0.5", t0.Add(time.Hour)))
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("SaveRegistration: %v", err)
			}
		}
		if got := mustRegistrations(t, s, t0); len(got) != n {
			t.Errorf("got %d registrations, want %d", len(got), n)
		}
	})
}

func TestStatuses(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store) {
		if got, err := s.Statuses(); err != nil || len(got) != 0 {
			t.Fatalf("empty store: %v, %v", got, err)
		}
		a := Status{Tenant: "rossi", Person: "rossi", State: "meeting", Until: t0.Add(time.Hour), Note: "in udienza", Since: t0, By: "cli"}
		b := Status{Tenant: "medici", Person: "bianchi", State: "away", Since: t0, By: "phone"}
		for _, st := range []Status{a, b} {
			if err := s.SetStatus(st); err != nil {
				t.Fatal(err)
			}
		}
		a2 := a
		a2.State, a2.Until = "available", time.Time{}
		if err := s.SetStatus(a2); err != nil {
			t.Fatal(err)
		}
		got, err := s.Statuses()
		if err != nil {
			t.Fatal(err)
		}
		if want := []Status{b, a2}; !reflect.DeepEqual(got, want) {
			t.Errorf("Statuses() = %+v, want %+v", got, want)
		}
		if err := s.SetStatus(Status{Tenant: "x"}); err == nil {
			t.Error("a status without person and state was accepted")
		}
	})
}

func TestCDRPlanFieldsRoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store) {
		c := cdr("plan", t0)
		c.Rule = "closed"
		c.Steps = []CDRStep{{Action: "ring", Target: "100", Result: "no-answer"}, {Action: "voicemail", Result: "unavailable"}}
		if err := s.AddCDR(c); err != nil {
			t.Fatal(err)
		}
		got, err := s.CDRs(1)
		if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], c) {
			t.Errorf("CDRs() = %+v, %v; want %+v", got, err, c)
		}
	})
}

func TestVoicemails(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store) {
		a := Voicemail{ID: "0001", Tenant: "rossi", Caller: "+390612345678", Start: t0, File: "voicemail/rossi/0001.wav", State: "recording"}
		b := Voicemail{ID: "0002", Tenant: "medici", Start: t0.Add(time.Minute), File: "voicemail/medici/0002.wav", State: "complete", Seconds: 12.5}
		c := Voicemail{ID: "0003", Tenant: "rossi", Start: t0.Add(2 * time.Minute), File: "voicemail/rossi/0003.wav", State: "complete"}
		for _, v := range []Voicemail{a, b, c} {
			if err := s.SaveVoicemail(v); err != nil {
				t.Fatal(err)
			}
		}
		a.State, a.Seconds = "recovered", 3.2
		if err := s.SaveVoicemail(a); err != nil {
			t.Fatal(err)
		}
		all, err := s.Voicemails("", 0)
		if err != nil || !reflect.DeepEqual(all, []Voicemail{c, b, a}) {
			t.Errorf("Voicemails(all) = %+v, %v", all, err)
		}
		rossi, _ := s.Voicemails("rossi", 1)
		if !reflect.DeepEqual(rossi, []Voicemail{c}) {
			t.Errorf("Voicemails(rossi, 1) = %+v", rossi)
		}
		got, err := s.Voicemail("0001")
		if err != nil || !reflect.DeepEqual(got, a) {
			t.Errorf("Voicemail(0001) = %+v, %v", got, err)
		}
		if _, err := s.Voicemail("nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing voicemail: %v", err)
		}
		if err := s.SaveVoicemail(Voicemail{ID: "x"}); err == nil {
			t.Error("a voicemail without tenant and file was accepted")
		}
	})
}
