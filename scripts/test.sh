#!/usr/bin/env bash
# Install everything the tests need, then run the whole suite: unit, property, doctests,
# AppTest and the end-to-end tests in headless Chromium. The README and .ci/run both call this.
set -euo pipefail
cd "$(dirname "$0")/.."

# The browser tests drive Debian's Chromium (never a download); the deploy test, Debian's HAProxy.
if [ ! -x /usr/bin/chromium ] || ! command -v haproxy >/dev/null; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q chromium chromium-driver haproxy
fi
python3 -m pip install -q --disable-pip-version-check -r requirements-verify.txt  # dev + torch (CPU)
exec python3 -m pytest "$@"
