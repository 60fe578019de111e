package media

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/centralino/centralino/media/dtmf"
	"github.com/zaf/g711"
)

const (
	// maxBufferedKeys is how many keys an IVR keeps for a later
	// CollectDigits; a caller typing ahead needs a handful, and a stuck
	// sender must not grow memory. When full, the oldest key is dropped.
	maxBufferedKeys = 32
	// digitVolume is the power level of the events SendDigit sends, in
	// -dBm0: the usual value of phones.
	digitVolume = 10
)

// ErrIVRClosed is returned by the IVR's methods after Close.
var ErrIVRClosed = errors.New("ivr closed")

// IVROptions configure an IVR.
type IVROptions struct {
	// InbandDTMF also detects keys as tones in the caller's audio, for
	// trunks that do not send telephone-events.
	InbandDTMF bool
	// Log receives the IVR's events; nil discards.
	Log *slog.Logger
	// Poller, if set, reads the leg while the IVR is installed (what the
	// caller sends can wait for it); nil leaves the leg's own goroutine
	// reading.
	Poller *Poller
}

// IVR drives one answered leg that is not bridged: it plays prompts to the
// caller, hears the keys they press and records them. It is the leg's
// Handler while installed, so everything that arrives is handled on the
// leg's reader goroutine (or the Poller's), and everything it sends goes
// through the Scheduler's goroutine; the methods that wait (Play,
// CollectDigits, Record, SendDigit) wait on the caller's goroutine. An IVR
// adds no goroutine of its own.
//
// Play, CollectDigits, Record and SendDigit are meant for one goroutine
// (the call's), one at a time; InjectDigit and Close are safe from any.
type IVR struct {
	leg   *Leg
	sched *Scheduler
	log   *slog.Logger
	ref   *handlerRef
	done  chan struct{} // closed by Close

	// Used on the leg's reader goroutine only.
	rx       dtmf.Receiver
	det      *dtmf.Detector // nil unless in-band detection is on
	pcm      [maxJitterPayload]int16
	onInband func(rune) // v.addKey, bound once so Process does not allocate

	keyCh chan struct{} // a key arrived; capacity 1

	mu      sync.Mutex // guards the fields below
	keys    [maxBufferedKeys]rune
	keyHead int // index of the oldest key
	keyN    int
	barge   *Playback  // stopped by the next key
	playing *Playback  // stopped by Close
	rec     *recording // the recording in progress
	closed  bool
}

// NewIVR returns an IVR for leg, installed as its Handler (replacing any
// other), playing through sched.
func NewIVR(leg *Leg, sched *Scheduler, opts IVROptions) *IVR {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	v := &IVR{leg: leg, sched: sched, log: log, done: make(chan struct{}), keyCh: make(chan struct{}, 1)}
	if opts.InbandDTMF {
		v.det = dtmf.NewDetector()
	}
	v.onInband = v.addKey
	v.ref = &handlerRef{h: v}
	leg.handler.Store(v.ref)
	leg.poll(opts.Poller)
	return v
}

// Close uninstalls the IVR (unless another handler replaced it meanwhile)
// and stops any playback and recording. It is idempotent.
func (v *IVR) Close() {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return
	}
	v.closed = true
	playing, rec := v.playing, v.rec
	v.mu.Unlock()
	close(v.done)
	v.leg.unpoll() // a no-op unless a Poller took the leg
	v.leg.handler.CompareAndSwap(v.ref, nil)
	if playing != nil {
		playing.Stop()
	}
	if rec != nil {
		rec.signal(StoppedByHangup)
	}
}

