package media

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zaf/g711"
)

// The fixtures are 250 ms of a 1 kHz sine peaking at -6 dBFS, made by
// testdata/wav/generate.sh.
const (
	fixtureDuration = 250 * time.Millisecond
	fixtureRMSdB    = -9.03 // a sine's RMS is 3.01 dB below its peak
)

func TestDecodeWAVFormats(t *testing.T) {
	tests := []struct {
		file   string
		wantDB float64
	}{
		{"pcm8000-mono.wav", fixtureRMSdB},
		{"pcm8000-stereo.wav", fixtureRMSdB},
		{"pcm16000-mono.wav", fixtureRMSdB},
		{"pcm16000-stereo.wav", fixtureRMSdB},
		{"pcm22050-mono.wav", fixtureRMSdB},
		{"pcm22050-stereo.wav", fixtureRMSdB},
		{"pcm44100-mono.wav", fixtureRMSdB},
		{"pcm44100-stereo.wav", fixtureRMSdB},
		{"pcm44100-left.wav", fixtureRMSdB - 6.02}, // the silent right channel halves the mix
		{"pcm48000-mono.wav", fixtureRMSdB},
		{"pcm48000-stereo.wav", fixtureRMSdB},
		{"pcm48000-3ch.wav", fixtureRMSdB}, // WAVE_FORMAT_EXTENSIBLE
		{"alaw8000-mono.wav", fixtureRMSdB},
		{"alaw8000-stereo.wav", fixtureRMSdB},
		{"ulaw8000-mono.wav", fixtureRMSdB},
		{"ulaw16000-mono.wav", fixtureRMSdB},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			p, err := LoadPrompt(filepath.Join("testdata", "wav", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			// Rates that do not divide evenly give one sample more.
			if d := p.Duration() - fixtureDuration; d < 0 || d > time.Millisecond {
				t.Errorf("duration %v, want %v", p.Duration(), fixtureDuration)
			}
			for _, codec := range []string{"PCMA", "PCMU"} {
				pcm := decodePayload(t, p.Payload(codec), codec)
				// Skip the filter's edges and the sine's first and last cycle.
				mid := pcm[80 : len(pcm)-80]
				if got := rmsDB(mid); math.Abs(got-tt.wantDB) > 0.2 {
					t.Errorf("%s: RMS %.2f dBFS, want %.2f", codec, got, tt.wantDB)
				}
				if got := toneDB(mid, 1000); math.Abs(got-tt.wantDB) > 0.2 {
					t.Errorf("%s: 1 kHz at %.2f dBFS, want %.2f", codec, got, tt.wantDB)
				}
			}
		})
	}
}

