package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Bucket names are part of the file format: renaming one loses its data.
const (
	bucketRegistrations = "registrations"
	bucketCDRs          = "cdrs"
	bucketStatuses      = "statuses"
	bucketVoicemails    = "voicemails"
	bucketMessages      = "messages"
)

// Bolt is a Store in a bbolt file. It holds the file's exclusive lock until
// Close, so only one process can use a data folder at a time.
type Bolt struct {
	db        *bolt.DB
	closeOnce sync.Once
	closeErr  error
}

var _ Store = (*Bolt)(nil)

// lockedError names the file and the wait, since the usual cause is a
// second Centralino started on the same data folder.
type lockedError struct {
	path    string
	timeout time.Duration
}

func (e *lockedError) Error() string {
	return fmt.Sprintf("%s is in use by another Centralino process (lock not acquired within %s)", e.path, e.timeout)
}

func (e *lockedError) Unwrap() error { return ErrLocked }

// Open opens (creating if needed, mode 0600) the bbolt file at path and its
// buckets. It waits at most lockTimeout for the file's lock, then returns an
// error wrapping ErrLocked; lockTimeout 0 waits forever, as in bbolt.
func Open(path string, lockTimeout time.Duration) (*Bolt, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:      lockTimeout,
		FreelistType: bolt.FreelistMapType,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, &lockedError{path: path, timeout: lockTimeout}
	}
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{bucketRegistrations, bucketCDRs, bucketStatuses, bucketVoicemails, bucketMessages} {
			if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		return nil
	})
	if err != nil {
		// The open error is the one worth reporting.
		_ = db.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return &Bolt{db: db}, nil
}

// SaveRegistration upserts r. Concurrent calls share one commit (db.Batch),
// which is what makes a REGISTER burst affordable with an fsync per commit.
func (s *Bolt) SaveRegistration(r Registration) error {
	if err := validateRegistration(r); err != nil {
		return err
	}
	val, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("registration %s: encode: %w", r.AOR, err)
	}
	key := regKey(r.AOR, r.Contact)
	// Batch may run this more than once: a Put of the same pair is idempotent.
	err = s.db.Batch(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketRegistrations)).Put(key, val)
	})
	if err != nil {
		return fmt.Errorf("registration %s: save: %w", r.AOR, mapClosed(err))
	}
	return nil
}

// DeleteRegistration removes the binding (aor, contact). Unregistering is on
// the same hot path as registering, so it is batched too.
func (s *Bolt) DeleteRegistration(aor, contact string) error {
	key := regKey(aor, contact)
	err := s.db.Batch(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketRegistrations)).Delete(key)
	})
	if err != nil {
		return fmt.Errorf("registration %s: delete: %w", aor, mapClosed(err))
	}
	return nil
}

// Registrations reads in a View and only opens a write transaction when
// something has expired, so the common case costs no fsync.
func (s *Bolt) Registrations(now time.Time) ([]Registration, error) {
	var live []Registration
	var expired [][]byte
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketRegistrations)).ForEach(func(k, v []byte) error {
			var r Registration
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode %q: %w", k, err)
			}
			if r.Expires.After(now) {
				live = append(live, r)
			} else {
				expired = append(expired, bytes.Clone(k))
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("registrations: %w", mapClosed(err))
	}
	if len(expired) == 0 {
		return live, nil
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bucketRegistrations))
		for _, k := range expired {
			// A REGISTER may have refreshed the binding since the View.
			v := b.Get(k)
			if v == nil {
				continue
			}
			var r Registration
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode %q: %w", k, err)
			}
			if r.Expires.After(now) {
				continue
			}
			if err := b.Delete(k); err != nil {
				return fmt.Errorf("delete %q: %w", k, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("registrations: drop expired: %w", mapClosed(err))
	}
	return live, nil
}

// AddCDR stores c, batched because calls end concurrently.
func (s *Bolt) AddCDR(c CDR) error {
	if err := validateCDR(c); err != nil {
		return err
	}
	val, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("cdr %s: encode: %w", c.ID, err)
	}
	key := cdrKey(c)
	err = s.db.Batch(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketCDRs)).Put(key, val)
	})
	if err != nil {
		return fmt.Errorf("cdr %s: save: %w", c.ID, mapClosed(err))
	}
	return nil
}

// CDRs walks the bucket backwards: keys start with the start time.
func (s *Bolt) CDRs(limit int) ([]CDR, error) {
	var out []CDR
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bucketCDRs)).Cursor()
		for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
			var r CDR
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode %x: %w", k, err)
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cdrs: %w", mapClosed(err))
	}
	return out, nil
}

// Close releases the file and its lock. Later calls return the first result.
func (s *Bolt) Close() error {
	s.closeOnce.Do(func() {
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("close store %s: %w", s.db.Path(), err)
		}
	})
	return s.closeErr
}

func mapClosed(err error) error {
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// SetStatus upserts a person's status.
func (s *Bolt) SetStatus(st Status) error {
	if err := validateStatus(st); err != nil {
		return err
	}
	val, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("status %s/%s: encode: %w", st.Tenant, st.Person, err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketStatuses)).Put(statusKey(st.Tenant, st.Person), val)
	})
	if err != nil {
		return fmt.Errorf("status %s/%s: save: %w", st.Tenant, st.Person, mapClosed(err))
	}
	return nil
}

