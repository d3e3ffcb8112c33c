#!/usr/bin/env bash
# Install everything the tests need, then run the whole suite: unit, property, doctests,
# AppTest and the end-to-end tests in headless Chromium. The README and .ci/run both call this.
set -euo pipefail
cd "$(dirname "$0")/.."

# The browser tests drive Debian's Chromium (never a download); the deploy test, Debian's HAProxy;
# the classroom store's tests, Debian's PostgreSQL server binaries. The tests start their own
# throwaway cluster (harness/postgres.py), so Debian's own cluster service is never started.
if [ ! -x /usr/bin/chromium ] || ! command -v haproxy >/dev/null \
    || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  # A policy-rc.d that exits 101 keeps the packages from starting their services as they
  # install (Debian's PostgreSQL would start a cluster on port 5432); removed right after.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod +x "$policy"
    trap '$SUDO rm -f "$policy"' EXIT
  fi
  $SUDO apt-get install -y -q chromium chromium-driver haproxy postgresql
  if [ "$(trap -p EXIT)" ]; then $SUDO rm -f "$policy"; trap - EXIT; fi
fi
python3 -m pip install -q --disable-pip-version-check -r requirements-verify.txt  # dev + torch (CPU)
exec python3 -m pytest "$@"
