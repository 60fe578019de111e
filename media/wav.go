package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/zaf/g711"
)

// WAVE format tags (the fmt chunk's wFormatTag) that matter here.
const (
	wavFormatPCM        = 0x0001
	wavFormatFloat      = 0x0003
	wavFormatALaw       = 0x0006
	wavFormatMuLaw      = 0x0007
	wavFormatMP3        = 0x0055
	wavFormatExtensible = 0xfffe
)

const (
	// wavHeaderSize is the canonical header CreateWAV writes: RIFF, a
	// 16-byte fmt chunk and the data chunk's header.
	wavHeaderSize = 44
	// wavMaxFmtChunk bounds the fmt chunk we read; real ones are 16 to 40
	// bytes, and a corrupt size must not make us allocate gigabytes.
	wavMaxFmtChunk = 1024
	// wavDataToEOF is the data size streaming writers put when they do not
	// know it; the data then runs to the end of the file.
	wavDataToEOF = 0xffffffff
	// minPromptRate is the lowest input rate accepted: prompts are only
	// ever resampled down, to the 8 kHz of G.711.
	minPromptRate = pcmRate
	// maxPromptRate covers every common audio rate (up to 192 kHz).
	maxPromptRate = 192000
	// wavMaxChannels is 7.1 surround, the most a WAV file is likely to
	// carry; all channels are mixed down.
	wavMaxChannels = 8
)

// wavSubformatSuffix is the tail shared by the KSDATAFORMAT_SUBTYPE GUIDs of
// WAVE_FORMAT_EXTENSIBLE; their first two bytes are the plain format tag.
var wavSubformatSuffix = [14]byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71}

// wavFormat is what the fmt chunk says.
type wavFormat struct {
	tag        uint16 // after resolving WAVE_FORMAT_EXTENSIBLE
	channels   int
	rate       int
	blockAlign int
	bits       int
}

// DecodeWAV reads a WAV file and converts it to a prompt: 8 kHz mono,
// encoded once in PCMA and PCMU. It accepts 16-bit PCM at any rate from
// 8 kHz to 192 kHz (resampled with a windowed-sinc low-pass filter, see
// resample), A-law and µ-law (format 6 and 7), mono, stereo or up to eight
// channels (mixed down to their mean), in a plain or a
// WAVE_FORMAT_EXTENSIBLE fmt chunk. Anything else, and
// files cut short inside a header or the audio, are errors that say what is
// wrong.
func DecodeWAV(r io.Reader) (*Prompt, error) {
	format, data, err := readWAV(r)
	if err != nil {
		return nil, err
	}
	samples := wavToMono(format, data)
	if len(samples) == 0 {
		return nil, errors.New("wav: no audio samples")
	}
	if format.rate != pcmRate {
		if samples, err = resample(samples, format.rate, pcmRate); err != nil {
			return nil, fmt.Errorf("wav: %w", err)
		}
	}
	return PromptFromPCM(samples), nil
}

// readWAV parses the RIFF structure up to the data chunk and returns the
// format and the audio bytes, whole frames only.
func readWAV(r io.Reader) (wavFormat, []byte, error) {
	var hdr [12]byte
	if n, err := io.ReadFull(r, hdr[:]); err != nil {
		if n == 0 && errors.Is(err, io.EOF) {
			return wavFormat{}, nil, errors.New("wav: empty file")
		}
		if n < 4 || string(hdr[:4]) != "RIFF" {
			return wavFormat{}, nil, notWAV(hdr[:n])
		}
		return wavFormat{}, nil, errors.New("wav: truncated riff header")
	}
	if string(hdr[:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return wavFormat{}, nil, notWAV(hdr[:])
	}
	var (
		format  wavFormat
		haveFmt bool
	)
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			if haveFmt {
				return wavFormat{}, nil, errors.New("wav: no data chunk")
			}
			return wavFormat{}, nil, errors.New("wav: no fmt chunk")
		}
		id, size := string(ch[:4]), binary.LittleEndian.Uint32(ch[4:])
		switch id {
		case "fmt ":
			if size < 16 || size > wavMaxFmtChunk {
				return wavFormat{}, nil, fmt.Errorf("wav: fmt chunk of %d bytes is invalid", size)
			}
			buf := make([]byte, size)
			if _, err := io.ReadFull(r, buf); err != nil {
				return wavFormat{}, nil, errors.New("wav: truncated fmt chunk")
			}
			if size&1 == 1 {
				// The pad byte; if it is missing, the next read fails.
				_, _ = io.ReadFull(r, make([]byte, 1))
			}
			f, err := parseWAVFormat(buf)
			if err != nil {
				return wavFormat{}, nil, err
			}
			format, haveFmt = f, true
		case "data":
			if !haveFmt {
				return wavFormat{}, nil, errors.New("wav: data chunk before fmt chunk")
			}
			data, err := readWAVData(r, size)
			if err != nil {
				return wavFormat{}, nil, err
			}
			return format, data[:len(data)-len(data)%format.blockAlign], nil
		default:
			if _, err := io.CopyN(io.Discard, r, int64(size)+int64(size&1)); err != nil {
				return wavFormat{}, nil, fmt.Errorf("wav: truncated %q chunk", id)
			}
		}
	}
}

