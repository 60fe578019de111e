# Shared helpers for the load scripts: build the binary, write a config
# with N extensions, start and measure the server. Sourced, not run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../../.." && pwd)"
work="$(mktemp -d /tmp/centralino-load.XXXXXX)"
sip_port="${SIP_PORT:-17060}"
http_port="${HTTP_PORT:-17080}"
sipp_port="${SIPP_PORT:-17061}"

need() { command -v "$1" >/dev/null || { echo "missing $1: run .ci/install-test-deps.sh" >&2; exit 1; }; }
need sipp; need go; need curl

build() {
  (cd "$repo" && go build -o "$work/centralino" ./cmd/centralino)
}

# write_config N: extensions 10000.. with passwords pw<number>, one tenant
# (+390299000000) whose only extension is 10000, and the demo IP trunk.
# $tenant_rules, when set, is appended to the tenant (YAML indented by 4).
write_config() {
  local n="$1" i
  {
    echo "sip:"
    echo "  listen: 127.0.0.1:$sip_port"
    echo "rtp:"
    echo "  ports: 20000-29999"
    echo "http:"
    echo "  listen: 127.0.0.1:$http_port"
    echo "data: $work/data"
    echo "log:"
    echo "  level: warn"
    echo "trunks:"
    echo "  - name: load"
    echo "    mode: ip"
    echo "    allow: [127.0.0.2/32]"
    echo "    default_tenant: load"
    echo "extensions:"
    for ((i = 10000; i < 10000 + n; i++)); do
      echo "  - number: \"$i\""
      echo "    password: pw$i"
    done
    echo "tenants:"
    echo "  - id: load"
    echo "    name: Load"
    echo "    numbers: [\"+390299000000\"]"
    echo "    extensions: [\"10000\"]"
    [ -z "${tenant_rules:-}" ] || echo "$tenant_rules"
  } > "$work/centralino.yaml"
  { echo "SEQUENTIAL"; for ((i = 10000; i < 10000 + n; i++)); do echo "$i;pw$i"; done; } > "$work/users.csv"
}

start_server() {
  "$work/centralino" serve --config "$work/centralino.yaml" > "$work/server.log" 2>&1 &
  server_pid=$!
  trap 'kill $server_pid 2>/dev/null || true; wait $server_pid 2>/dev/null || true' EXIT
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$http_port/healthz" >/dev/null && return 0
    sleep 0.1
  done
  echo "server did not start:" >&2; cat "$work/server.log" >&2; exit 1
}

# metric NAME: a value from /metrics.
metric() { curl -s "http://127.0.0.1:$http_port/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

# heap_mb: live Go heap after a forced collection (an idle server does not
# collect by itself, so the plain metric would count garbage too).
heap_mb() {
  curl -s -o /dev/null "http://127.0.0.1:$http_port/debug/pprof/heap?gc=1"
  metric go_memstats_heap_inuse_bytes | awk '{ printf "%.1f", $1 / 1048576 }'
}

# cpu_ticks: user+system clock ticks the server has used so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }
rss_mb() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status"; }
# rss_parts: anonymous memory (the process's own) and file-backed pages
# (the binary's code as it gets used, the mapped database), in MB.
rss_parts() { awk '/RssAnon/ { a = $2 } /RssFile/ { f = $2 } END { printf "anon %.1f + file %.1f", a / 1024, f / 1024 }' "/proc/$server_pid/status"; }
hwm_mb() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status"; }

# sipp_stat FILE LABEL: a cumulative counter from sipp's final statistics screen.
sipp_stat() { grep -E "^ *$2 " "$1" | tail -1 | awk -F'|' '{ gsub(/ /, "", $3); print $3 }'; }
