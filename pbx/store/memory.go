package store

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Memory is a Store in memory with the same behaviour as Bolt, for tests of
// the packages that use a Store.
type Memory struct {
	mu     sync.Mutex
	closed bool                    // guarded by mu
	regs   map[string]Registration // by regKey; guarded by mu
	cdrs   map[string]CDR          // by cdrKey; guarded by mu
	status map[string]Status       // by statusKey; guarded by mu
	vms    map[string]Voicemail    // by ID; guarded by mu
	msgs   map[string]Message      // by ID; guarded by mu
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{
		regs:   make(map[string]Registration),
		cdrs:   make(map[string]CDR),
		status: make(map[string]Status),
		vms:    make(map[string]Voicemail),
		msgs:   make(map[string]Message),
	}
}

// SaveRegistration upserts r.
func (m *Memory) SaveRegistration(r Registration) error {
	if err := validateRegistration(r); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.regs[string(regKey(r.AOR, r.Contact))] = r
	return nil
}

// DeleteRegistration removes the binding (aor, contact) if present.
func (m *Memory) DeleteRegistration(aor, contact string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	delete(m.regs, string(regKey(aor, contact)))
	return nil
}

// Registrations returns the live bindings in key order and drops the expired.
func (m *Memory) Registrations(now time.Time) ([]Registration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	keys := make([]string, 0, len(m.regs))
	for k, r := range m.regs {
		if !r.Expires.After(now) {
			delete(m.regs, k)
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []Registration
	for _, k := range keys {
		out = append(out, m.regs[k])
	}
	return out, nil
}

// AddCDR stores c.
func (m *Memory) AddCDR(c CDR) error {
	if err := validateCDR(c); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.cdrs[string(cdrKey(c))] = c
	return nil
}

// CDRs returns at most limit records, newest Start first, ordered as Bolt orders them.
func (m *Memory) CDRs(limit int) ([]CDR, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	keys := make([]string, 0, len(m.cdrs))
	for k := range m.cdrs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return strings.Compare(b, a) })
	if limit > 0 && len(keys) > limit {
		keys = keys[:limit]
	}
	var out []CDR
	for _, k := range keys {
		out = append(out, m.cdrs[k])
	}
	return out, nil
}

// Close marks the store closed; calling it again is a no-op.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

// SetStatus upserts a person's status.
func (m *Memory) SetStatus(st Status) error {
	if err := validateStatus(st); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.status[string(statusKey(st.Tenant, st.Person))] = st
	return nil
}

// Statuses returns every stored status in (tenant, person) order.
func (m *Memory) Statuses() ([]Status, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	keys := make([]string, 0, len(m.status))
	for k := range m.status {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]Status, 0, len(keys))
	for _, k := range keys {
		out = append(out, m.status[k])
	}
	return out, nil
}

// SaveVoicemail upserts a voicemail record.
func (m *Memory) SaveVoicemail(v Voicemail) error {
	if err := validateVoicemail(v); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.vms[v.ID] = v
	return nil
}

// Voicemails returns a tenant's records ("" for all), newest (highest id) first.
func (m *Memory) Voicemails(tenant string, limit int) ([]Voicemail, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	ids := make([]string, 0, len(m.vms))
	for id, v := range m.vms {
		if tenant == "" || v.Tenant == tenant {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	if limit > 0 && len(ids) > limit {
		ids = ids[:limit]
	}
	out := make([]Voicemail, 0, len(ids))
	for _, id := range ids {
		out = append(out, m.vms[id])
	}
	return out, nil
}

// Voicemail returns the record with id.
func (m *Memory) Voicemail(id string) (Voicemail, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return Voicemail{}, ErrClosed
	}
	v, ok := m.vms[id]
	if !ok {
		return Voicemail{}, fmt.Errorf("voicemail %s: %w", id, ErrNotFound)
	}
	return v, nil
}

// SaveMessage upserts a message.
func (m *Memory) SaveMessage(msg Message) error {
	msg, err := normalizeMessage(msg)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.msgs[msg.ID] = msg
	return nil
}

// Messages returns a tenant's messages ("" for all), newest (highest id) first.
func (m *Memory) Messages(tenant string, limit int) ([]Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	ids := make([]string, 0, len(m.msgs))
	for id, msg := range m.msgs {
		if tenant == "" || msg.Tenant == tenant {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	if limit > 0 && len(ids) > limit {
		ids = ids[:limit]
	}
	out := make([]Message, 0, len(ids))
	for _, id := range ids {
		out = append(out, m.msgs[id])
	}
	return out, nil
}

// Message returns the message with id.
func (m *Memory) Message(id string) (Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return Message{}, ErrClosed
	}
	msg, ok := m.msgs[id]
	if !ok {
		return Message{}, fmt.Errorf("message %s: %w", id, ErrNotFound)
	}
	return msg, nil
}

// CallerHistory returns the caller's CDRs and messages with tenant, newest
// first, ordered as Bolt orders them.
func (m *Memory) CallerHistory(tenant, caller string, limit int) ([]CDR, []Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, nil, ErrClosed
	}
	if caller == "" {
		return nil, nil, nil
	}
	var cdrKeys, msgIDs []string
	for k, c := range m.cdrs {
		if historyMatch(tenant, caller, c.Tenant, c.Caller) {
			cdrKeys = append(cdrKeys, k)
		}
	}
	for id, msg := range m.msgs {
		if historyMatch(tenant, caller, msg.Tenant, msg.CallerNumber) {
			msgIDs = append(msgIDs, id)
		}
	}
	newestFirst := func(a, b string) int { return strings.Compare(b, a) }
	slices.SortFunc(cdrKeys, newestFirst)
	slices.SortFunc(msgIDs, newestFirst)
	if limit > 0 {
		cdrKeys = cdrKeys[:min(limit, len(cdrKeys))]
		msgIDs = msgIDs[:min(limit, len(msgIDs))]
	}
	var cdrs []CDR
	for _, k := range cdrKeys {
		cdrs = append(cdrs, m.cdrs[k])
	}
	var msgs []Message
	for _, id := range msgIDs {
		msgs = append(msgs, m.msgs[id])
	}
	return cdrs, msgs, nil
}
