package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
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
		checks["SaveMessage"] = s.SaveMessage(msg("m1", "rossi", t0))
		_, checks["Messages"] = s.Messages("", 0)
		_, checks["Message"] = s.Message("m1")
		_, _, checks["CallerHistory"] = s.CallerHistory("rossi", "+390212345678", 0)
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

func msg(id, tenant string, created time.Time) Message {
	return Message{
		ID:           id,
		Tenant:       tenant,
		For:          "rossi",
		CallID:       "call-" + id,
		CallerName:   "Mario Verdi",
		CallerNumber: "+390212345678",
		Reason:       "richiamare per la pratica Verdi",
		Urgency:      UrgencyNormal,
		Operator:     "anna",
		Created:      created,
		State:        MessageNew,
	}
}

func TestMessages(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store) {
		a := msg(NewID(t0, "a"), "rossi", t0)
		b := msg(NewID(t0.Add(time.Minute), "b"), "medici", t0.Add(time.Minute))
		b.For, b.Urgency = "", UrgencyUrgent
		c := msg(NewID(t0.Add(2*time.Minute), "c"), "rossi", t0.Add(2*time.Minute))
		for _, m := range []Message{c, a, b} {
			if err := s.SaveMessage(m); err != nil {
				t.Fatal(err)
			}
		}
		a.Reason = "richiamare entro le 18"
		if err := s.SaveMessage(a); err != nil {
			t.Fatal(err)
		}
		all, err := s.Messages("", 0)
		if err != nil || !reflect.DeepEqual(all, []Message{c, b, a}) {
			t.Errorf("Messages(all) = %+v, %v", all, err)
		}
		tests := []struct {
			tenant string
			limit  int
			want   []Message
		}{
			{"", 2, []Message{c, b}},
			{"", -1, []Message{c, b, a}},
			{"rossi", 0, []Message{c, a}},
			{"rossi", 1, []Message{c}},
			{"medici", 5, []Message{b}},
			{"nobody", 0, nil},
		}
		for _, tt := range tests {
			got, err := s.Messages(tt.tenant, tt.limit)
			if err != nil {
				t.Fatalf("Messages(%q, %d): %v", tt.tenant, tt.limit, err)
			}
			if len(got) != 0 || len(tt.want) != 0 {
				diff(t, fmt.Sprintf("Messages(%q, %d)", tt.tenant, tt.limit), got, tt.want)
			}
		}
		got, err := s.Message(a.ID)
		if err != nil || !reflect.DeepEqual(got, a) {
			t.Errorf("Message(%s) = %+v, %v", a.ID, got, err)
		}
		if _, err := s.Message("nope"); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing message: %v", err)
		}
	})
}

func TestMessageValidation(t *testing.T) {
	tests := []struct {
		name   string
		change func(m *Message)
		ok     bool
		want   func(m *Message) // the stored record, from the one given
	}{
		{"complete", func(*Message) {}, true, nil},
		{"no id", func(m *Message) { m.ID = "" }, false, nil},
		{"no tenant", func(m *Message) { m.Tenant = "" }, false, nil},
		{"neither reason nor caller number", func(m *Message) { m.Reason, m.CallerNumber = "", "" }, false, nil},
		{"reason only", func(m *Message) { m.CallerNumber, m.CallerName = "", "" }, true, nil},
		{"caller number only", func(m *Message) { m.Reason = "" }, true, nil},
		{"urgent", func(m *Message) { m.Urgency = UrgencyUrgent }, true, nil},
		{"unknown urgency", func(m *Message) { m.Urgency = "URGENT" }, false, nil},
		{"empty urgency is normal", func(m *Message) { m.Urgency = "" }, true, func(m *Message) { m.Urgency = UrgencyNormal }},
		{"empty state is new", func(m *Message) { m.State = "" }, true, func(m *Message) { m.State = MessageNew }},
		{"zero created time", func(m *Message) { m.Created = time.Time{} }, true, nil},
	}
	forEachBackend(t, func(t *testing.T, s Store) {
		for i, tt := range tests {
			in := msg(fmt.Sprintf("m%02d", i), "rossi", t0)
			tt.change(&in)
			err := s.SaveMessage(in)
			if (err == nil) != tt.ok {
				t.Errorf("%s: SaveMessage error %v, want ok=%v", tt.name, err, tt.ok)
				continue
			}
			if !tt.ok {
				if in.ID != "" {
					if _, err := s.Message(in.ID); !errors.Is(err, ErrNotFound) {
						t.Errorf("%s: the rejected message was stored (%v)", tt.name, err)
					}
				}
				continue
			}
			want := in
			if tt.want != nil {
				tt.want(&want)
			}
			got, err := s.Message(in.ID)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("%s: stored %+v, %v; want %+v", tt.name, got, err, want)
			}
		}
		if got, _ := s.Messages("", 0); len(got) != 7 {
			t.Errorf("%d messages stored, want 7", len(got))
		}
	})
}

