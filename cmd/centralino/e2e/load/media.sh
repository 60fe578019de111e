#!/usr/bin/env bash
# Media load: N concurrent calls that Centralino answers by itself.
#   greeting   each caller listens to a greeting (a WAV file) and hangs
#              up after HOLD seconds, before it ends;
#   voicemail  each caller talks (speech, A-law, sipp's rtp_stream) for
#              HOLD seconds while Centralino plays the voicemail prompt and
#              beep and records the rest.
# A sipp "trunk" on 127.0.0.2 places the N calls at RATE per second, so all
# N are up together for a while. Prints call outcomes, the server's CPU per
# concurrent call (over the window when all N were up, and over the whole
# run per call-second), RSS, heap and goroutines before, at the peak and
# after, and the regularity of the RTP the server sent to a sample of calls
# (tcpdump on lo, read by rtpcheck: gaps, timestamp steps, and how far each
# packet arrived from where its timestamp puts it).
# Usage: media.sh greeting|voicemail N [HOLD]   (HOLD defaults to 10 s)
source "$(dirname "$0")/common.sh"
mode="${1:?usage: media.sh greeting|voicemail N [HOLD]}"; n="${2:?usage: media.sh greeting|voicemail N [HOLD]}"
hold="${3:-10}"; settle="${SETTLE:-30}"
# Set-up takes at most 4 s, so that all N calls are up together for most of
# the hold.
rate="${RATE:-$(( n / 4 > 200 ? n / 4 : 200 ))}"
# sipp and tcpdump run niced: on a real installation the load generator is
# not on the PBX's machine, and here they would otherwise take the CPU the
# PBX's player needs at its instant (sipp alone sends 80,000 packets/s with
# 1,600 talking callers).
load_nice="${LOAD_NICE:-10}"
need tcpdump; need sox
media_port=40000

case "$mode" in
  greeting)
    scenario="$here/uac_listen.xml"
    tenant_rules="    rules:
      - name: greeting
        do:
          - play: {file: $work/greeting.wav}
          - hangup" ;;
  voicemail)
    scenario="$here/uac_speak.xml"
    tenant_rules="    rules:
      - name: voicemail
        do:
          - voicemail: {max_length: 60s}" ;;
  *) echo "mode must be greeting or voicemail" >&2; exit 2 ;;
esac

build
(cd "$repo" && go build -o "$work/rtpcheck" ./cmd/centralino/e2e/load/rtpcheck)
# The audio: Centralino's own Italian prompts, which are speech, joined and
# repeated: the greeting lasts 2 s longer than the callers stay (so they,
# not Centralino, hang up), and what callers say is 10 s of A-law that sipp
# loops.
prompts=("$repo"/media/prompts/{leave-message,invalid,goodbye,status-set,1,2,3,4,5,6,7,8,9}.wav)
sox "${prompts[@]}" -r 8000 -c 1 -b 16 "$work/speech.wav" repeat $((hold / 8 + 2))
sox "$work/speech.wav" "$work/greeting.wav" trim 0 $((hold + 2))
sox "$work/speech.wav" -t al "$work/voice.al" trim 0 10
write_config 1
start_server
cd "$work"

nice -n "$load_nice" tcpdump -i lo -n -s 96 -B 16384 -w "$work/rtp.pcap" \
  "udp and src host 127.0.0.1 and src portrange 20000-29999 and dst host 127.0.0.2 and dst portrange $media_port-$((media_port + 59))" \
  > "$work/tcpdump.out" 2>&1 &
tcpdump_pid=$!
trap 'kill $tcpdump_pid $server_pid 2>/dev/null || true; wait $server_pid 2>/dev/null || true' EXIT
sleep 1

