#!/usr/bin/env bash
# Debian's Chromium for the dashboard's browser test (test/dashboard.test.ts drives it with
# playwright-core). Idempotent: does nothing when /usr/bin/chromium exists. Uses the machine's
# configured apt sources only (bookworm); needs root to install. Prints the version last.
set -euo pipefail

bin=/usr/bin/chromium
log() { echo "install-chromium: $*" >&2; }

if [[ ! -x "$bin" ]]; then
  [[ $(id -u) == 0 ]] || { log "need root to apt-get install chromium"; exit 1; }
  log "installing Debian's chromium with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends chromium
else
  log "present: $bin"
fi
# The wrapper script prints a shell warning on some hosts; keep only the version line.
"$bin" --version 2>/dev/null | tail -n 1