func TestCallerHistory(t *testing.T) {
	const mario, luigi = "+390212345678", "+390298765432"
	call := func(id, tenant, caller string, start time.Time) CDR {
		c := cdr(id, start)
		c.Tenant, c.Caller = tenant, caller
		return c
	}
	message := func(id, tenant, caller string, created time.Time) Message {
		m := msg(NewID(created, id), tenant, created)
		m.CallerNumber = caller
		return m
	}
	cdrs := []CDR{
		call("c1", "rossi", mario, t0),
		call("c2", "rossi", luigi, t0.Add(time.Minute)),
		call("c3", "medici", mario, t0.Add(2*time.Minute)),
		call("c4", "rossi", mario, t0.Add(3*time.Minute)),
		call("c5", "rossi", mario+"9", t0.Add(4*time.Minute)), // longer number: no match
		call("c6", "rossi", "", t0.Add(5*time.Minute)),        // anonymous
		call("c7", "rossi", mario, t0.Add(6*time.Minute)),
	}
	msgs := []Message{
		message("m1", "rossi", mario, t0.Add(30*time.Second)),
		message("m2", "medici", mario, t0.Add(90*time.Second)),
		message("m3", "rossi", luigi, t0.Add(150*time.Second)),
		message("m4", "rossi", mario, t0.Add(210*time.Second)),
		message("m5", "rossi", "", t0.Add(270*time.Second)),
	}
	msgs[4].CallerNumber, msgs[4].Reason = "", "chiamata anonima"
	tests := []struct {
		tenant, caller string
		limit          int
		cdrs           []string
		msgs           []string
	}{
		{"rossi", mario, 0, []string{"c7", "c4", "c1"}, []string{"m4", "m1"}},
		{"rossi", mario, 2, []string{"c7", "c4"}, []string{"m4", "m1"}},
		{"rossi", mario, 1, []string{"c7"}, []string{"m4"}},
		{"medici", mario, 0, []string{"c3"}, []string{"m2"}},
		{"", mario, 0, []string{"c7", "c4", "c3", "c1"}, []string{"m4", "m2", "m1"}},
		{"rossi", luigi, 10, []string{"c2"}, []string{"m3"}},
		{"rossi", "+39021234567", 0, nil, nil}, // a prefix is not a match
		{"rossi", "", 0, nil, nil},             // no history for anonymous callers
		{"nobody", mario, 0, nil, nil},
	}
	forEachBackend(t, func(t *testing.T, s Store) {
		for _, c := range cdrs {
			if err := s.AddCDR(c); err != nil {
				t.Fatal(err)
			}
		}
		for _, m := range msgs {
			if err := s.SaveMessage(m); err != nil {
				t.Fatal(err)
			}
		}
		for _, tt := range tests {
			gotC, gotM, err := s.CallerHistory(tt.tenant, tt.caller, tt.limit)
			if err != nil {
				t.Fatalf("CallerHistory(%q, %q, %d): %v", tt.tenant, tt.caller, tt.limit, err)
			}
			var cids, mids []string
			for _, c := range gotC {
				cids = append(cids, c.ID)
			}
			for _, m := range gotM {
				mids = append(mids, strings.SplitN(m.ID, "-", 2)[1])
			}
			what := fmt.Sprintf("CallerHistory(%q, %q, %d)", tt.tenant, tt.caller, tt.limit)
			diff(t, what+" cdrs", cids, tt.cdrs)
			diff(t, what+" messages", mids, tt.msgs)
		}
		// Whole records come back.
		gotC, gotM, _ := s.CallerHistory("medici", mario, 0)
		diff(t, "medici cdrs", gotC, []CDR{cdrs[2]})
		diff(t, "medici messages", gotM, []Message{msgs[1]})
	})
}

