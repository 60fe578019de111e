// Package store keeps Centralino's runtime data (registrations, CDRs, statuses, voicemails, messages) on bbolt, with an in-memory twin for tests.
package store

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"

	bolterrors "go.etcd.io/bbolt/errors"
)

// ErrLocked is returned (wrapped) by Open when another process holds the
// data file's lock. It wraps bbolt's ErrTimeout.
var ErrLocked = fmt.Errorf("data file locked: %w", bolterrors.ErrTimeout)

// ErrClosed is returned by every method but Close once the store is closed.
var ErrClosed = errors.New("store closed")

// Registration is one binding of an address of record to a contact.
type Registration struct {
	AOR       string    `json:"aor"`       // extension number
	Contact   string    `json:"contact"`   // Contact URI as sent by the phone
	Source    string    `json:"source"`    // observed source ip:port
	Transport string    `json:"transport"` // "UDP", "TCP", "TLS"
	CallID    string    `json:"call_id"`
	CSeq      uint32    `json:"cseq"`
	UserAgent string    `json:"user_agent"`
	Expires   time.Time `json:"expires"`
	Updated   time.Time `json:"updated"`
}

// CDR is the record of one finished call.
type CDR struct {
	ID          string    `json:"id"` // unique per call
	Start       time.Time `json:"start"`
	Answer      time.Time `json:"answer"` // zero if never answered
	End         time.Time `json:"end"`
	Direction   string    `json:"direction"` // inbound, outbound, internal
	Caller      string    `json:"caller"`
	Called      string    `json:"called"`
	Tenant      string    `json:"tenant"`
	Trunk       string    `json:"trunk"`
	AnsweredBy  string    `json:"answered_by"` // extension (or later operator) that answered
	Disposition string    `json:"disposition"` // answered, no-answer, busy, cancelled, rejected, failed
	Code        int       `json:"code"`        // final SIP status sent to the caller (200 when answered)
	HangupBy    string    `json:"hangup_by"`   // caller, callee, timeout, system
	Reason      string    `json:"reason"`      // short human text
	// Rule is the dialplan rule that decided the call ("" for calls
	// between extensions), Steps what each action did.
	Rule  string    `json:"rule"`
	Steps []CDRStep `json:"steps"`
	// Operator console: who answered, how long the caller waited in the
	// queue and talked, where the call was transferred, the message taken.
	Operator    string  `json:"operator,omitempty"`     // username who answered from the console
	QueueWait   float64 `json:"queue_wait,omitempty"`   // seconds in the operator queue
	TalkSeconds float64 `json:"talk_seconds,omitempty"` // seconds talking with the operator
	TransferTo  string  `json:"transfer_to,omitempty"`  // person id the operator transferred to
	MessageID   string  `json:"message_id,omitempty"`   // message the operator took (Message.ID)
}

// CDRStep is one dialplan action of a call and how it ended.
type CDRStep struct {
	Action string `json:"action"` // ring, forward, play, menu, voicemail, operator, hangup
	Target string `json:"target"` // what was rung or forwarded to, when relevant
	Result string `json:"result"` // answered, no-answer, busy, failed, unavailable, done, cancelled
}

// Status is a person's manually set availability.
type Status struct {
	Tenant string    `json:"tenant"`
	Person string    `json:"person"`
	State  string    `json:"state"` // available, meeting, away, dnd
	Until  time.Time `json:"until"` // zero: until changed
	Note   string    `json:"note"`
	Since  time.Time `json:"since"`
	By     string    `json:"by"` // cli, api, phone
}

// Voicemail is a message a caller left. The record is written when the
// recording starts (State "recording"), so that a crash leaves a record
// pointing at the partial file, which start-up repairs ("recovered").
type Voicemail struct {
	ID         string    `json:"id"` // time-ordered: newest sorts last
	Tenant     string    `json:"tenant"`
	Person     string    `json:"person"` // the person the call was for, "" for the tenant's box
	Caller     string    `json:"caller"`
	CallerName string    `json:"caller_name"`
	Called     string    `json:"called"`
	CallID     string    `json:"call_id"`
	Start      time.Time `json:"start"`
	Seconds    float64   `json:"seconds"`
	File       string    `json:"file"`  // path of the WAV, relative to the data folder
	State      string    `json:"state"` // recording, complete, recovered
}

// Message urgencies and states.
const (
	UrgencyNormal = "normal"
	UrgencyUrgent = "urgent"
	MessageNew    = "new"
)

// Message is a message an operator took for a tenant or one of its
// people during a call.
type Message struct {
	ID           string    `json:"id"` // time-ordered (NewID): newest sorts last
	Tenant       string    `json:"tenant"`
	For          string    `json:"for"`     // person id, "" for the tenant
	CallID       string    `json:"call_id"` // the Centralino call id (CDR.ID)
	CallerName   string    `json:"caller_name"`
	CallerNumber string    `json:"caller_number"`
	Reason       string    `json:"reason"`
	Urgency      string    `json:"urgency"`  // normal, urgent
	Operator     string    `json:"operator"` // username
	Created      time.Time `json:"created"`
	State        string    `json:"state"` // new (delivery states come later)
}

// NewID returns a record id that sorts by time: t in UTC to the
// millisecond, a dash, then suffix (a random one when suffix is empty).
// Voicemail ids have this shape with the call's id as the suffix.
func NewID(t time.Time, suffix string) string {
	if suffix == "" {
		var b [8]byte
		rand.Read(b[:])
		suffix = hex.EncodeToString(b[:])
	}
	return t.UTC().Format("20060102T150405.000") + "-" + suffix
}

// ErrNotFound is returned when a record asked for by id does not exist.
var ErrNotFound = errors.New("not found")

