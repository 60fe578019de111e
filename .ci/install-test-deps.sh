#!/usr/bin/env bash
# Installs what Centralino's test suite needs on Debian 12, idempotently:
# real SIP peers (sipp, baresip), sox for audio checks, espeak-ng for `say:`,
# and headless Chromium driven through playwright-core (node) for the
# operator console tests. Safe to run again: it only calls apt when a tool is
# missing, and npm only when the browser driver's lock file changed.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
have() { command -v "$1" >/dev/null 2>&1; }
have sipp    || need_pkgs+=(sip-tester)
have baresip || need_pkgs+=(baresip-core)
have sox     || need_pkgs+=(sox)
have espeak-ng || need_pkgs+=(espeak-ng)  # `say:` prompts in the e2e plans
[ -f /usr/share/sip-tester/g711a.pcap ] || need_pkgs+=(sip-tester)
[ -x /usr/bin/chromium ] || need_pkgs+=(chromium)  # the e2e browser driver uses /usr/bin/chromium
have node || need_pkgs+=(nodejs)
have npm  || need_pkgs+=(npm)  # NodeSource's nodejs bundles npm; Debian's does not

if [ ${#need_pkgs[@]} -eq 0 ]; then
  echo "test dependencies: all present"
else
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    have sudo || { echo "need root or sudo to install: ${need_pkgs[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  echo "test dependencies: installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need_pkgs[@]}"
fi

# playwright-core for the e2e browser driver (cmd/centralino/e2e/browser).
# It never downloads a browser: the driver launches Debian's /usr/bin/chromium.
# A stamp with the lock file's hash makes this a no-op when nothing changed.
browser_dir=cmd/centralino/e2e/browser
stamp=$browser_dir/node_modules/.centralino-lock.sha256
lock_sum=$(sha256sum "$browser_dir/package-lock.json" | cut -d' ' -f1)
if [ -d "$browser_dir/node_modules/playwright-core" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$lock_sum" ]; then
  echo "test dependencies: browser driver modules up to date"
else
  echo "test dependencies: npm ci in $browser_dir"
  (cd "$browser_dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --prefer-offline --no-audit --no-fund --loglevel=error)
  echo "$lock_sum" > "$stamp"
fi
