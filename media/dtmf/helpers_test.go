package dtmf

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/zaf/g711"
)

var keyFreqs = map[rune][2]float64{
	'1': {697, 1209}, '2': {697, 1336}, '3': {697, 1477}, 'A': {697, 1633},
	'4': {770, 1209}, '5': {770, 1336}, '6': {770, 1477}, 'B': {770, 1633},
	'7': {852, 1209}, '8': {852, 1336}, '9': {852, 1477}, 'C': {852, 1633},
	'*': {941, 1209}, '0': {941, 1336}, '#': {941, 1477}, 'D': {941, 1633},
}

// toneSpec describes a generated key sequence.
type toneSpec struct {
	keys      string
	rowLevel  float64 // dBm0 per frequency
	colLevel  float64
	on, off   int     // samples
	lead      int     // samples of silence before the first key
	deviation float64 // relative frequency error of both tones, e.g. 0.015
}

// generate renders spec as 8 kHz PCM: each key's two sines, then silence.
func generate(spec toneSpec) []int16 {
	out := make([]int16, spec.lead, spec.lead+len(spec.keys)*(spec.on+spec.off))
	ra := dBm0Amplitude * math.Pow(10, spec.rowLevel/20)
	ca := dBm0Amplitude * math.Pow(10, spec.colLevel/20)
	for _, k := range spec.keys {
		f := keyFreqs[k]
		fr, fc := f[0]*(1+spec.deviation), f[1]*(1+spec.deviation)
		for i := range spec.on {
			t := float64(i) / sampleRate
			v := ra*math.Sin(2*math.Pi*fr*t) + ca*math.Sin(2*math.Pi*fc*t)
			out = append(out, int16(math.Round(v)))
		}
		out = append(out, make([]int16, spec.off)...)
	}
	return out
}

// throughG711 returns samples encoded and decoded by the codec, as a trunk
// delivers them.
func throughG711(samples []int16, encode func(int16) uint8, decode func(uint8) int16) []int16 {
	out := make([]int16, len(samples))
	for i, s := range samples {
		out[i] = decode(encode(s))
	}
	return out
}

func alaw(s []int16) []int16 { return throughG711(s, g711.EncodeAlawFrame, g711.DecodeAlawFrame) }
func ulaw(s []int16) []int16 { return throughG711(s, g711.EncodeUlawFrame, g711.DecodeUlawFrame) }

// detect runs a fresh detector over samples in 160-sample frames and
// returns the keys it reports.
func detect(samples []int16) string {
	d := NewDetector()
	var got []rune
	for len(samples) > 0 {
		n := min(160, len(samples))
		d.Process(samples[:n], func(k rune) { got = append(got, k) })
		samples = samples[n:]
	}
	return string(got)
}

// readWAV reads a mono 8 kHz WAV file of 16-bit PCM, A-law or µ-law samples.
func readWAV(t testing.TB, path string) []int16 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	samples, err := parseWAV(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return samples
}

func parseWAV(b []byte) ([]int16, error) {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, fmt.Errorf("not a wav file")
	}
	var format, channels, bits uint16
	var rate uint32
	for p := 12; p+8 <= len(b); {
		id, size := string(b[p:p+4]), int(binary.LittleEndian.Uint32(b[p+4:]))
		body := b[p+8 : min(len(b), p+8+size)]
		switch id {
		case "fmt ":
			if len(body) < 16 {
				return nil, fmt.Errorf("short fmt chunk")
			}
			format = binary.LittleEndian.Uint16(body)
			channels = binary.LittleEndian.Uint16(body[2:])
			rate = binary.LittleEndian.Uint32(body[4:])
			bits = binary.LittleEndian.Uint16(body[14:])
		case "data":
			if channels != 1 || rate != sampleRate {
				return nil, fmt.Errorf("want mono 8 kHz, got %d channels at %d Hz", channels, rate)
			}
			switch {
			case format == 1 && bits == 16:
				out := make([]int16, len(body)/2)
				for i := range out {
					out[i] = int16(binary.LittleEndian.Uint16(body[2*i:]))
				}
				return out, nil
			case format == 6 && bits == 8:
				return decodeBytes(body, g711.DecodeAlawFrame), nil
			case format == 7 && bits == 8:
				return decodeBytes(body, g711.DecodeUlawFrame), nil
			}
			return nil, fmt.Errorf("unsupported format %d with %d bits", format, bits)
		}
		p += 8 + size + size%2
	}
	return nil, fmt.Errorf("no data chunk")
}

func decodeBytes(b []byte, decode func(uint8) int16) []int16 {
	out := make([]int16, len(b))
	for i, v := range b {
		out[i] = decode(v)
	}
	return out
}