// readWAVData reads a data chunk of the declared size. It grows its buffer
// as bytes actually arrive, so a corrupt size costs no more than the file.
func readWAVData(r io.Reader, size uint32) ([]byte, error) {
	if size == wavDataToEOF {
		data, err := io.ReadAll(r)
		if err != nil {
			return nil, fmt.Errorf("wav: read data: %w", err)
		}
		return data, nil
	}
	data, err := io.ReadAll(io.LimitReader(r, int64(size)))
	if err != nil {
		return nil, fmt.Errorf("wav: read data: %w", err)
	}
	if len(data) < int(size) {
		return nil, fmt.Errorf("wav: truncated: data chunk declares %d bytes, file has %d", size, len(data))
	}
	return data, nil
}

// parseWAVFormat checks a fmt chunk and keeps what the decoder needs.
func parseWAVFormat(b []byte) (wavFormat, error) {
	f := wavFormat{
		tag:        binary.LittleEndian.Uint16(b[0:]),
		channels:   int(binary.LittleEndian.Uint16(b[2:])),
		rate:       int(binary.LittleEndian.Uint32(b[4:])),
		blockAlign: int(binary.LittleEndian.Uint16(b[12:])),
		bits:       int(binary.LittleEndian.Uint16(b[14:])),
	}
	if f.tag == wavFormatExtensible {
		// WAVEFORMATEXTENSIBLE: cbSize(2) validBits(2) channelMask(4) GUID(16).
		if len(b) < 40 || binary.LittleEndian.Uint16(b[16:]) < 22 {
			return wavFormat{}, errors.New("wav: extensible fmt chunk too short")
		}
		if !bytes.Equal(b[26:40], wavSubformatSuffix[:]) {
			return wavFormat{}, errors.New("wav: extensible subformat is not a known audio format")
		}
		f.tag = binary.LittleEndian.Uint16(b[24:])
		if valid := int(binary.LittleEndian.Uint16(b[18:])); valid != 0 && valid != f.bits {
			return wavFormat{}, fmt.Errorf("wav: %d-bit samples in %d-bit containers are not supported (want 16-bit PCM, A-law or µ-law)", valid, f.bits)
		}
	}
	switch f.tag {
	case wavFormatPCM:
		if f.bits != 16 {
			return wavFormat{}, fmt.Errorf("wav: %d-bit PCM is not supported (want 16-bit PCM, A-law or µ-law)", f.bits)
		}
	case wavFormatALaw, wavFormatMuLaw:
		if f.bits != 8 {
			return wavFormat{}, fmt.Errorf("wav: G.711 with %d bits per sample is invalid", f.bits)
		}
	case wavFormatFloat:
		return wavFormat{}, errors.New("wav: 32-bit float samples are not supported (want 16-bit PCM, A-law or µ-law)")
	case wavFormatMP3:
		return wavFormat{}, errors.New("wav: MP3 audio inside WAV is not supported (want 16-bit PCM, A-law or µ-law)")
	default:
		return wavFormat{}, fmt.Errorf("wav: audio format 0x%04x is not supported (want 16-bit PCM, A-law or µ-law)", f.tag)
	}
	if f.channels < 1 || f.channels > wavMaxChannels {
		return wavFormat{}, fmt.Errorf("wav: %d channels are not supported (want 1 to %d)", f.channels, wavMaxChannels)
	}
	if f.rate < minPromptRate || f.rate > maxPromptRate {
		return wavFormat{}, fmt.Errorf("wav: sample rate %d Hz is not supported (want %d to %d Hz)", f.rate, minPromptRate, maxPromptRate)
	}
	if want := f.channels * f.bits / 8; f.blockAlign != want {
		return wavFormat{}, fmt.Errorf("wav: block align %d does not match %d channels of %d bits", f.blockAlign, f.channels, f.bits)
	}
	return f, nil
}

// notWAV explains what a file that is not RIFF/WAVE seems to be: the usual
// mistake is an MP3 renamed, or another container.
func notWAV(head []byte) error {
	switch {
	case bytes.HasPrefix(head, []byte("ID3")) || len(head) >= 2 && head[0] == 0xff && head[1]&0xe0 == 0xe0:
		return errors.New("wav: this is an MP3 file, not WAV: convert it to WAV (e.g. sox in.mp3 -r 8000 -c 1 -b 16 out.wav)")
	case bytes.HasPrefix(head, []byte("OggS")):
		return errors.New("wav: this is an Ogg file, not WAV")
	case bytes.HasPrefix(head, []byte("fLaC")):
		return errors.New("wav: this is a FLAC file, not WAV")
	case bytes.HasPrefix(head, []byte("RIFX")) || bytes.HasPrefix(head, []byte("RF64")):
		return fmt.Errorf("wav: %s files are not supported", head[:4])
	}
	return errors.New("wav: not a WAV file (no RIFF/WAVE header)")
}

// wavToMono decodes whole frames of data to 16-bit PCM, mixing the
// channels down to their mean.
func wavToMono(f wavFormat, data []byte) []int16 {
	n := len(data) / f.blockAlign
	out := make([]int16, n)
	for i := range out {
		frame := data[i*f.blockAlign:]
		sum := 0
		for c := range f.channels {
			switch f.tag {
			case wavFormatPCM:
				sum += int(int16(binary.LittleEndian.Uint16(frame[2*c:])))
			case wavFormatALaw:
				sum += int(g711.DecodeAlawFrame(frame[c]))
			case wavFormatMuLaw:
				sum += int(g711.DecodeUlawFrame(frame[c]))
			}
		}
		out[i] = int16(sum / f.channels)
	}
	return out
}
