#!/usr/bin/env bash
# Installs what Centralino's test suite needs on Debian 12, idempotently:
# real SIP peers (sipp, baresip), sox for audio checks, espeak-ng for `say:`. Safe to run again;
# it only calls apt when something is missing.
set -euo pipefail

need_pkgs=()
have() { command -v "$1" >/dev/null 2>&1; }
have sipp    || need_pkgs+=(sip-tester)
have baresip || need_pkgs+=(baresip-core)
have sox     || need_pkgs+=(sox)
have espeak-ng || need_pkgs+=(espeak-ng)  # `say:` prompts in the e2e plans
[ -f /usr/share/sip-tester/g711a.pcap ] || need_pkgs+=(sip-tester)

if [ ${#need_pkgs[@]} -eq 0 ]; then
  echo "test dependencies: all present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  have sudo || { echo "need root or sudo to install: ${need_pkgs[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "test dependencies: installing ${need_pkgs[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need_pkgs[@]}"
