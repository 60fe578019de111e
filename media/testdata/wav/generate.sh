#!/bin/sh
# Regenerates the WAV fixtures of the prompt decoder's tests (wav_test.go):
# 250 ms of a 1 kHz sine peaking at -6 dBFS (RMS -9 dBFS) in every format
# DecodeWAV accepts, plus formats it must refuse. SoX 14.4.2; -D (no
# dither) keeps the output byte-for-byte reproducible.
set -eu
tone="synth 0.25 sine 1000 gain -6"
for rate in 8000 16000 22050 44100 48000; do
	sox -D -n -r $rate -c 1 -b 16 pcm$rate-mono.wav $tone
	sox -D -n -r $rate -c 2 -b 16 pcm$rate-stereo.wav $tone
done
# Left channel only: the mono mix is 6 dB lower.
sox -D -n -r 44100 -c 2 -b 16 pcm44100-left.wav $tone remix 1 0
sox -D -n -r 8000 -c 1 -e a-law alaw8000-mono.wav $tone
sox -D -n -r 8000 -c 2 -e a-law alaw8000-stereo.wav $tone
sox -D -n -r 8000 -c 1 -e u-law ulaw8000-mono.wav $tone
sox -D -n -r 16000 -c 1 -e u-law ulaw16000-mono.wav $tone
# SoX writes more than two channels as WAVE_FORMAT_EXTENSIBLE.
sox -D -n -r 48000 -c 3 -b 16 pcm48000-3ch.wav $tone
# Refused: 24-bit PCM (extensible too), 32-bit float, 8-bit PCM.
sox -D -n -r 8000 -c 1 -b 24 pcm24.wav synth 0.05 sine 1000
sox -D -n -r 8000 -c 1 -e floating-point -b 32 float32.wav synth 0.05 sine 1000
sox -D -n -r 8000 -c 1 -b 8 pcm8bit.wav synth 0.05 sine 1000
