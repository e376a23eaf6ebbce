#!/usr/bin/env bash
# Installs what the test suite needs beyond the .NET SDK: Debian's HAProxy (the cluster tests' balancer), Debian's
# Chromium, which the dashboard's browser tests drive headless through playwright-core (never a browser Playwright
# downloads itself), and Node.js with npm (the build's npm ci and the browser driver) where the machine has none.
# Idempotent: does nothing when `chromium`, `haproxy`, `node` and `npm` are on PATH. Needs root (apt-get), as on the
# CI machine.
set -euo pipefail

packages=()
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
# The cluster tests' balancer (tests/Gateway.Cluster.Tests), run by each test on loopback ports of its own.
command -v haproxy >/dev/null 2>&1 || packages+=(haproxy)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
if [ "${#packages[@]}" -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-dependencies: missing ${packages[*]}; run this script as root (it uses apt-get)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
command -v chromium >/dev/null && command -v haproxy >/dev/null && command -v node >/dev/null && command -v npm >/dev/null