memstats() { curl -s "http://127.0.0.1:$http_port/metrics" | awk '/^go_memstats_.*_bytes / { printf "%s %.1f MB\n", $1, $2 / 1048576 }'; }
[ -n "${HEAP:-}" ] && memstats > "$work/memstats.before"
base_g=$(metric go_goroutines); base_rss=$(rss_mb); base_parts=$(rss_parts); base_heap=$(heap_mb)
hz=$(getconf CLK_TCK)
# sample: one line a second (time, server CPU ticks, active calls,
# goroutines, RSS), with one /metrics request, as cheap as it gets.
sample() {
  curl -s "http://127.0.0.1:$http_port/metrics" | awk -v t="$(date +%s.%N)" -v c="$(cpu_ticks)" -v r="$(rss_mb)" '
    $1 == "centralino_active_calls" { a = $2 } $1 == "go_goroutines" { g = $2 }
    END { print t, c, a, g, r }'
}
# The idle server's CPU under the same sampling, for 10 s: what the calls
# cost is what comes on top of it.
i0=$(cpu_ticks); istart=$(date +%s.%N)
for _ in $(seq 10); do sample > /dev/null; sleep 1; done
i1=$(cpu_ticks); iend=$(date +%s.%N)
t0=$(cpu_ticks); start=$(date +%s.%N)
nice -n "$load_nice" sipp -sf "$scenario" -s +390299000000 -i 127.0.0.2 -p "$sipp_port" -mi 127.0.0.2 -mp "$media_port" -cp 40991 \
  -r "$rate" -m "$n" -l "$n" -d "$((hold * 1000))" -buff_size 4194304 -timeout "$((n / rate + hold + 60))s" \
  -nostdin 127.0.0.1:"$sip_port" > "$work/caller.out" 2>&1 &
caller_pid=$!
# TRACE=S: a Go execution trace of the server's first S seconds under load
# (go tool trace trace.out), to see what delays the player.
[ -n "${TRACE:-}" ] && curl -s -o "$work/trace.out" "http://127.0.0.1:$http_port/debug/pprof/trace?seconds=$TRACE" &
# sipp's own -timeout does not always end it when rtp_stream threads linger:
# bound the run here too.
( sleep "$((n / rate + hold + 90))"; kill -KILL $caller_pid 2>/dev/null && echo "sipp did not exit: killed" >&2 ) &
bound_pid=$!
# One sample a second: time, server CPU ticks, active calls, goroutines.
: > samples
while kill -0 $caller_pid 2>/dev/null; do
  sample >> samples
  sleep 1
done
wait $caller_pid || true
kill $bound_pid 2>/dev/null || true
end=$(date +%s.%N); t1=$(cpu_ticks)
peak_rss=$(hwm_mb)
sleep 2
kill -INT $tcpdump_pid; wait $tcpdump_pid 2>/dev/null || true
sleep "$settle"
# An idle Go program collects garbage only every two minutes: force one,
# then give the runtime's scavenger a few seconds to return the freed pages.
after_g=$(metric go_goroutines); after_heap=$(heap_mb); active=$(metric centralino_active_calls)
sleep 10; after_rss=$(rss_mb); after_parts=$(rss_parts)
# HEAP=1: what the heap still holds after the run (go tool pprof heap.pb.gz).
if [ -n "${HEAP:-}" ]; then
  curl -s -o "$work/heap.pb.gz" "http://127.0.0.1:$http_port/debug/pprof/heap?gc=1"
  memstats > "$work/memstats"
fi
# The player's own view of its timing: how late it woke up for each slot.
curl -s "http://127.0.0.1:$http_port/metrics" | awk '
  /^centralino_playback_wakeup_lateness_seconds_bucket/ { match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5); b[le] = $2 }
  END {
    n = b["+Inf"]; if (n == 0) exit
    printf "  player wake-ups %d: later than 1 ms %.3f%%, 2 ms %.3f%%, 5 ms %.3f%%, 10 ms %d\n", n,
      100 * (n - b["0.001"]) / n, 100 * (n - b["0.002"]) / n, 100 * (n - b["0.005"]) / n, n - b["0.01"]
  }' > "$work/lateness"

