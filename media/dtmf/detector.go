package dtmf

import (
	"math"
	"strings"
)

// keypad lays the keys out as on the phone: the row tone picks the line,
// the column tone the position in it.
//
//	        1209 1336 1477 1633 Hz
//	697 Hz    1    2    3    A
//	770 Hz    4    5    6    B
//	852 Hz    7    8    9    C
//	941 Hz    *    0    #    D
const keypad = "123A456B789C*0#D"

const (
	sampleRate = 8000

	// windowSize is the Goertzel window: 12.75 ms, whose 78 Hz bins are
	// narrow enough to tell the row tones (73-89 Hz apart) from each other.
	windowSize = 102
	// hop is the step between windows. Half a window: overlapping windows
	// measure how long a tone lasts to within 6.4 ms.
	hop = windowSize / 2

	// hitsToStart consecutive windows with the same key start it. They span
	// 255 samples (32 ms): a 40 ms tone always holds four whole windows,
	// while speech seldom keeps two pure harmonics at a row and a column
	// frequency that long.
	hitsToStart = 4
	// missesToEnd consecutive windows without the key end it, so a window
	// spoiled by noise inside a long press does not report the key twice;
	// a 40 ms gap holds at least four whole windows.
	missesToEnd = 3

	// historySize keeps the samples of the windows that start a key, for
	// the frequency check.
	historySize = windowSize + (hitsToStart-1)*hop

	// dBm0Amplitude is the amplitude of a 0 dBm0 sine in 16-bit linear PCM
	// (G.711 µ-law full scale is +3.17 dBm0).
	dBm0Amplitude = 22700
	// minAmplitude is the weakest tone accepted: -30 dBm0 per frequency
	// (10^(-30/20) of 0 dBm0), 10 dB below the -20 dBm0 we promise and
	// well above the noise of a quiet line.
	minAmplitude = dBm0Amplitude * 0.0316227766
	// minEnergy is the Goertzel energy of minAmplitude over a window: a
	// sine of amplitude A gives (A·N/2)².
	minEnergy = minAmplitude * minAmplitude * windowSize * windowSize / 4

	// maxRowOverCol and maxColOverRow bound the twist, as power ratios: the
	// row (low) tone may be up to 8 dB stronger than the column tone, which
	// may be up to 4 dB stronger than the row (the usual "normal" and
	// "reverse" twist limits, as in Asterisk and spandsp).
	maxRowOverCol = 6.31
	maxColOverRow = 2.51

	// minPeakRatio is how much the chosen row (column) must stand above the
	// other rows (columns): 6 dB. Not more: the sidelobes of a strong row
	// tone 1.5 % off, with 6 dB of twist, reach 7 dB under a column tone.
	minPeakRatio = 4.0

	// minToneShare is the share of the window's power the two tones must
	// hold. Speech and music spread their power over many frequencies; a
	// DTMF window keeps nearly all of it in two (95 % through G.711). Not
	// more: a 1633 Hz tone 1.5 % off loses a quarter of its power in the
	// filter, and the window's phase costs some more.
	minToneShare = 0.74

	// maxHarmonicRatio bounds the column tone's second harmonic (-12 dB).
	// Voiced speech and instruments are rich in harmonics, a DTMF generator
	// is not. The row tones' harmonics (1394-1882 Hz) fall too close to the
	// column tones to be measured in a 102-sample window, so only the
	// column is checked.
	maxHarmonicRatio = 0.063

	// guardOffset places a pair of guard filters this fraction below and
	// above each tone, checked over the 32 ms that start a key, whose 31 Hz
	// bins resolve finer than one window's: a tone nearer a guard than its
	// nominal frequency, more than half of guardOffset (2 %) off, is not
	// DTMF. ITU-T Q.24 asks receivers to accept 1.5 % and reject 3.5 %;
	// the tight limit also rejects voiced speech whose harmonics happen to
	// fall 2-3 % from a row and a column.
	guardOffset = 0.04
)

