#!/usr/bin/env bash
# Call load with media relay: a sipp "trunk" on 127.0.0.2 calls the load
# tenant's number RATE times per second (TOTAL calls, each lasting HOLD_MS
# while it plays g711a.pcap); the call rings the phone registered as
# extension 10000 (a sipp UAS echoing the audio), so every call sets up two
# legs and relays RTP both ways through the PBX. Prints call outcomes, setup
# times, and the server's CPU, RSS and goroutines before/after.
# Usage: calls.sh [RATE] [TOTAL] [HOLD_MS]
source "$(dirname "$0")/common.sh"
rate="${1:-50}"; total="${2:-1000}"; hold="${3:-8000}"
phone_port=$((sipp_port + 10))

build
write_config 1
start_server
ln -s /usr/share/sip-tester "$work/pcap"
cd "$work"

# The phone registers as 10000 from the port where it will answer.
sipp -sf "$here/register.xml" -inf "$work/users.csv" -au '[field0]' -ap '[field1]' \
  -i 127.0.0.1 -p "$phone_port" -mp 40700 -cp 40889 -m 1 -nostdin 127.0.0.1:"$sip_port" > "$work/register.out" 2>&1
sipp -sf "$here/uas_answer.xml" -i 127.0.0.1 -p "$phone_port" -mi 127.0.0.1 -mp 40800 -cp 40890 \
  -rtp_echo -m "$total" -buff_size 4194304 -timeout "$((total / rate + hold / 1000 + 60))s" -nostdin > "$work/phone.out" 2>&1 &
phone_pid=$!
sleep 0.5

base_g=$(metric go_goroutines); base_rss=$(rss_mb); base_heap=$(heap_mb)
t0=$(cpu_ticks); start=$(date +%s.%N)
sipp -sf "$here/uac_call.xml" -s +390299000000 -i 127.0.0.2 -p "$sipp_port" -mi 127.0.0.2 -mp 40900 -cp 40891 \
  -r "$rate" -m "$total" -d "$hold" -buff_size 4194304 -timeout "$((total / rate + hold / 1000 + 60))s" \
  -trace_rtt -rtt_freq 1 -nostdin 127.0.0.1:"$sip_port" > "$work/caller.out" 2>&1 &
caller_pid=$!
peak_calls=0
while kill -0 $caller_pid 2>/dev/null; do
  c=$(metric centralino_active_calls); c=${c%.*}
  [ -n "$c" ] && [ "$c" -gt "$peak_calls" ] && peak_calls=$c
  sleep 1
done
wait $caller_pid || true
end=$(date +%s.%N); t1=$(cpu_ticks)
wait $phone_pid || true
peak_rss=$(hwm_mb)
sleep "${SETTLE:-60}"
[ -n "${HEAPDUMP:-}" ] && curl -s "http://127.0.0.1:$http_port/debug/pprof/heap?gc=1" > "$work/heap.pprof"
after_g=$(metric go_goroutines); after_rss=$(rss_mb); after_heap=$(heap_mb); active=$(metric centralino_active_calls)

ok=$(sipp_stat caller.out "Successful call"); failed=$(sipp_stat caller.out "Failed call")
retrans=$(grep -E -- '---------->' caller.out | sed 's/[BE]-RTD[0-9]*//' | awk '{ s += $4 } END { print s + 0 }')
# INVITE→200 times per call (ms), from sipp's -trace_rtt file.
rtd=$(awk -F';' 'FNR > 1 && $2 != "" { print $2 }' uac_call_*_rtt.csv 2>/dev/null | sort -n | awk '{ v[NR] = $1; s += $1 } END { if (NR == 0) exit; p = int(NR * 0.99); if (p < 1) p = 1; printf "avg %.1f ms, p99 %d ms, max %d ms (sipp counts whole ms)", s / NR, v[p], v[NR] }')
hz=$(getconf CLK_TCK)
awk -v ok="$ok" -v failed="$failed" -v retrans="$retrans" -v start="$start" -v end="$end" -v rtd="$rtd" \
    -v cpu=$((t1 - t0)) -v hz="$hz" -v rate="$rate" -v hold="$hold" -v peak_calls="$peak_calls" -v active="$active" \
    -v bg="$base_g" -v ag="$after_g" -v bh="$base_heap" -v ah="$after_heap" -v settle="${SETTLE:-60}" -v brss="$base_rss" -v arss="$after_rss" -v peak="$peak_rss" 'BEGIN {
  d = end - start
  printf "Call load: %d calls/s target, %d ms each, %.1f s\n", rate, hold, d
  printf "  successful      %d (%.1f setups/s)\n", ok, ok / (d - hold / 1000)
  printf "  failed          %d\n", failed
  printf "  retransmissions %d (caller side)\n", retrans
  printf "  INVITE to 200   %s (caller side: the PBX forks to the phone, which answers at once)\n", rtd
  printf "  peak concurrent %d calls (centralino_active_calls); %d left after\n", peak_calls, active
  printf "  server CPU      %.1f s (%.0f%% of one core over the run)\n", cpu / hz, 100 * cpu / hz / d
  printf "  server RSS      %.1f MB before, %.1f MB peak, %.1f MB %d s after\n", brss, peak, arss, settle
  printf "  Go heap in use  %.1f MB before, %.1f MB %d s after\n", bh, ah, settle
  printf "  goroutines      %d before, %d %d s after\n", bg, ag, settle
}'
echo "  (caller: $work/caller.out, phone: $work/phone.out, server log: $work/server.log)"