ok=$(sipp_stat caller.out "Successful call"); failed=$(sipp_stat caller.out "Failed call")
stored=""
if [ "$mode" = voicemail ]; then
  # Every call's message, with its length: the caller talked for HOLD s,
  # minus the prompt and beep.
  "$work/centralino" voicemail list --config "$work/centralino.yaml" --limit $((n + 100)) --json > voicemails.json
  stored=$(grep -o '"seconds": *[0-9.]*' voicemails.json | awk -F: '{ s = $2 + 0; if (NR == 1 || s < lo) lo = s; if (s > hi) hi = s }
    END { printf "%d (%.1f-%.1f s long)", NR, lo, hi }')
fi
# AGAIN=K: K more runs of the same calls on the same server, to show that
# what stays after a run is not a leak: RSS and goroutines after each.
: > "$work/again"
for i in $(seq "${AGAIN:-0}"); do
  timeout -s KILL "$((n / rate + hold + 90))" nice -n "$load_nice" sipp -sf "$scenario" -s +390299000000 -i 127.0.0.2 -p "$sipp_port" \
    -mi 127.0.0.2 -mp "$media_port" -cp 40991 -r "$rate" -m "$n" -l "$n" -d "$((hold * 1000))" -buff_size 4194304 \
    -timeout "$((n / rate + hold + 60))s" -nostdin 127.0.0.1:"$sip_port" > "$work/caller.again$i.out" 2>&1 || true
  sleep "$settle"; heap_mb > /dev/null; sleep 10
  echo "  after run $((i + 1)): successful $(sipp_stat "caller.again$i.out" "Successful call"), failed $(sipp_stat "caller.again$i.out" "Failed call"); RSS $(rss_mb) MB ($(rss_parts) MB); Go heap $(heap_mb) MB; goroutines $(metric go_goroutines)" >> "$work/again"
done
echo "Media load: $mode, $n calls of $hold s at $rate calls/s"
awk -v hz="$hz" -v n="$n" -v hold="$hold" -v cpu=$((t1 - t0)) -v start="$start" -v end="$end" \
    -v idle=$((i1 - i0)) -v istart="$istart" -v iend="$iend" \
    -v ok="$ok" -v failed="$failed" -v stored="$stored" -v active="$active" -v settle="$settle" \
    -v bparts="$base_parts" -v aparts="$after_parts" -v bg="$base_g" -v ag="$after_g" -v bh="$base_heap" -v ah="$after_heap" -v brss="$base_rss" -v arss="$after_rss" -v peak="$peak_rss" '
{ t[NR] = $1; tick[NR] = $2; act[NR] = $3 + 0; gor[NR] = $4 + 0; rss[NR] = $5
  if (act[NR] > maxact) { maxact = act[NR]; peakg = gor[NR] }
  if (act[NR] >= n) { if (!first) first = NR; last = NR } }
END {
  printf "  successful      %d, failed %d%s\n", ok, failed, stored == "" ? "" : ", voicemails stored " stored
  printf "  peak concurrent %d calls; %d left after\n", maxact, active
  if (first && last > first) {
    d = t[last] - t[first]; c = (tick[last] - tick[first]) / hz
    printf "  CPU, all %d up   %.2f s over %.1f s = %.1f%% of one core, %.4f%% per concurrent call\n", n, c, d, 100 * c / d, 100 * c / d / n
    ic = 100 * idle / hz / (iend - istart)
    printf "  CPU, idle server %.2f%% of one core (with this sampling); the calls on top of it: %.4f%% per concurrent call\n", ic, (100 * c / d - ic) / n
  } else {
    printf "  CPU, all %d up   (never %d up together for two samples: raise RATE or HOLD)\n", n, n
  }
  c = cpu / hz
  printf "  CPU, whole run  %.2f s for %d call-seconds = %.4f%% of one core per call (set-up and tear-down included)\n", c, n * hold, 100 * c / (n * hold)
  printf "  server RSS      %.1f MB before, %.1f MB peak, %.1f MB %d s after (and a GC)\n", brss, peak, arss, settle + 10
  printf "                  before %s MB, after %s MB\n", bparts, aparts
  printf "  Go heap in use  %.1f MB before, %.1f MB %d s after\n", bh, ah, settle
  printf "  goroutines      %d before, %d with %d calls up (%.2f per call), %d %d s after\n", bg, peakg, maxact, maxact ? (peakg - bg) / maxact : 0, ag, settle
}' samples
printf "  RTP sent to the calls on ports %d-%d: " "$media_port" "$((media_port + 59))"
"$work/rtpcheck" -tolerance 2ms "$work/rtp.pcap" | sed '2,$s/^/  /' || true
cat "$work/lateness" "$work/again"
grep -E "packets (dropped|received)" "$work/tcpdump.out" | sed 's/^/  tcpdump: /'
[ "$mode" = voicemail ] && [ -z "${KEEP:-}" ] && rm -rf "$work/data/voicemail"
echo "  (caller: $work/caller.out, samples: $work/samples, capture: $work/rtp.pcap, server log: $work/server.log)"
