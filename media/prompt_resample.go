package media

import (
	"fmt"
	"math"
)

// Resampling filter: a low-pass FIR built from a Kaiser-windowed sinc,
// evaluated in polyphase form (one set of taps per fractional input
// position). It is designed for telephony rather than hi-fi: flat up to
// 85% of the output's Nyquist frequency (3.4 kHz at 8 kHz, the G.711 voice
// band), cut off at 92.5% (3.7 kHz) and at least resampleStopbandDB down
// from the Nyquist frequency on, so nothing above 4 kHz folds back into
// the band as aliasing. Kaiser's formulas give the window's β and the
// filter length from the attenuation and the transition width; at 44.1 kHz
// that is about 370 taps, which costs a fraction of a second per minute of
// audio, paid once when a prompt is loaded.
const (
	resamplePassband   = 0.85 // of the output Nyquist frequency
	resampleStopbandDB = 80.0
	resampleMaxPhases  = 512
)

// resample converts x from rate in to rate out, with in ≥ out (prompts
// are only ever converted down to 8 kHz).
func resample(x []int16, in, out int) ([]int16, error) {
	switch {
	case in == out:
		return append([]int16(nil), x...), nil
	case in < out || out <= 0:
		return nil, fmt.Errorf("cannot resample %d Hz to %d Hz (only down)", in, out)
	}
	g := gcd(in, out)
	up, down := int64(out/g), int64(in/g) // output k sits at input position k·down/up
	// One filter phase per distinct fractional position: exact for every
	// common rate (44.1 kHz needs 80 phases, 11.025 kHz 320); an odd rate
	// is rounded to the nearest of resampleMaxPhases positions, a timing
	// error of under 1/1000 of a sample.
	phases := min(up, resampleMaxPhases)
	taps, half := resampleTaps(in, out, int(phases))

	// The output covers the input: the last output sample is the last one
	// whose position is still inside it.
	n := (int64(len(x))*up + down - 1) / down
	y := make([]int16, n)
	for k := range y {
		pos := (int64(k)*down*phases + up/2) / up // in 1/phases of an input sample
		i, phase := int(pos/phases), int(pos%phases)
		h := taps[phase*2*half : (phase+1)*2*half]
		first := i - half + 1
		var acc float64
		for m, c := range h {
			if j := first + m; j >= 0 && j < len(x) {
				acc += float64(c) * float64(x[j])
			}
		}
		y[k] = clamp16(math.Round(acc))
	}
	return y, nil
}

// resampleTaps returns the polyphase filter: for each of the phases,
// 2·half taps, applied to the input samples i-half+1 … i+half around the
// output position i+phase/phases.
func resampleTaps(in, out, phases int) (taps []float32, half int) {
	nyq := float64(out) / 2
	pass, stop := resamplePassband*nyq, nyq
	fc := (pass + stop) / 2 / float64(in) // cutoff, in cycles per input sample
	dw := 2 * math.Pi * (stop - pass) / float64(in)
	length := (resampleStopbandDB - 8) / (2.285 * dw) // Kaiser's estimate
	half = int(math.Ceil(length / 2))
	window := kaiserWindow(0.1102 * (resampleStopbandDB - 8.7))

	taps = make([]float32, phases*2*half)
	for p := range phases {
		h := taps[p*2*half : (p+1)*2*half]
		sum := 0.0
		coef := make([]float64, len(h))
		for m := range h {
			d := float64(m-half+1) - float64(p)/float64(phases) // distance in input samples
			coef[m] = 2 * fc * sinc(2*fc*d) * window(d/float64(half))
			sum += coef[m]
		}
		// Unity gain at DC for every phase, so the level does not ripple
		// with the fractional position.
		for m := range h {
			h[m] = float32(coef[m] / sum)
		}
	}
	return taps, half
}

// kaiserWindow returns the Kaiser window of parameter beta over [-1, 1]
// (zero outside), interpolated from a table: a filter has up to a million
// taps, and the Bessel function at each would cost more than the rest.
func kaiserWindow(beta float64) func(r float64) float64 {
	const n = 4096 // linear interpolation error below 1e-7
	var table [n + 2]float64
	i0beta := besselI0(beta)
	for i := range n + 1 {
		r := float64(i) / n
		table[i] = besselI0(beta*math.Sqrt(max(1-r*r, 0))) / i0beta
	}
	return func(r float64) float64 {
		r = math.Abs(r)
		if r > 1 {
			return 0
		}
		x := r * n
		i := int(x)
		return table[i] + (x-float64(i))*(table[i+1]-table[i])
	}
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// besselI0 is the modified Bessel function of the first kind, order 0,
// by its power series (which converges fast for the β of a Kaiser window).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; term > 1e-12*sum; k++ {
		f := x / (2 * float64(k))
		term *= f * f
		sum += term
	}
	return sum
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func clamp16(v float64) int16 {
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(v)
}
