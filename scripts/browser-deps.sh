#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the browser tests (tests/browser).
#
#   scripts/browser-deps.sh
#
# The tests drive /usr/bin/chromium with Playwright; Playwright's own browser download
# (`playwright install`) cannot work here, so it is never used. Installs the `chromium`
# package with apt only when /usr/bin/chromium is missing, which needs root (CI runs as
# root); otherwise it prints the command to run and fails. Safe to call before every run.
set -euo pipefail

chromium=/usr/bin/chromium

if [ -x "$chromium" ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "browser-deps: $chromium is missing; the browser tests need it. Install it with:" >&2
  echo "    sudo apt-get update && sudo apt-get install -y chromium" >&2
  exit 1
fi

echo "browser-deps: installing Debian's chromium for the browser tests..." >&2
started=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q chromium >/dev/null
[ -x "$chromium" ] || { echo "browser-deps: apt installed chromium but $chromium is not there" >&2; exit 1; }
echo "browser-deps: $("$chromium" --version 2>/dev/null || echo chromium) installed in $(( $(date +%s) - started ))s" >&2