// Statuses returns every stored status in key (tenant, person) order.
func (s *Bolt) Statuses() ([]Status, error) {
	var out []Status
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketStatuses)).ForEach(func(k, v []byte) error {
			var st Status
			if err := json.Unmarshal(v, &st); err != nil {
				return fmt.Errorf("status %q: decode: %w", k, err)
			}
			out = append(out, st)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("statuses: %w", mapClosed(err))
	}
	return out, nil
}

// SaveVoicemail upserts a voicemail record, batched (db.Batch) because
// recordings start and end together under load: one fsync for many.
func (s *Bolt) SaveVoicemail(v Voicemail) error {
	if err := validateVoicemail(v); err != nil {
		return err
	}
	val, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("voicemail %s: encode: %w", v.ID, err)
	}
	err = s.db.Batch(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketVoicemails)).Put([]byte(v.ID), val)
	})
	if err != nil {
		return fmt.Errorf("voicemail %s: save: %w", v.ID, mapClosed(err))
	}
	return nil
}

// Voicemails walks the bucket backwards: ids are time-ordered.
func (s *Bolt) Voicemails(tenant string, limit int) ([]Voicemail, error) {
	var out []Voicemail
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bucketVoicemails)).Cursor()
		for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
			var vm Voicemail
			if err := json.Unmarshal(v, &vm); err != nil {
				return fmt.Errorf("voicemail %q: decode: %w", k, err)
			}
			if tenant == "" || vm.Tenant == tenant {
				out = append(out, vm)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("voicemails: %w", mapClosed(err))
	}
	return out, nil
}

// Voicemail returns the record with id.
func (s *Bolt) Voicemail(id string) (Voicemail, error) {
	var vm Voicemail
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(bucketVoicemails)).Get([]byte(id))
		if v == nil {
			return ErrNotFound
		}
		return json.Unmarshal(v, &vm)
	})
	if err != nil {
		return Voicemail{}, fmt.Errorf("voicemail %s: %w", id, mapClosed(err))
	}
	return vm, nil
}

// SaveMessage upserts a message in its own transaction (Update, not
// Batch): the operator is told "saved" only once it is on disk.
func (s *Bolt) SaveMessage(m Message) error {
	m, err := normalizeMessage(m)
	if err != nil {
		return err
	}
	val, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("message %s: encode: %w", m.ID, err)
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketMessages)).Put([]byte(m.ID), val)
	})
	if err != nil {
		return fmt.Errorf("message %s: save: %w", m.ID, mapClosed(err))
	}
	return nil
}

// Messages walks the bucket backwards: ids are time-ordered.
func (s *Bolt) Messages(tenant string, limit int) ([]Message, error) {
	var out []Message
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte(bucketMessages)).Cursor()
		for k, v := c.Last(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
			var m Message
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("message %q: decode: %w", k, err)
			}
			if tenant == "" || m.Tenant == tenant {
				out = append(out, m)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("messages: %w", mapClosed(err))
	}
	return out, nil
}

// Message returns the message with id.
func (s *Bolt) Message(id string) (Message, error) {
	var m Message
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket([]byte(bucketMessages)).Get([]byte(id))
		if v == nil {
			return ErrNotFound
		}
		return json.Unmarshal(v, &m)
	})
	if err != nil {
		return Message{}, fmt.Errorf("message %s: %w", id, mapClosed(err))
	}
	return m, nil
}

// CallerHistory walks the CDRs and the messages backwards in one read
// transaction. A record is decoded only when its JSON contains the
// caller's number as encoding/json writes it (every record was written
// that way), so the scan costs little more than reading the file.
func (s *Bolt) CallerHistory(tenant, caller string, limit int) ([]CDR, []Message, error) {
	if caller == "" {
		return nil, nil, nil
	}
	quoted, err := json.Marshal(caller)
	if err != nil {
		return nil, nil, fmt.Errorf("caller history %q: %w", caller, err)
	}
	var cdrs []CDR
	var msgs []Message
	err = s.db.View(func(tx *bolt.Tx) error {
		needle := append([]byte(`"caller":`), quoted...)
		c := tx.Bucket([]byte(bucketCDRs)).Cursor()
		for k, v := c.Last(); k != nil && (limit <= 0 || len(cdrs) < limit); k, v = c.Prev() {
			if !bytes.Contains(v, needle) {
				continue
			}
			var r CDR
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("cdr %x: decode: %w", k, err)
			}
			if historyMatch(tenant, caller, r.Tenant, r.Caller) {
				cdrs = append(cdrs, r)
			}
		}
		needle = append([]byte(`"caller_number":`), quoted...)
		c = tx.Bucket([]byte(bucketMessages)).Cursor()
		for k, v := c.Last(); k != nil && (limit <= 0 || len(msgs) < limit); k, v = c.Prev() {
			if !bytes.Contains(v, needle) {
				continue
			}
			var m Message
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("message %q: decode: %w", k, err)
			}
			if historyMatch(tenant, caller, m.Tenant, m.CallerNumber) {
				msgs = append(msgs, m)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("caller history %s: %w", caller, mapClosed(err))
	}
	return cdrs, msgs, nil
}