// filterBank holds the Goertzel coefficients, 2·cos(2πf/fs), of every
// frequency the detector looks at.
type filterBank struct {
	row, col        [4]float32
	rowLow, rowHigh [4]float32
	colLow, colHigh [4]float32
	colHarmonic     [4]float32
}

func newFilterBank() filterBank {
	rows := [4]float64{697, 770, 852, 941}
	cols := [4]float64{1209, 1336, 1477, 1633}
	var b filterBank
	for i := range 4 {
		b.row[i] = coefficient(rows[i])
		b.rowLow[i] = coefficient(rows[i] * (1 - guardOffset))
		b.rowHigh[i] = coefficient(rows[i] * (1 + guardOffset))
		b.col[i] = coefficient(cols[i])
		b.colLow[i] = coefficient(cols[i] * (1 - guardOffset))
		b.colHigh[i] = coefficient(cols[i] * (1 + guardOffset))
		b.colHarmonic[i] = coefficient(2 * cols[i])
	}
	return b
}

func coefficient(freq float64) float32 {
	return float32(2 * math.Cos(2*math.Pi*freq/sampleRate))
}

// Detector finds DTMF keys in the audio itself (in-band), for trunks that
// send no telephone-events: 8 kHz 16-bit linear PCM, as decoded from G.711.
// Windows of 102 samples, every 51 samples, go through Goertzel filters at
// the eight DTMF frequencies and must pass the usual checks: both tones
// present at -30 dBm0 or more, twist within +8/-4 dB, each tone 6 dB above
// the other rows or columns, nearly all the window's power in the two tones
// and a weak second harmonic. A key starts when four windows in a row (32
// ms) agree and both tones are within 2 % of their frequency over them; it
// ends after three windows without it. So a key is reported once however
// long it is held, and again after a gap.
//
// Create one with NewDetector (the zero value also works). A Detector is
// not safe for concurrent use.
type Detector struct {
	bank filterBank
	// history holds the last historySize samples, the newest at the end;
	// n of the newest hop samples are filled.
	history [historySize]float32
	n       int

	key    rune // key being held, 0 when none
	cand   rune // key (or 0) of the last windows
	hits   int  // consecutive windows with cand
	misses int  // consecutive windows without key
}

// NewDetector returns a detector with no key held.
func NewDetector() *Detector {
	return &Detector{bank: newFilterBank()}
}

// Reset forgets the audio seen so far, as after a gap in the stream.
func (d *Detector) Reset() {
	*d = Detector{bank: d.bank}
}

// Process feeds samples, continuing the audio of the previous call, and
// calls emit for each key that starts in them. It does not allocate.
func (d *Detector) Process(samples []int16, emit func(key rune)) {
	if d.bank.row[0] == 0 {
		d.bank = newFilterBank()
	}
	for len(samples) > 0 {
		m := copyFloat(d.history[historySize-hop+d.n:], samples)
		d.n += m
		samples = samples[m:]
		if d.n < hop {
			return
		}
		d.n = 0
		d.step(d.bank.classify(d.history[historySize-windowSize:]), emit)
		copy(d.history[:], d.history[hop:])
	}
}

func copyFloat(dst []float32, src []int16) int {
	n := min(len(dst), len(src))
	for i := range n {
		dst[i] = float32(src[i])
	}
	return n
}

// step runs the hysteresis on one window's verdict k (0 for no key).
func (d *Detector) step(k rune, emit func(rune)) {
	if k == d.cand {
		d.hits++
	} else {
		d.cand, d.hits = k, 1
	}
	if d.key != 0 {
		if k == d.key {
			d.misses = 0
			return
		}
		d.misses++
		if d.misses < missesToEnd {
			return
		}
		d.key = 0
	}
	if k != 0 && d.hits >= hitsToStart && d.bank.inTune(d.history[:], k) {
		d.key, d.misses = k, 0
		emit(k)
	}
}

