#!/usr/bin/env bash
# REGISTER load: RATE registrations per second (each a 401 challenge and a
# digest-authenticated REGISTER, i.e. two transactions) for SECONDS, from
# USERS distinct extensions, over UDP on loopback. Prints what sipp saw
# (successes, failures, retransmissions) and what the server spent (CPU,
# RSS, goroutines before/after). Usage: register.sh [RATE] [SECONDS] [USERS]
source "$(dirname "$0")/common.sh"
rate="${1:-6000}"; seconds="${2:-60}"; users="${3:-5000}"
total=$((rate * seconds))

build
write_config "$users"
start_server
base_g=$(metric go_goroutines); base_rss=$(rss_mb); base_heap=$(heap_mb)
t0=$(cpu_ticks); start=$(date +%s.%N)
sipp -sf "$here/register.xml" -inf "$work/users.csv" -au '[field0]' -ap '[field1]' \
  -i 127.0.0.1 -p "$sipp_port" -mp 40600 -cp 40888 -r "$rate" -m "$total" -buff_size 4194304 \
  -timeout "$((seconds + 60))s" -nostdin 127.0.0.1:"$sip_port" > "$work/sipp.out" 2>&1 || true
end=$(date +%s.%N); t1=$(cpu_ticks)
peak_rss=$(hwm_mb)
sleep "${SETTLE:-60}"
after_g=$(metric go_goroutines); after_rss=$(rss_mb); after_heap=$(heap_mb)

ok=$(sipp_stat "$work/sipp.out" "Successful call"); failed=$(sipp_stat "$work/sipp.out" "Failed call")
retrans=$(grep -E '^ +REGISTER ---------->' "$work/sipp.out" | awk '{ s += $4 } END { print s + 0 }')
hz=$(getconf CLK_TCK)
awk -v ok="$ok" -v failed="$failed" -v retrans="$retrans" -v start="$start" -v end="$end" \
    -v cpu=$((t1 - t0)) -v hz="$hz" -v rate="$rate" -v users="$users" \
    -v bg="$base_g" -v ag="$after_g" -v bh="$base_heap" -v ah="$after_heap" -v settle="${SETTLE:-60}" -v brss="$base_rss" -v arss="$after_rss" -v peak="$peak_rss" 'BEGIN {
  d = end - start
  printf "REGISTER load: target %d/s, %d users, %.1f s\n", rate, users, d
  printf "  successful      %d (%.0f/s)\n", ok, ok / d
  printf "  failed          %d\n", failed
  printf "  retransmissions %d\n", retrans
  printf "  server CPU      %.1f s (%.0f%% of one core; %.1f us per REGISTER)\n", cpu / hz, 100 * cpu / hz / d, 1e6 * cpu / hz / (ok > 0 ? ok : 1)
  printf "  server RSS      %.1f MB before, %.1f MB peak, %.1f MB %d s after\n", brss, peak, arss, settle
  printf "  Go heap in use  %.1f MB before, %.1f MB %d s after\n", bh, ah, settle
  printf "  goroutines      %d before, %d %d s after\n", bg, ag, settle
}'
echo "  (sipp output: $work/sipp.out, server log: $work/server.log)"