func TestCallerHistoryEscapedNumbers(t *testing.T) {
	// Numbers are what the caller sent: the match must hold for any text.
	forEachBackend(t, func(t *testing.T, s Store) {
		for i, caller := range []string{`"quoted" <sip:x@y>`, `back\slash`, "àè & ü", "anonymous"} {
			c := cdr(fmt.Sprintf("c%d", i), t0.Add(time.Duration(i)*time.Minute))
			c.Caller = caller
			m := msg(NewID(t0.Add(time.Duration(i)*time.Minute), "x"), "acme", t0)
			m.CallerNumber = caller
			if err := s.AddCDR(c); err != nil {
				t.Fatal(err)
			}
			if err := s.SaveMessage(m); err != nil {
				t.Fatal(err)
			}
			gotC, gotM, err := s.CallerHistory("acme", caller, 0)
			if err != nil || len(gotC) != 1 || gotC[0].ID != c.ID || len(gotM) != 1 || gotM[0].ID != m.ID {
				t.Errorf("CallerHistory(%q) = %v, %v, %v", caller, gotC, gotM, err)
			}
		}
	})
}

func TestNewID(t *testing.T) {
	if got, want := NewID(time.Date(2026, 11, 27, 10, 4, 5, 6_789_000, time.FixedZone("CET", 3600)), "abc"), "20261127T090405.006-abc"; got != want {
		t.Errorf("NewID = %q, want %q", got, want)
	}
	a, b := NewID(t0, ""), NewID(t0, "")
	if a == b || !strings.HasPrefix(a, "20250314T093000.000-") || len(a) != len("20250314T093000.000-")+16 {
		t.Errorf("NewID with random suffixes: %q, %q", a, b)
	}
	// Ids sort by time, whatever the zone and suffix.
	times := []time.Time{t0, t0.Add(time.Millisecond), t0.Add(999 * time.Millisecond), t0.Add(time.Second), t0.Add(10 * time.Hour).In(time.FixedZone("x", -11*3600))}
	for i := 1; i < len(times); i++ {
		if prev, cur := NewID(times[i-1], "zzzz"), NewID(times[i], "0000"); prev >= cur {
			t.Errorf("NewID(%s) = %q does not sort before NewID(%s) = %q", times[i-1], prev, times[i], cur)
		}
	}
}

func TestCDROperatorFieldsRoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, s Store) {
		c := cdr("console", t0)
		c.Operator, c.QueueWait, c.TalkSeconds, c.TransferTo, c.MessageID = "anna", 12.5, 93.25, "rossi", NewID(t0, "m")
		plain := cdr("plain", t0.Add(time.Second))
		for _, r := range []CDR{c, plain} {
			if err := s.AddCDR(r); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.CDRs(0)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "CDRs", got, []CDR{plain, c})
	})
	// The new fields stay out of the JSON of calls the console did not see.
	b, err := json.Marshal(cdr("plain", t0))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"operator", "queue_wait", "talk_seconds", "transfer_to", "message_id"} {
		if strings.Contains(string(b), `"`+f+`"`) {
			t.Errorf("empty %s is in the JSON: %s", f, b)
		}
	}
}
