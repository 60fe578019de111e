package media

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Why a recording stopped (RecordResult.StoppedBy).
const (
	StoppedByKey       = "key"
	StoppedByMaxLength = "max-length"
	StoppedBySilence   = "silence"
	StoppedByHangup    = "hangup"
	StoppedByError     = "error"
)

const (
	// recordJitterDepth is how many packets the recorder waits for a
	// missing one (60 ms at 20 ms per packet): enough for the reordering of
	// real networks, short enough that a stop key cuts little speech.
	recordJitterDepth = 3
	// silenceRMS is the level below which a frame counts as silence for
	// silenceTimeout: about -42 dBFS, above the noise floor of phones and
	// trunks (-50 to -60 dBFS) and well below speech (-15 to -30 dBFS).
	silenceRMS = 260
	// maxLengthGrace lets the last packets of a recording that reached its
	// maximum length arrive through the jitter buffer before the wall-clock
	// backstop ends it (the backstop matters when the caller sends nothing).
	maxLengthGrace = 250 * time.Millisecond
)

// RecordResult says how a recording went.
type RecordResult struct {
	// Duration is the audio this recording added to the file.
	Duration time.Duration
	// StoppedBy is one of the StoppedBy… reasons.
	StoppedBy string
}

// recording is the state of one Record, fed on the leg's reader goroutine
// (under IVR.mu) and read by Record's goroutine once it is over.
type recording struct {
	w          *WAVWriter
	jb         *JitterBuffer
	codec      string // the leg's codec as of the last packet
	stopKeys   string
	maxSamples int64 // 0: no limit
	written    int64
	full       bool // maxSamples reached: write no more
	err        error
	pcm        [maxJitterPayload]int16
	lastSound  atomic.Int64 // unix nanoseconds of the last frame above silenceRMS

	stopOnce sync.Once
	reason   string // set once, by signal
	stop     chan struct{}
}

// signal ends the recording for reason, unless it already ended.
func (r *recording) signal(reason string) {
	r.stopOnce.Do(func() {
		r.reason = reason
		close(r.stop)
	})
}

// emit is the jitter buffer's output: packets decoded to PCM, or silence
// for what was lost. It runs under IVR.mu and does not allocate.
func (r *recording) emit(payload []byte, silence int) {
	for !r.full && r.err == nil && (silence > 0 || payload != nil) {
		var chunk []int16
		if payload != nil {
			chunk = r.pcm[:decodeG711(r.pcm[:], payload, r.codec)]
			if loud(chunk) {
				r.lastSound.Store(time.Now().UnixNano())
			}
			payload = nil
		} else {
			n := min(silence, len(r.pcm))
			chunk = r.pcm[:n]
			clear(chunk)
			silence -= n
		}
		if r.maxSamples > 0 && r.written+int64(len(chunk)) >= r.maxSamples {
			chunk = chunk[:r.maxSamples-r.written]
			r.full = true
		}
		if err := r.w.Write(chunk); err != nil {
			r.err = err
			r.signal(StoppedByError)
			return
		}
		r.written += int64(len(chunk))
		if r.full {
			r.signal(StoppedByMaxLength)
		}
	}
}

// loud reports whether a frame's RMS level reaches silenceRMS.
func loud(samples []int16) bool {
	if len(samples) == 0 {
		return false
	}
	var sum int64
	for _, s := range samples {
		sum += int64(s) * int64(s)
	}
	return sum >= silenceRMS*silenceRMS*int64(len(samples))
}

// Record records the caller into w until a key of stopKeys is pressed (it
// is consumed; other keys stay buffered), maxLength of audio is recorded,
// silenceTimeout passes without sound (no packet above about -42 dBFS; 0
// disables), or ctx ends, which is the caller hanging up and not an error.
// Keys buffered before Record are discarded, so the key that skipped a
// greeting does not end the recording at once.
//
// Packets go through a jitter buffer (order, duplicates, lost packets as
// silence) and are decoded from the leg's G.711 codec. Record flushes w
// (so the file is complete up to here) but does not close it. The error
// is that of writing w, if any.
func (v *IVR) Record(ctx context.Context, w *WAVWriter, stopKeys string, maxLength, silenceTimeout time.Duration) (RecordResult, error) {
	rec := &recording{w: w, stopKeys: stopKeys, stop: make(chan struct{})}
	if maxLength > 0 {
		rec.maxSamples = int64(maxLength * pcmRate / time.Second)
	}
	rec.jb = NewJitterBuffer(recordJitterDepth, rec.emit)
	start := time.Now()
	rec.lastSound.Store(start.UnixNano())

	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return RecordResult{}, ErrIVRClosed
	}
	v.keyHead, v.keyN = 0, 0
	v.rec = rec
	v.mu.Unlock()

	// One timer for both wall-clock limits, set to whichever comes first.
	next := func(now time.Time) time.Duration {
		d := time.Duration(1<<63 - 1)
		if maxLength > 0 {
			d = start.Add(maxLength + maxLengthGrace).Sub(now)
		}
		if silenceTimeout > 0 {
			d = min(d, time.Unix(0, rec.lastSound.Load()).Add(silenceTimeout).Sub(now))
		}
		return max(d, 0)
	}
	timer := time.NewTimer(next(start))
	defer timer.Stop()
	for stopped := false; !stopped; {
		select {
		case <-rec.stop:
			stopped = true
		case <-ctx.Done():
			rec.signal(StoppedByHangup)
			stopped = true
		case <-timer.C:
			now := time.Now()
			switch {
			case maxLength > 0 && !now.Before(start.Add(maxLength+maxLengthGrace)):
				rec.signal(StoppedByMaxLength)
				stopped = true
			case silenceTimeout > 0 && !now.Before(time.Unix(0, rec.lastSound.Load()).Add(silenceTimeout)):
				rec.signal(StoppedBySilence)
				stopped = true
			default:
				timer.Reset(next(now))
			}
		}
	}

	// Take the recording back from the reader goroutine, and write what
	// the jitter buffer still holds.
	v.mu.Lock()
	if v.rec == rec {
		v.rec = nil
	}
	rec.jb.Flush()
	v.mu.Unlock()
	err := rec.err
	if ferr := w.Flush(); ferr != nil && err == nil {
		err = ferr
	}
	return RecordResult{Duration: time.Duration(rec.written) * time.Second / pcmRate, StoppedBy: rec.reason}, err
}