// classify returns the key whose tones fill window, or 0.
func (b *filterBank) classify(window []float32) rune {
	var total float32
	for _, v := range window {
		total += v * v
	}
	// No filter can give more than N·total (Cauchy-Schwarz): a quiet
	// window, the usual case while a prompt plays, needs no filtering.
	if total*windowSize < minEnergy {
		return 0
	}
	rows, cols := b.filter(window)
	r, c := strongest(&rows), strongest(&cols)
	rp, cp := rows[r], cols[c]
	if rp < minEnergy || cp < minEnergy {
		return 0
	}
	if rp > cp*maxRowOverCol || cp > rp*maxColOverRow {
		return 0
	}
	for i := range 4 {
		if i != r && rows[i]*minPeakRatio > rp {
			return 0
		}
		if i != c && cols[i]*minPeakRatio > cp {
			return 0
		}
	}
	// A sine holding all of total would give Goertzel energy total·N/2.
	if rp+cp < minToneShare*total*windowSize/2 {
		return 0
	}
	if goertzel(b.colHarmonic[c], window) > cp*maxHarmonicRatio {
		return 0
	}
	return rune(keypad[r*4+c])
}

// inTune reports whether both tones of key in samples are nearer their
// nominal frequencies than the guard filters beside them.
func (b *filterBank) inTune(samples []float32, key rune) bool {
	i := strings.IndexRune(keypad, key)
	r, c := i/4, i%4
	rp, cp := goertzel(b.row[r], samples), goertzel(b.col[c], samples)
	return goertzel(b.rowLow[r], samples) < rp && goertzel(b.rowHigh[r], samples) < rp &&
		goertzel(b.colLow[c], samples) < cp && goertzel(b.colHigh[c], samples) < cp
}

// filter runs the eight DTMF Goertzel filters over window in one pass:
// their independent recurrences run side by side, four times faster than
// one filter after the other.
func (b *filterBank) filter(window []float32) (rows, cols [4]float32) {
	r0, r1, r2, r3 := b.row[0], b.row[1], b.row[2], b.row[3]
	c0, c1, c2, c3 := b.col[0], b.col[1], b.col[2], b.col[3]
	var a0, a1, a2, a3, a4, a5, a6, a7 float32 // s[n-1] of each filter
	var z0, z1, z2, z3, z4, z5, z6, z7 float32 // s[n-2]
	for _, x := range window {
		a0, z0 = x+r0*a0-z0, a0
		a1, z1 = x+r1*a1-z1, a1
		a2, z2 = x+r2*a2-z2, a2
		a3, z3 = x+r3*a3-z3, a3
		a4, z4 = x+c0*a4-z4, a4
		a5, z5 = x+c1*a5-z5, a5
		a6, z6 = x+c2*a6-z6, a6
		a7, z7 = x+c3*a7-z7, a7
	}
	rows = [4]float32{
		a0*a0 + z0*z0 - r0*a0*z0, a1*a1 + z1*z1 - r1*a1*z1,
		a2*a2 + z2*z2 - r2*a2*z2, a3*a3 + z3*z3 - r3*a3*z3,
	}
	cols = [4]float32{
		a4*a4 + z4*z4 - c0*a4*z4, a5*a5 + z5*z5 - c1*a5*z5,
		a6*a6 + z6*z6 - c2*a6*z6, a7*a7 + z7*z7 - c3*a7*z7,
	}
	return rows, cols
}

func strongest(e *[4]float32) int {
	best := 0
	for i := 1; i < 4; i++ {
		if e[i] > e[best] {
			best = i
		}
	}
	return best
}

// goertzel returns the energy of samples at the frequency of coef.
func goertzel(coef float32, samples []float32) float32 {
	var s1, s2 float32
	for _, x := range samples {
		s1, s2 = x+coef*s1-s2, s1
	}
	return s1*s1 + s2*s2 - coef*s1*s2
}