func TestDecodeWAVErrors(t *testing.T) {
	fixture := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "wav", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	pcm := fixture("pcm8000-mono.wav")
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"24-bit", fixture("pcm24.wav"), "24-bit PCM is not supported"},
		{"float", fixture("float32.wav"), "32-bit float samples are not supported"},
		{"8-bit", fixture("pcm8bit.wav"), "8-bit PCM is not supported"},
		{"mp3 with id3", append([]byte("ID3\x04\x00\x00\x00\x00\x00\x00"), make([]byte, 100)...), "this is an MP3 file"},
		{"mp3 frame", append([]byte{0xff, 0xfb, 0x90, 0x64}, make([]byte, 100)...), "this is an MP3 file"},
		{"mp3 in wav", withFormat(pcm, wavFormatMP3, 1, 8000, 16), "MP3 audio inside WAV is not supported"},
		{"ogg", []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00"), "Ogg"},
		{"text", []byte("hello, this is not audio"), "not a WAV file"},
		{"empty", nil, "empty file"},
		{"cut in riff header", pcm[:8], "truncated riff header"},
		{"cut in fmt chunk", pcm[:30], "truncated fmt chunk"},
		{"cut before data", pcm[:36], "no data chunk"},
		{"cut in data", pcm[:2000], "truncated: data chunk declares 4000 bytes, file has 1956"},
		{"no samples", setU32(pcm[:44], 40, 0), "no audio samples"},
		{"nine channels", withFormat(pcm, wavFormatPCM, 9, 8000, 16), "9 channels are not supported"},
		{"4 kHz", withFormat(pcm, wavFormatPCM, 1, 4000, 16), "sample rate 4000 Hz is not supported"},
		{"bad block align", setU16(pcm, 32, 4), "block align 4 does not match"},
		{"unknown format", withFormat(pcm, 0x0011, 1, 8000, 16), "audio format 0x0011 is not supported"},
		{"data before fmt", dataFirst(pcm), "data chunk before fmt chunk"},
		{"huge fmt", setU32(pcm, 16, 1<<30), "fmt chunk of 1073741824 bytes is invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeWAV(bytes.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestLoadPromptErrorNamesFile(t *testing.T) {
	path := filepath.Join("testdata", "wav", "pcm24.wav")
	_, err := LoadPrompt(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "24-bit") {
		t.Errorf("LoadPrompt(%q) error = %v, want the path and the reason", path, err)
	}
	missing := filepath.Join(t.TempDir(), "missing.wav")
	if _, err := LoadPrompt(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("LoadPrompt(%q) error = %v, want the path", missing, err)
	}
}

// TestDecodeWAVOddChunks checks chunks before the data (LIST, odd sizes
// with their pad byte) and a data size of 0xffffffff (streamed WAV).
func TestDecodeWAVOddChunks(t *testing.T) {
	pcm, err := os.ReadFile(filepath.Join("testdata", "wav", "pcm8000-mono.wav"))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.Write(pcm[:36])
	b.WriteString("LIST")
	binary.Write(&b, binary.LittleEndian, uint32(5))
	b.WriteString("INFOx\x00") // 5 bytes and a pad byte
	b.Write(pcm[36:40])
	binary.Write(&b, binary.LittleEndian, uint32(wavDataToEOF))
	b.Write(pcm[44:])
	b.WriteByte(0x55) // half a sample: ignored
	p, err := DecodeWAV(&b)
	if err != nil {
		t.Fatal(err)
	}
	if p.Duration() != fixtureDuration {
		t.Errorf("duration %v, want %v", p.Duration(), fixtureDuration)
	}
}

// TestResampleQuality checks the anti-aliasing filter: a 1 kHz tone keeps
// its frequency and level, a 6 kHz tone (beyond the 4 kHz of the output)
// does not fold back to 2 kHz, and the voice band is flat.
func TestResampleQuality(t *testing.T) {
	const amp = 0.5 // -6 dBFS peak
	// 12345 Hz is an odd rate, resampled with rounded phases.
	for _, rate := range []int{11025, 12345, 16000, 22050, 32000, 44100, 48000, 96000} {
		t.Run(strconv.Itoa(rate), func(t *testing.T) {
			level := func(freq float64) (at, alias float64) {
				out, err := resample(sine(freq, amp, rate, rate), rate, pcmRate)
				if err != nil {
					t.Fatal(err)
				}
				if len(out) != pcmRate {
					t.Fatalf("%d samples out, want %d", len(out), pcmRate)
				}
				mid := out[2000:6000] // away from the edges; 4000 samples = 2 Hz bins
				aliasFreq := math.Abs(pcmRate*math.Round(freq/pcmRate) - freq)
				return toneDB(mid, freq), toneDB(mid, aliasFreq)
			}
			want := 20*math.Log10(amp) - 3.01
			for _, f := range []float64{300, 1000, 3000} {
				if got, _ := level(f); math.Abs(got-want) > 0.1 {
					t.Errorf("%v Hz: %.2f dBFS after resampling, want %.2f", f, got, want)
				}
			}
			// Frequency kept: the 1 kHz energy is in the 1 kHz bin, not next to it.
			out, _ := resample(sine(1000, amp, rate, rate), rate, pcmRate)
			if on, off := toneDB(out[2000:6000], 1000), toneDB(out[2000:6000], 1010); on-off < 60 {
				t.Errorf("1 kHz: %.1f dB at 1000 Hz, %.1f dB at 1010 Hz: frequency moved", on, off)
			}
			if rate > 12000 {
				// 6 kHz is above the output's Nyquist frequency and
				// would alias to 2 kHz.
				if _, alias := level(6000); alias > -30+want {
					t.Errorf("6 kHz aliased to 2 kHz at %.1f dBFS, want below %.1f", alias, -30+want)
				}
			}
		})
	}
}

// FuzzDecodeWAV: no input panics, and what is accepted has a duration
// that the input's size can hold.
func FuzzDecodeWAV(f *testing.F) {
	for _, dir := range []string{filepath.Join("testdata", "wav"), "prompts"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.wav"))
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			if len(b) > 8000 {
				b = b[:8000] // a truncated data chunk: still a good seed
			}
			f.Add(b)
		}
	}
	f.Add([]byte("RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00\x01\x00\x40\x1f\x00\x00\x80\x3e\x00\x00\x02\x00\x10\x00data\xff\xff\xff\xff\x01\x02\x03\x04"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeWAV(bytes.NewReader(b))
		if err != nil {
			if p != nil {
				t.Fatal("prompt and error")
			}
			return
		}
		n := len(p.Payload("PCMA"))
		if n == 0 || n != len(p.Payload("PCMU")) {
			t.Fatalf("payload lengths %d and %d", n, len(p.Payload("PCMU")))
		}
		// Every input sample is at least a byte at 8 kHz or more, so the
		// output cannot be longer than the input (plus rounding).
		if n > len(b)+1 {
			t.Fatalf("%d samples from %d bytes", n, len(b))
		}
		if p.Duration() != time.Duration(n)*time.Second/pcmRate {
			t.Fatalf("duration %v for %d samples", p.Duration(), n)
		}
	})
}