// Store is the runtime data the PBX keeps across restarts. Every method is
// one transaction and safe for concurrent use.
type Store interface {
	// SaveRegistration inserts or replaces the binding (r.AOR, r.Contact).
	// It returns once the binding is durable.
	SaveRegistration(r Registration) error
	// DeleteRegistration removes a binding; removing an absent one is not an error.
	DeleteRegistration(aor, contact string) error
	// Registrations returns the bindings with Expires after now, ordered by
	// AOR then Contact, and deletes the expired ones.
	Registrations(now time.Time) ([]Registration, error)
	// AddCDR stores a call record; c.ID and c.Start are required.
	AddCDR(c CDR) error
	// CDRs returns at most limit records (all when limit <= 0), newest Start first.
	CDRs(limit int) ([]CDR, error)
	// SetStatus stores a person's status, replacing the previous one.
	SetStatus(st Status) error
	// Statuses returns every stored status, ordered by tenant then person.
	Statuses() ([]Status, error)
	// SaveVoicemail inserts or replaces a voicemail record (by ID).
	SaveVoicemail(v Voicemail) error
	// Voicemails returns at most limit records (all when limit <= 0) of a
	// tenant ("" for all tenants), newest first.
	Voicemails(tenant string, limit int) ([]Voicemail, error)
	// Voicemail returns one record, or ErrNotFound.
	Voicemail(id string) (Voicemail, error)
	// SaveMessage inserts or replaces a message (by ID); an empty Urgency
	// is stored as normal, an empty State as new. It returns once the
	// message is durable.
	SaveMessage(m Message) error
	// Messages returns at most limit messages (all when limit <= 0) of a
	// tenant ("" for all tenants), newest first.
	Messages(tenant string, limit int) ([]Message, error)
	// Message returns one message, or ErrNotFound.
	Message(id string) (Message, error)
	// CallerHistory returns a caller's latest calls (CDRs whose Caller is
	// caller) and messages (CallerNumber is caller) with a tenant ("" for
	// all tenants), at most limit of each (all when limit <= 0), newest
	// first. caller must match exactly; an empty caller has no history.
	// It scans the records newest first until it has limit of each, so a
	// caller with a short history costs a scan of every CDR and message:
	// about 3 ms per ten thousand records on Bolt (BenchmarkCallerHistory),
	// fine for a screen pop, not for a loop. An index by caller is the
	// way out if the call records grow past a few hundred thousand.
	CallerHistory(tenant, caller string, limit int) ([]CDR, []Message, error)
	// Close releases the store; calling it again is a no-op.
	Close() error
}

// statusKey is tenant NUL person.
func statusKey(tenant, person string) []byte {
	return regKey(tenant, person)
}

func validateVoicemail(v Voicemail) error {
	if v.ID == "" || v.Tenant == "" || v.File == "" {
		return fmt.Errorf("voicemail %q: id, tenant and file are required", v.ID)
	}
	return nil
}

// normalizeMessage fills the defaults of m and checks it.
func normalizeMessage(m Message) (Message, error) {
	if m.ID == "" || m.Tenant == "" {
		return m, fmt.Errorf("message %q: id and tenant are required", m.ID)
	}
	if m.Reason == "" && m.CallerNumber == "" {
		return m, fmt.Errorf("message %s: a reason or the caller's number is required", m.ID)
	}
	switch m.Urgency {
	case "":
		m.Urgency = UrgencyNormal
	case UrgencyNormal, UrgencyUrgent:
	default:
		return m, fmt.Errorf("message %s: urgency %q is not %s or %s", m.ID, m.Urgency, UrgencyNormal, UrgencyUrgent)
	}
	if m.State == "" {
		m.State = MessageNew
	}
	return m, nil
}

// historyMatch tells whether a record of tenant with caller number
// number belongs in the history of (wantTenant, caller).
func historyMatch(wantTenant, caller, tenant, number string) bool {
	return number == caller && (wantTenant == "" || tenant == wantTenant)
}

func validateStatus(st Status) error {
	if st.Tenant == "" || st.Person == "" || st.State == "" {
		return fmt.Errorf("status %s/%s: tenant, person and state are required", st.Tenant, st.Person)
	}
	return nil
}

// regKey joins AOR and Contact with a NUL, which neither can contain, so
// keys are unique and sort by AOR first.
func regKey(aor, contact string) []byte {
	k := make([]byte, 0, len(aor)+1+len(contact))
	k = append(k, aor...)
	k = append(k, 0)
	return append(k, contact...)
}

// cdrKey starts with the big-endian start time so byte order is time order
// and a cursor can walk newest-first from Last; the ID keeps keys unique.
func cdrKey(c CDR) []byte {
	k := make([]byte, 8, 8+len(c.ID))
	binary.BigEndian.PutUint64(k, uint64(c.Start.UnixNano()))
	return append(k, c.ID...)
}

func validateRegistration(r Registration) error {
	if r.AOR == "" {
		return errors.New("registration: empty aor")
	}
	if r.Contact == "" {
		return fmt.Errorf("registration %s: empty contact", r.AOR)
	}
	return nil
}

func validateCDR(c CDR) error {
	if c.ID == "" {
		return errors.New("cdr: empty id")
	}
	// The key holds Start as unsigned nanoseconds: times before 1970 (the
	// zero time above all) would sort as the newest record, and UnixNano is
	// undefined past 2262.
	if sec := c.Start.Unix(); sec < 0 || sec >= math.MaxInt64/int64(time.Second) {
		return fmt.Errorf("cdr %s: start %s out of range", c.ID, c.Start.Format(time.RFC3339))
	}
	return nil
}