// HandleRTP implements Handler: telephone-events become keys, audio goes
// to the in-band detector and to the recording, if any. It does not
// allocate.
func (v *IVR) HandleRTP(from *Leg, pkt []byte) {
	start, end, ok := parseRTP(pkt)
	if !ok {
		return
	}
	r := from.remote.Load()
	if r == nil {
		return
	}
	pt := pkt[1] & 0x7f
	payload := pkt[start:end]
	switch {
	case r.EventPT != 0 && pt == r.EventPT:
		if key, ok := v.rx.Feed(payload, binary.BigEndian.Uint32(pkt[4:])); ok {
			v.addKey(key)
		}
	case pt == r.Codec.PayloadType && isG711(r.Codec.Name):
		if v.det != nil {
			n := decodeG711(v.pcm[:], payload, r.Codec.Name)
			v.det.Process(v.pcm[:n], v.onInband)
		}
		v.mu.Lock()
		if v.rec != nil {
			v.rec.codec = r.Codec.Name
			v.rec.jb.Push(binary.BigEndian.Uint32(pkt[8:]), binary.BigEndian.Uint16(pkt[2:]), binary.BigEndian.Uint32(pkt[4:]), payload)
		}
		v.mu.Unlock()
	}
}

// InjectDigit hands the IVR a key that came another way (SIP INFO).
func (v *IVR) InjectDigit(key rune) {
	v.addKey(key)
}

// addKey buffers a key, stops a playback that barge-in allows to stop, and
// ends a recording for one of its stop keys (which is then consumed).
func (v *IVR) addKey(key rune) {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return
	}
	if v.rec != nil && strings.ContainsRune(v.rec.stopKeys, key) {
		rec := v.rec
		v.mu.Unlock()
		rec.signal(StoppedByKey)
		return
	}
	if v.keyN == maxBufferedKeys {
		v.keyHead = (v.keyHead + 1) % maxBufferedKeys
		v.keyN--
	}
	v.keys[(v.keyHead+v.keyN)%maxBufferedKeys] = key
	v.keyN++
	barge := v.barge
	v.barge = nil
	v.mu.Unlock()
	if barge != nil {
		barge.Stop()
	}
	select {
	case v.keyCh <- struct{}{}:
	default:
	}
	if v.log.Enabled(context.Background(), slog.LevelDebug) {
		v.log.Debug("dtmf key", "key", string(key))
	}
}

// peekKeyLocked returns the oldest buffered key without taking it.
// v.mu must be held.
func (v *IVR) peekKeyLocked() (rune, bool) {
	if v.keyN == 0 {
		return 0, false
	}
	return v.keys[v.keyHead], true
}

// takeKey removes and returns the oldest buffered key.
func (v *IVR) takeKey() (rune, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	k, ok := v.peekKeyLocked()
	if ok {
		v.keyHead = (v.keyHead + 1) % maxBufferedKeys
		v.keyN--
	}
	return k, ok
}

// ClearDigits forgets the buffered keys, e.g. before a question whose
// answer must not come from earlier typing.
func (v *IVR) ClearDigits() {
	v.mu.Lock()
	v.keyHead, v.keyN = 0, 0
	v.mu.Unlock()
}

// Play plays the prompts in order (nil ones are skipped) and returns when
// they are over. With bargeIn, a key stops the playback at once and is
// returned; it stays buffered for CollectDigits. A key already buffered
// when Play is called returns at once, without playing (the caller typed
// ahead). Without bargeIn, keys are buffered and Play returns 0. When ctx
// ends first, the playback stops and Play returns ctx.Err().
func (v *IVR) Play(ctx context.Context, bargeIn bool, prompts ...*Prompt) (key rune, err error) {
	for _, p := range prompts {
		if p == nil {
			continue
		}
		v.mu.Lock()
		if v.closed {
			v.mu.Unlock()
			return 0, ErrIVRClosed
		}
		if k, ok := v.peekKeyLocked(); ok && bargeIn {
			v.mu.Unlock()
			return k, nil
		}
		// Play under the lock, so that a key cannot slip in between the
		// check above and barge becoming set.
		pb := v.sched.Play(v.leg, p, false)
		v.playing = pb
		if bargeIn {
			v.barge = pb
		}
		v.mu.Unlock()

		select {
		case <-pb.Done():
		case <-ctx.Done():
			pb.Stop()
		}
		v.mu.Lock()
		v.playing, v.barge = nil, nil
		k, ok := v.peekKeyLocked()
		closed := v.closed
		v.mu.Unlock()
		switch {
		case ctx.Err() != nil:
			return 0, ctx.Err()
		case closed:
			return 0, ErrIVRClosed
		case ok && bargeIn:
			return k, nil
		}
	}
	return 0, nil
}

