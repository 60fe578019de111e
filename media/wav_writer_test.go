package media

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ramp returns n samples that tell their position: sample i is i*7 (mod 2^16).
func ramp(from, n int) []int16 {
	s := make([]int16, n)
	for i := range s {
		s[i] = int16((from + i) * 7)
	}
	return s
}

// readPCM reads an 8 kHz mono 16-bit WAV's samples exactly, checking that
// its header sizes match the file.
func readPCM(t *testing.T, path string) []int16 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, data, err := readWAV(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if f.tag != wavFormatPCM || f.channels != 1 || f.rate != pcmRate || f.bits != 16 {
		t.Fatalf("%s: format %+v", path, f)
	}
	if riff := binary.LittleEndian.Uint32(b[4:]); int(riff) != len(b)-8 {
		t.Errorf("%s: RIFF size %d, file has %d bytes", path, riff, len(b))
	}
	s := make([]int16, len(data)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(data[2*i:]))
	}
	return s
}

func TestWAVWriterRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.wav")
	w, err := CreateWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	// Odd chunk sizes, across the one-second buffer boundary.
	want := ramp(0, 20000)
	for rest := want; len(rest) > 0; {
		n := min(len(rest), 333)
		if err := w.Write(rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	if w.Duration() != 2500*time.Millisecond {
		t.Errorf("duration %v, want 2.5s", w.Duration())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := w.Write(want[:1]); err == nil {
		t.Error("Write after Close succeeded")
	}
	if got := readPCM(t, path); !equalSamples(got, want) {
		t.Errorf("read back %d samples, want the %d written", len(got), len(want))
	}
	// And the prompt decoder agrees.
	p, err := LoadPrompt(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Duration() != 2500*time.Millisecond {
		t.Errorf("LoadPrompt: duration %v", p.Duration())
	}
}

// TestWAVWriterFlushesEverySecond checks that a second of audio reaches the
// file, with a valid header, without any Flush.
func TestWAVWriterFlushesEverySecond(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rec.wav")
	w, err := CreateWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := range 51 { // 1.02 s in 20 ms packets
		if err := w.Write(ramp(i*160, 160)); err != nil {
			t.Fatal(err)
		}
	}
	got := readPCM(t, path)
	if len(got) < pcmRate || !equalSamples(got, ramp(0, len(got))) {
		t.Errorf("file holds %d samples after 1.02 s written, want the first %d or more", len(got), pcmRate)
	}
}

// TestRepairWAVAfterKill simulates kill -9 during a recording: the file is
// copied as it is on disk, without Close. RepairWAV must recover everything
// up to the last flush, even when the crash came between writing the audio
// and patching the header.
func TestRepairWAVAfterKill(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "rec.wav")
	w, err := CreateWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	written := ramp(0, 12000) // 1.5 s: one automatic flush
	if err := w.Write(written[:10000]); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	flushed := 10000
	if err := w.Write(written[10000:]); err != nil { // buffered, lost in the crash
		t.Fatal(err)
	}

	disk, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		image []byte
		want  int // samples recovered
	}{
		{"as flushed", disk, flushed},
		{"header not patched", setU32(setU32(disk, 4, 36), 40, 0), flushed},
		{"half a sample written", append(bytes.Clone(disk), 0x12), flushed},
		{"header of a longer file", setU32(disk, 40, 1<<30), flushed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			crashed := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".wav")
			writeFile(t, crashed, tt.image)
			d, err := RepairWAV(crashed)
			if err != nil {
				t.Fatal(err)
			}
			if want := time.Duration(tt.want) * time.Second / pcmRate; d != want {
				t.Errorf("duration %v, want %v", d, want)
			}
			if got := readPCM(t, crashed); !equalSamples(got, written[:tt.want]) {
				t.Errorf("recovered %d samples, want the first %d written", len(got), tt.want)
			}
			// Repairing again changes nothing.
			if d2, err := RepairWAV(crashed); err != nil || d2 != d {
				t.Errorf("second repair: %v, %v", d2, err)
			}
		})
	}
}

func TestRepairWAVErrors(t *testing.T) {
	dir := t.TempDir()
	pcm, err := os.ReadFile(filepath.Join("testdata", "wav", "pcm8000-mono.wav"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "too short for a wav header"},
		{"cut in header", pcm[:40], "too short for a wav header"},
		{"not wav", bytes.Repeat([]byte("x"), 100), "not a wav file"},
		{"24-bit", mustRead(t, filepath.Join("testdata", "wav", "pcm24.wav")), "24-bit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".wav")
			writeFile(t, path, tt.in)
			_, err := RepairWAV(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("got %v, want an error naming the file and containing %q", err, tt.want)
			}
		})
	}
	if _, err := RepairWAV(filepath.Join(dir, "missing.wav")); err == nil {
		t.Error("missing file repaired")
	}
}

func TestWAVWriterWriteDoesNotAllocate(t *testing.T) {
	w, err := CreateWAV(filepath.Join(t.TempDir(), "rec.wav"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	frame := ramp(0, 160)
	if n := testing.AllocsPerRun(500, func() {
		if err := w.Write(frame); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Write: %v allocations per frame, want 0", n)
	}
}

func equalSamples(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRepairWAVAfterRealKill records in a child process (this test binary
// run again) that is killed with SIGKILL after a flush, then repairs what
// it left on disk.
func TestRepairWAVAfterRealKill(t *testing.T) {
	if path := os.Getenv("CENTRALINO_WAV_CHILD"); path != "" {
		recordUntilKilled(path)
		return
	}
	path := filepath.Join(t.TempDir(), "rec.wav")
	cmd := exec.Command(os.Args[0], "-test.run=^TestRepairWAVAfterRealKill$")
	cmd.Env = append(os.Environ(), "CENTRALINO_WAV_CHILD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "flushed\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child said %q, %v", line, err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	d, err := RepairWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	// 1.5 s were flushed; the child may have written more before it died.
	if d < 1500*time.Millisecond {
		t.Errorf("recovered %v, want at least 1.5s", d)
	}
	got := readPCM(t, path)
	if !equalSamples(got, ramp(0, len(got))) {
		t.Error("recovered samples differ from those written")
	}
}

// recordUntilKilled is the child of TestRepairWAVAfterRealKill: it flushes
// 1.5 s, says so, and keeps recording until it is killed.
func recordUntilKilled(path string) {
	w, err := CreateWAV(path)
	if err != nil {
		panic(err)
	}
	if err := w.Write(ramp(0, 12000)); err != nil {
		panic(err)
	}
	if err := w.Flush(); err != nil {
		panic(err)
	}
	os.Stdout.WriteString("flushed\n")
	// Go on at a recording's pace until SIGKILL.
	tick := time.NewTicker(20 * time.Millisecond)
	for i := 12000; ; i += 160 {
		if err := w.Write(ramp(i, 160)); err != nil {
			panic(err)
		}
		<-tick.C
	}
}

// BenchmarkWAVWrite is the recorder's share of a packet: 20 ms of audio
// into the writer (flushed to the file once a second).
func BenchmarkWAVWrite(b *testing.B) {
	w, err := CreateWAV(filepath.Join(b.TempDir(), "bench.wav"))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	frame := make([]int16, 160)
	for i := range frame {
		frame[i] = int16(i * 97)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Write(frame); err != nil {
			b.Fatal(err)
		}
	}
}
