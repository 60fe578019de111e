#!/bin/sh
# Regenerates Centralino's default prompts (see README.md): speech with
# espeak-ng, then trimmed, normalised and converted to 8 kHz mono 16-bit
# WAV with SoX. Run from this folder: ./generate.sh
set -eu

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# say VOICE OUT TEXT: speak TEXT, trim the silence at both ends (below
# -45 dBFS), resample to 8 kHz with SoX's high-quality filter and peak at -3 dBFS.
say() {
	espeak-ng -v "$1" -s 160 -w "$tmp/raw.wav" "$3"
	sox -D "$tmp/raw.wav" -c 1 -b 16 "$2" \
		silence 1 0.01 -45d reverse silence 1 0.01 -45d reverse \
		rate -v 8000 gain -n -3
}

# The beep: 1 kHz sine, 250 ms, -12 dBFS, 5 ms fade in and out.
sox -D -n -r 8000 -c 1 -b 16 beep.wav synth 0.25 sine 1000 gain -12 fade t 0.005 0.25 0.005

say it leave-message.wav "Lasciate un messaggio dopo il segnale acustico."
say it invalid.wav "Scelta non valida."
say it goodbye.wav "Arrivederci."
say it status-set.wav "Stato aggiornato."
set -- zero uno due tre quattro cinque sei sette otto nove
for n in 0 1 2 3 4 5 6 7 8 9; do
	say it "$n.wav" "$1"
	shift
done

say en-us en/leave-message.wav "Please leave a message after the tone."
say en-us en/invalid.wav "Invalid choice."
say en-us en/goodbye.wav "Goodbye."
say en-us en/status-set.wav "Status updated."
set -- zero one two three four five six seven eight nine
for n in 0 1 2 3 4 5 6 7 8 9; do
	say en-us "en/$n.wav" "$1"
	shift
done
