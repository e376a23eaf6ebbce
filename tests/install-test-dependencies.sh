#!/usr/bin/env bash
# Installs what the test suite needs beyond the .NET SDK and Node.js: Debian's Chromium, which the dashboard's
# browser tests drive headless through playwright-core (never a browser Playwright downloads itself).
# Idempotent: does nothing when `chromium` is already on PATH. Needs root (apt-get), as on the CI machine.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-dependencies: chromium is missing; run this script as root (it uses apt-get)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium >/dev/null