func TestPromptFromPCM(t *testing.T) {
	samples := sine(1000, 0.25, pcmRate, 4000)
	p := PromptFromPCM(samples)
	if p.Duration() != 500*time.Millisecond {
		t.Errorf("duration %v, want 500ms", p.Duration())
	}
	for _, codec := range []string{"PCMA", "PCMU"} {
		got := decodePayload(t, p.Payload(codec), codec)
		// A 1 kHz tone at 8 kHz hits only 8 sample values, so its G.711
		// quantization error does not average out: allow 0.2 dB.
		if math.Abs(rmsDB(got)-rmsDB(samples)) > 0.2 {
			t.Errorf("%s: RMS %.2f dBFS, want %.2f", codec, rmsDB(got), rmsDB(samples))
		}
	}
	if p.Payload("G722") != nil || p.Payload("") != nil {
		t.Error("payload for a codec that is not G.711")
	}
}

// withFormat returns a copy of a canonical 44-byte-header WAV with another
// format tag, channel count, rate and bit depth (block align to match).
func withFormat(wav []byte, tag uint16, channels, rate, bits int) []byte {
	b := bytes.Clone(wav)
	binary.LittleEndian.PutUint16(b[20:], tag)
	binary.LittleEndian.PutUint16(b[22:], uint16(channels))
	binary.LittleEndian.PutUint32(b[24:], uint32(rate))
	binary.LittleEndian.PutUint16(b[32:], uint16(channels*bits/8))
	binary.LittleEndian.PutUint16(b[34:], uint16(bits))
	return b
}

func setU16(b []byte, off int, v uint16) []byte {
	b = bytes.Clone(b)
	binary.LittleEndian.PutUint16(b[off:], v)
	return b
}

func setU32(b []byte, off int, v uint32) []byte {
	b = bytes.Clone(b)
	binary.LittleEndian.PutUint32(b[off:], v)
	return b
}

// dataFirst moves the data chunk of a canonical WAV before its fmt chunk.
func dataFirst(wav []byte) []byte {
	var b bytes.Buffer
	b.Write(wav[:12])
	b.Write(wav[36:])
	b.Write(wav[12:36])
	return b.Bytes()
}

// sine returns n samples of a sine of freq Hz at rate, peaking at amp
// (full scale = 1).
func sine(freq, amp float64, rate, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16(math.Round(amp * 32767 * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))))
	}
	return s
}

// rmsDB is the RMS level in dBFS (a full-scale square wave is 0 dBFS).
func rmsDB(s []int16) float64 {
	var sum float64
	for _, v := range s {
		sum += float64(v) * float64(v)
	}
	return 10 * math.Log10(sum/float64(len(s))/(32768*32768))
}

// toneDB is the level of the freq Hz component of 8 kHz samples, in dBFS
// RMS, by a single-bin DFT with a Hann window (corrected for its gain).
func toneDB(s []int16, freq float64) float64 {
	var re, im float64
	n := float64(len(s))
	for i, v := range s {
		w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/n)
		a := 2 * math.Pi * freq * float64(i) / pcmRate
		re += w * float64(v) * math.Cos(a)
		im -= w * float64(v) * math.Sin(a)
	}
	peak := 2 * math.Hypot(re, im) / (n * 0.5)
	return 20 * math.Log10(peak/math.Sqrt2/32768)
}

// decodePayload decodes a G.711 payload back to PCM.
func decodePayload(t testing.TB, b []byte, codec string) []int16 {
	t.Helper()
	if b == nil {
		t.Fatalf("no %s payload", codec)
	}
	out := make([]int16, len(b))
	for i, v := range b {
		if codec == "PCMA" {
			out[i] = g711.DecodeAlawFrame(v)
		} else {
			out[i] = g711.DecodeUlawFrame(v)
		}
	}
	return out
}