// CollectDigits returns up to maxDigits keys, buffered ones first: it waits
// firstTimeout for the first key and interDigit (firstTimeout when ≤ 0)
// for each next one. The terminator key (0 for none) ends the input early
// and is not included. Running out of time is not an error: the keys so
// far are returned, possibly none. When ctx ends first it returns the keys
// so far and ctx.Err().
func (v *IVR) CollectDigits(ctx context.Context, maxDigits int, firstTimeout, interDigit time.Duration, terminator rune) (string, error) {
	if interDigit <= 0 {
		interDigit = firstTimeout
	}
	var digits strings.Builder
	timer := time.NewTimer(firstTimeout)
	defer timer.Stop()
	for n := 0; n < maxDigits; {
		if k, ok := v.takeKey(); ok {
			if terminator != 0 && k == terminator {
				break
			}
			digits.WriteRune(k)
			n++
			timer.Reset(interDigit)
			continue
		}
		select {
		case <-v.keyCh:
		case <-timer.C:
			return digits.String(), nil
		case <-ctx.Done():
			return digits.String(), ctx.Err()
		case <-v.done:
			return digits.String(), ErrIVRClosed
		}
	}
	return digits.String(), nil
}

// SendDigit sends key to the peer as an RFC 4733 telephone-event lasting
// duration, with the peer's event payload type, paced at 20 ms. It blocks
// until sent. Do not send while a prompt plays: the two would interleave in
// the leg's stream.
func (v *IVR) SendDigit(ctx context.Context, key rune, duration time.Duration) error {
	r := v.leg.Remote()
	if r.EventPT == 0 {
		return fmt.Errorf("send digit %q: the peer did not negotiate telephone-event", key)
	}
	packets, err := dtmf.Encode(key, duration, digitVolume)
	if err != nil {
		return fmt.Errorf("send digit: %w", err)
	}
	var pkt [rtpHeaderMin + 4]byte
	ssrc, seq, ts := rand.Uint32(), uint16(rand.Uint32()), rand.Uint32()
	tick := time.NewTicker(schedInterval)
	defer tick.Stop()
	for i, p := range packets {
		// Every 20 ms, except the repeated end packets, which go back to back.
		if i > 0 && !packets[i-1].End {
			select {
			case <-tick.C:
			case <-ctx.Done():
				return ctx.Err()
			case <-v.done:
				return ErrIVRClosed
			}
		}
		pkt[0] = 0x80
		pkt[1] = r.EventPT
		if p.Marker {
			pkt[1] |= 0x80
		}
		binary.BigEndian.PutUint16(pkt[2:], seq)
		binary.BigEndian.PutUint32(pkt[4:], ts) // the event's start, in every packet
		binary.BigEndian.PutUint32(pkt[8:], ssrc)
		copy(pkt[rtpHeaderMin:], p.Payload[:])
		seq++
		if err := v.leg.WriteRTP(pkt[:]); err != nil {
			return fmt.Errorf("send digit %q: %w", key, err)
		}
	}
	return nil
}

func isG711(codec string) bool { return codec == "PCMA" || codec == "PCMU" }

// decodeG711 decodes payload into dst (as much as fits) and returns the
// number of samples.
func decodeG711(dst []int16, payload []byte, codec string) int {
	n := min(len(dst), len(payload))
	if codec == "PCMA" {
		for i, b := range payload[:n] {
			dst[i] = g711.DecodeAlawFrame(b)
		}
	} else {
		for i, b := range payload[:n] {
			dst[i] = g711.DecodeUlawFrame(b)
		}
	}
	return n
}
