package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// wavFlushSamples is how much audio WAVWriter buffers: one second, so that a
// crash loses at most the last second, for two small writes per second.
const wavFlushSamples = pcmRate

// wavMaxData keeps the RIFF size (data + 36) within 32 bits: about 74
// hours of 8 kHz 16-bit audio.
const wavMaxData = 0xffffffff - (wavHeaderSize - 8)

// WAVWriter records 8 kHz mono 16-bit PCM to a WAV file incrementally and
// crash-safely: audio reaches the file at least once per second of audio,
// and every time it does the header's sizes are patched to match, so the
// file is a valid WAV up to the last flush whatever happens to the
// process afterwards. (A crash between the two writes leaves a header that
// is a second short, which RepairWAV fixes.)
//
// It is not safe for concurrent use.
type WAVWriter struct {
	f       *os.File
	path    string
	buf     []byte // pending little-endian samples, up to wavFlushSamples
	data    int64  // bytes of audio in the file
	samples int64  // samples written, flushed or not
	size    [4]byte
	closed  bool
}

// CreateWAV creates (or truncates) the file at path and writes the header
// of an empty recording.
func CreateWAV(path string) (*WAVWriter, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return nil, fmt.Errorf("create wav: %w", err)
	}
	w := &WAVWriter{f: f, path: path, buf: make([]byte, 0, 2*wavFlushSamples)}
	if _, err := f.Write(wavHeader(0)); err != nil {
		f.Close()
		return nil, fmt.Errorf("create wav %s: %w", path, err)
	}
	return w, nil
}

// wavHeader is the canonical 44-byte header of dataBytes of 8 kHz mono
// 16-bit PCM.
func wavHeader(dataBytes uint32) []byte {
	h := make([]byte, wavHeaderSize)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], dataBytes+wavHeaderSize-8)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], wavFormatPCM)
	binary.LittleEndian.PutUint16(h[22:], 1)         // mono
	binary.LittleEndian.PutUint32(h[24:], pcmRate)   // sample rate
	binary.LittleEndian.PutUint32(h[28:], 2*pcmRate) // byte rate
	binary.LittleEndian.PutUint16(h[32:], 2)         // block align
	binary.LittleEndian.PutUint16(h[34:], 16)        // bits per sample
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], dataBytes)
	return h
}

// Write appends samples. It writes to the file each time a second of audio
// is buffered.
func (w *WAVWriter) Write(samples []int16) error {
	if w.closed {
		return fmt.Errorf("write wav %s: %w", w.path, os.ErrClosed)
	}
	for len(samples) > 0 {
		n := min(len(samples), cap(w.buf)/2-len(w.buf)/2)
		for _, s := range samples[:n] {
			w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(s))
		}
		w.samples += int64(n)
		samples = samples[n:]
		if len(w.buf) == cap(w.buf) {
			if err := w.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Flush writes the buffered audio, then patches the header's RIFF and data
// sizes to cover everything in the file.
func (w *WAVWriter) Flush() error {
	if w.closed {
		return nil
	}
	if len(w.buf) > 0 {
		if w.data+int64(len(w.buf)) > wavMaxData {
			return fmt.Errorf("write wav %s: recording too long for a wav file", w.path)
		}
		n, err := w.f.WriteAt(w.buf, wavHeaderSize+w.data)
		w.data += int64(n)
		w.buf = w.buf[:0]
		if err != nil {
			return fmt.Errorf("write wav %s: %w", w.path, err)
		}
	}
	return w.patchSizes()
}

// patchSizes writes the two size fields of the header for w.data bytes of
// audio.
func (w *WAVWriter) patchSizes() error {
	binary.LittleEndian.PutUint32(w.size[:], uint32(w.data+wavHeaderSize-8))
	if _, err := w.f.WriteAt(w.size[:], 4); err != nil {
		return fmt.Errorf("write wav %s: header: %w", w.path, err)
	}
	binary.LittleEndian.PutUint32(w.size[:], uint32(w.data))
	if _, err := w.f.WriteAt(w.size[:], 40); err != nil {
		return fmt.Errorf("write wav %s: header: %w", w.path, err)
	}
	return nil
}

// Duration returns how much audio was written, flushed or not.
func (w *WAVWriter) Duration() time.Duration {
	return time.Duration(w.samples) * time.Second / pcmRate
}

// Close flushes, syncs the file to disk and closes it. Later calls do
// nothing and return nil.
func (w *WAVWriter) Close() error {
	if w.closed {
		return nil
	}
	err := w.Flush()
	w.closed = true
	if serr := w.f.Sync(); serr != nil && err == nil {
		err = fmt.Errorf("sync wav %s: %w", w.path, serr)
	}
	if cerr := w.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close wav %s: %w", w.path, cerr)
	}
	return err
}

// RepairWAV makes the header of a WAV file whose writer did not close it
// (the process was killed) match the audio that reached the disk: the data
// chunk is taken to run to the end of the file, cut to whole sample frames,
// and the RIFF and data sizes are rewritten. It returns the audio's
// duration. It is harmless on a file that needs no repair. The data chunk
// must be the file's last chunk, as WAVWriter writes it.
func RepairWAV(path string) (time.Duration, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("repair wav: %w", err)
	}
	d, err := repairWAV(f)
	if cerr := f.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("repair wav %s: %w", path, err)
	}
	return d, nil
}

func repairWAV(f *os.File) (time.Duration, error) {
	info, err := f.Stat()
	if err != nil {
		return 0, err
	}
	size := info.Size()
	if size < wavHeaderSize {
		return 0, fmt.Errorf("%d bytes is too short for a wav header", size)
	}
	var hdr [12]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return 0, err
	}
	if string(hdr[:4]) != "RIFF" || string(hdr[8:]) != "WAVE" {
		return 0, errors.New("not a wav file")
	}
	// Walk the chunks to the data chunk's header.
	var (
		format  wavFormat
		haveFmt bool
		off     int64 = 12
	)
	for {
		var ch [8]byte
		if _, err := f.ReadAt(ch[:], off); err != nil {
			if errors.Is(err, io.EOF) {
				return 0, errors.New("no data chunk")
			}
			return 0, err
		}
		chSize := int64(binary.LittleEndian.Uint32(ch[4:]))
		if string(ch[:4]) == "data" {
			break
		}
		if string(ch[:4]) == "fmt " {
			if chSize < 16 || chSize > wavMaxFmtChunk {
				return 0, fmt.Errorf("fmt chunk of %d bytes is invalid", chSize)
			}
			b := make([]byte, chSize)
			if _, err := f.ReadAt(b, off+8); err != nil {
				return 0, errors.New("truncated fmt chunk")
			}
			if format, err = parseWAVFormat(b); err != nil {
				return 0, err
			}
			haveFmt = true
		}
		off += 8 + chSize + chSize&1
	}
	if !haveFmt {
		return 0, errors.New("no fmt chunk before the data")
	}
	start := off + 8
	data := max(size-start, 0)
	data -= data % int64(format.blockAlign)
	if data > wavMaxData-(start-wavHeaderSize) {
		return 0, errors.New("data too long for a wav file")
	}
	if err := f.Truncate(start + data); err != nil {
		return 0, err
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(start+data-8))
	if _, err := f.WriteAt(b[:], 4); err != nil {
		return 0, err
	}
	binary.LittleEndian.PutUint32(b[:], uint32(data))
	if _, err := f.WriteAt(b[:], off+4); err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	frames := data / int64(format.blockAlign)
	return time.Duration(frames) * time.Second / time.Duration(format.rate), nil
}
